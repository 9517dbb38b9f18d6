import { createHash, randomBytes } from 'node:crypto';
import { Violations } from '@tally/platform';

/**
 * API keys, the pure part: their shape, how they are made and hashed, and the rules for the
 * tenant and scopes they carry. A key is shown once, when it is made; PostgreSQL keeps only its
 * SHA-256 (a key carries 256 random bits, so a fast hash is enough: there is nothing to guess).
 */

export const SCOPES = ['read', 'write', 'admin'] as const;
/** read: Get*, List*, Watch*, rates and quotes; write: ledgers, submits, cancels; admin: operating. */
export type Scope = (typeof SCOPES)[number];

/** Every key starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const KEY_PREFIX = 'tally_';
const KEY_RANDOM_BYTES = 32;
/** The prefix and the base64url of the random bytes. */
const KEY_PATTERN = new RegExp(`^${KEY_PREFIX}[A-Za-z0-9_-]{43}$`);
/** How much of a key `keys list` shows, to tell keys apart without revealing them. */
const HINT_CHARS = KEY_PREFIX.length + 4;

/** Lower-case letters, digits and dashes, starting with a letter or digit. */
const TENANT_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const MAX_TENANT_CHARS = 63;

export interface NewKey {
  /** The key itself: given to its holder once, never stored. */
  readonly secret: string;
  readonly hash: string;
  readonly hint: string;
}

export function generateKey(): NewKey {
  const secret = KEY_PREFIX + randomBytes(KEY_RANDOM_BYTES).toString('base64url');
  return { secret, hash: hashKey(secret), hint: secret.slice(0, HINT_CHARS) };
}

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether `text` could be a key at all: anything else is refused without a lookup. */
export function looksLikeKey(text: string): boolean {
  return KEY_PATTERN.test(text);
}

/** Checks a new key's tenant and scopes (`read,write`), throwing INVALID_ARGUMENT naming each bad one. */
export function checkKeyRequest(tenant: string, scopes: readonly string[]): { tenant: string; scopes: Scope[] } {
  const v = new Violations();
  v.check(TENANT_PATTERN.test(tenant), 'tenant', `must be 1 to ${MAX_TENANT_CHARS} lower-case letters, digits and dashes, starting with a letter or digit`);
  v.check(scopes.length > 0, 'scopes', `must name at least one of ${SCOPES.join(', ')}`);
  scopes.forEach((scope, i) => v.check((SCOPES as readonly string[]).includes(scope), `scopes[${i}]`, `must be one of ${SCOPES.join(', ')}`));
  v.throwIfAny();
  return { tenant, scopes: SCOPES.filter((s) => scopes.includes(s)) };
}
