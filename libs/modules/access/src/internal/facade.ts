import { checkUuid, Violations, type ChannelHub, type Database, type Logger, type Redis } from '@tally/platform';
import { Authenticator } from './authenticator.js';
import { insertKey, listKeys, revokeKey, type ApiKey, type KeyGrant } from './key-store.js';
import { checkKeyRequest, generateKey } from './keys.js';
import { pageTokenSecret } from './token-secret.js';

export interface AccessFacade {
  /** Makes a key for a tenant: the answer holds the key itself, shown this once and never stored. Throws INVALID_ARGUMENT naming bad fields. */
  createKey(input: { tenant: string; scopes: readonly string[] }): Promise<{ key: ApiKey; secret: string }>;
  listKeys(): Promise<ApiKey[]>;
  /** Revokes a key (idempotent); every process refuses it within a second. Throws NOT_FOUND for an unknown id. */
  revokeKey(id: string): Promise<ApiKey>;
  /** What a bearer key grants; undefined when it is malformed, unknown or revoked. Cheap: remembered briefly. */
  authenticate(key: string): Promise<KeyGrant | undefined>;
  /** The secret page tokens are signed with when TALLY_TOKEN_SECRET is unset (made once, kept in PostgreSQL). */
  pageTokenSecret(): Promise<string>;
  close(): void;
}

export interface AccessDeps {
  readonly db: Database;
  readonly logger: Logger;
  /** API processes hear key changes here. */
  readonly channels?: ChannelHub;
  /** Key changes are told to the other processes through it. */
  readonly publisher?: Redis;
}

export function createAccessFacade(deps: AccessDeps): AccessFacade {
  const { sql } = deps.db;
  const authenticator = new Authenticator({
    sql,
    logger: deps.logger,
    ...(deps.channels && { channels: deps.channels }),
    ...(deps.publisher && { publisher: deps.publisher }),
  });
  return {
    async createKey(input) {
      const { tenant, scopes } = checkKeyRequest(input.tenant, input.scopes);
      const made = generateKey();
      const key = await insertKey(sql, tenant, scopes, made);
      authenticator.changed();
      return { key, secret: made.secret };
    },
    listKeys: () => listKeys(sql),
    async revokeKey(id) {
      const v = new Violations();
      checkUuid(v, 'id', id);
      v.throwIfAny();
      const key = await revokeKey(sql, id);
      authenticator.changed();
      return key;
    },
    authenticate: (key) => authenticator.authenticate(key),
    pageTokenSecret: () => pageTokenSecret(sql),
    close: () => authenticator.close(),
  };
}
