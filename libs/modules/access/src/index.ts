/**
 * Access: API keys (made, listed and revoked by operators; only their hash is kept), what a
 * request's key grants (its tenant and scopes), and the server's own secrets. Owns the
 * PostgreSQL schema `access`. Which RPC needs which scope is in the contract
 * (`option (tally.v1.scope)`); the server's gate asks this module who is calling.
 */
import type { ModuleSchema } from '@tally/platform';
import { accessMigrations } from './internal/schema.js';

export { createAccessFacade } from './internal/facade.js';
export type { AccessDeps, AccessFacade } from './internal/facade.js';
export type { ApiKey, KeyGrant } from './internal/key-store.js';
export { KEY_PREFIX, SCOPES } from './internal/keys.js';
export type { Scope } from './internal/keys.js';
export { DEFAULT_KEY_CACHE_TTL_MS } from './internal/authenticator.js';

export const accessSchema: ModuleSchema = { name: 'access', entities: [], migrations: accessMigrations };
