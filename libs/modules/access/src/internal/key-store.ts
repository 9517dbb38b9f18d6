import { randomUUID } from 'node:crypto';
import { notFound, statement, type Sql } from '@tally/platform';
import { type NewKey, type Scope } from './keys.js';

/** An API key as operators see it: never the key itself. */
export interface ApiKey {
  readonly id: string;
  readonly tenant: string;
  readonly scopes: readonly Scope[];
  /** The first characters of the key, to tell keys apart. */
  readonly hint: string;
  readonly createTime: Date;
  /** Set once revoked: the key is refused from then on. */
  readonly revokeTime: Date | undefined;
}

/** What a request's key grants: who it acts for and what it may do. */
export interface KeyGrant {
  readonly keyId: string;
  readonly tenant: string;
  readonly scopes: ReadonlySet<Scope>;
}

interface KeyRow {
  id: string;
  tenant: string;
  scopes: string[];
  hint: string;
  create_time: Date;
  revoke_time: Date | null;
}

const COLUMNS = 'id, tenant, scopes, hint, create_time, revoke_time';
const INSERT = statement(
  'access_key_insert',
  `insert into access.api_key (id, tenant, scopes, key_hash, hint) values ($1, $2, $3::text[], $4, $5) returning ${COLUMNS}`,
);
const LIST = statement('access_key_list', `select ${COLUMNS} from access.api_key order by create_time, id`);
const REVOKE = statement(
  'access_key_revoke',
  `update access.api_key set revoke_time = coalesce(revoke_time, now()) where id = $1 returning ${COLUMNS}`,
);
/** Live keys among these hashes (revoked ones are as good as unknown). */
const LOOKUP = statement(
  'access_key_lookup',
  `select id, tenant, scopes, key_hash from access.api_key where key_hash = any($1::text[]) and revoke_time is null`,
);

const toApiKey = (row: KeyRow): ApiKey => ({
  id: row.id,
  tenant: row.tenant,
  scopes: row.scopes as Scope[],
  hint: row.hint,
  createTime: row.create_time,
  revokeTime: row.revoke_time ?? undefined,
});

export async function insertKey(sql: Sql, tenant: string, scopes: readonly Scope[], key: NewKey): Promise<ApiKey> {
  const [row] = await sql.query<KeyRow>(INSERT, [randomUUID(), tenant, scopes, key.hash, key.hint]);
  return toApiKey(row!);
}

export async function listKeys(sql: Sql): Promise<ApiKey[]> {
  return (await sql.query<KeyRow>(LIST)).map(toApiKey);
}

export async function revokeKey(sql: Sql, id: string): Promise<ApiKey> {
  const [row] = await sql.query<KeyRow>(REVOKE, [id]);
  if (row === undefined) throw notFound('api key', id);
  return toApiKey(row);
}

/** The grant of each live key among `hashes`, in their order; undefined for unknown or revoked ones. */
export async function lookupKeys(sql: Sql, hashes: readonly string[]): Promise<Array<KeyGrant | undefined>> {
  const rows = await sql.query<{ id: string; tenant: string; scopes: string[]; key_hash: string }>(LOOKUP, [[...new Set(hashes)]]);
  const byHash = new Map(rows.map((r) => [r.key_hash, { keyId: r.id, tenant: r.tenant, scopes: new Set(r.scopes as Scope[]) }]));
  return hashes.map((h) => byHash.get(h));
}
