import { createHash } from 'node:crypto';
import { ownerFor, statement, TallyError, type Sql, type TenantScope } from '@tally/platform';
import { v7 as uuidv7 } from 'uuid';
import type { Ledger } from './types.js';
import { validateCreateLedger, type CreateLedgerInput, type ValidCreateLedger } from './validation.js';

/**
 * Creates a ledger owned by the caller's tenant and one zero-balance account per currency, in
 * one statement (so in one transaction). With a request id, a retry of the same request returns
 * the ledger it created; the same id with a different request is refused ALREADY_EXISTS.
 * Request ids are per tenant: one tenant's cannot collide with (or reveal) another's.
 */
export async function createLedger(sql: Sql, input: CreateLedgerInput, scope: TenantScope): Promise<Ledger> {
  const valid = validateCreateLedger(input);
  const requestHash = hashRequest(valid);
  const tenant = ownerFor(scope);
  const storedRequestId = valid.requestId === null || tenant === null ? valid.requestId : `${tenant}/${valid.requestId}`;
  const findEarlier = (): Promise<Ledger | undefined> => findByRequestId(sql, storedRequestId!, valid.requestId!, requestHash);
  if (valid.requestId !== null) {
    const earlier = await findEarlier();
    if (earlier) return earlier;
  }
  const currencies = valid.currencies.map((c) => c.code);
  let created: Array<{ create_time: Date; update_time: Date }>;
  try {
    created = await sql.query(CREATE, [
      uuidv7(),
      valid.name,
      valid.overdraftAllowed,
      storedRequestId,
      valid.requestId === null ? null : requestHash,
      currencies,
      tenant,
    ]);
  } catch (error) {
    // A concurrent retry with the same request id won the race: answer as it was answered.
    if ((error as { code?: unknown }).code === UNIQUE_VIOLATION && valid.requestId !== null) {
      const earlier = await findEarlier();
      if (earlier) return earlier;
    }
    throw error;
  }
  const [row] = created as [{ id: string; create_time: Date; update_time: Date }];
  return { id: row.id, name: valid.name, currencies, overdraftAllowed: valid.overdraftAllowed, createTime: row.create_time, updateTime: row.update_time };
}

const UNIQUE_VIOLATION = '23505';

/** The ledger and its accounts, in the order its currencies were listed (account ids follow it). */
const CREATE = statement(
  'ledgers_create',
  `with ledger as (
     insert into ledgers.ledger (id, name, overdraft_allowed, create_request_id, create_request_hash, tenant)
     values ($1, $2, $3, $4, $5, $7)
     returning id, create_time, update_time
   ), accounts as (
     insert into ledgers.account (ledger_id, kind, currency, balance, enabled, shard)
     select ledger.id, 'LEDGER', c.code, 0, true, 0 from ledger, unnest($6::text[]) with ordinality as c(code, n) order by c.n
   )
   select id, create_time, update_time from ledger`,
);

const BY_REQUEST_ID = statement(
  'ledgers_by_request_id',
  `select l.id, l.name, l.overdraft_allowed, l.create_request_hash, l.create_time, l.update_time,
          coalesce(array_agg(a.currency::text order by a.id) filter (where a.enabled), '{}') as currencies
     from ledgers.ledger l
     left join ledgers.account a on a.ledger_id = l.id and a.kind = 'LEDGER'
    where l.create_request_id = $1
    group by l.id`,
);

/** `storedId` is the request id as stored (prefixed with the tenant); `requestId` as the client sent it. */
async function findByRequestId(sql: Sql, storedId: string, requestId: string, requestHash: string): Promise<Ledger | undefined> {
  const [row] = await sql.query<{
    id: string;
    name: string;
    overdraft_allowed: boolean;
    create_request_hash: string | null;
    create_time: Date;
    update_time: Date;
    currencies: string[];
  }>(BY_REQUEST_ID, [storedId]);
  if (!row) return undefined;
  if (row.create_request_hash !== requestHash) {
    throw new TallyError('ALREADY_EXISTS', `request_id ${requestId} was already used for a different CreateLedger request`, {
      reason: 'REQUEST_ID_REUSED',
      resource: { type: 'ledger', name: row.id },
      metadata: { request_id: requestId, ledger_id: row.id },
    });
  }
  return {
    id: row.id,
    name: row.name,
    currencies: row.currencies,
    overdraftAllowed: row.overdraft_allowed,
    createTime: row.create_time,
    updateTime: row.update_time,
  };
}

function hashRequest(valid: ValidCreateLedger): string {
  const canonical = JSON.stringify([valid.name, valid.currencies.map((c) => c.code), valid.overdraftAllowed]);
  return createHash('sha256').update(canonical).digest('hex');
}
