import { Coalescer, publishTo, TallyError, type ChannelHub, type ChannelSubscription, type Logger, type Redis, type Sql } from '@tally/platform';
import { lookupKeys, type KeyGrant } from './key-store.js';
import { hashKey, looksLikeKey } from './keys.js';

/**
 * Answers "whose key is this?" for every request, from memory almost always: a key's grant (or
 * its absence) is remembered for `ttlMs`, lookups that miss share one query, and a change of
 * keys (a revocation) is told to every process through Redis, which then forgets what it
 * remembered. A revoked key is refused at once where the message arrives and, should it be
 * lost, within `ttlMs` everywhere.
 */

export const KEYS_CHANGED_CHANNEL = 'tally:keys:changed';
/** The longest a process trusts what it remembers of a key: revocation takes effect within it. */
export const DEFAULT_KEY_CACHE_TTL_MS = 500;
/** Keys remembered per process; past it the oldest is forgotten (a flood of made-up keys cannot grow memory). */
const MAX_REMEMBERED_KEYS = 10_000;
const MAX_KEYS_PER_LOOKUP = 500;
const MAX_WAITING_LOOKUPS = 10_000;

export interface AuthenticatorOptions {
  readonly sql: Sql;
  readonly logger: Logger;
  /** Where key changes are heard (API processes); without it, only the TTL forgets. */
  readonly channels?: ChannelHub;
  /** Where this process tells the others of a key change (the `keys` command too). */
  readonly publisher?: Redis;
  readonly ttlMs?: number;
}

interface Remembered {
  readonly grant: KeyGrant | undefined;
  readonly expiresAtMs: number;
}

export class Authenticator {
  readonly #remembered = new Map<string, Remembered>();
  readonly #ttlMs: number;
  readonly #lookups: Coalescer<string, KeyGrant | undefined>;
  readonly #subscription: ChannelSubscription | undefined;
  readonly #publisher: Redis | undefined;
  readonly #log: Logger;
  #generation = 0;

  constructor(options: AuthenticatorOptions) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_KEY_CACHE_TTL_MS;
    this.#log = options.logger.child({ component: 'authenticator' });
    this.#publisher = options.publisher;
    this.#subscription = options.channels?.listen(KEYS_CHANGED_CHANNEL, {
      onMessage: () => this.#forgetAll(),
      onResubscribed: () => this.#forgetAll(),
    });
    const { sql } = options;
    this.#lookups = new Coalescer({
      run: (hashes) => lookupKeys(sql, hashes),
      maxBatchItems: MAX_KEYS_PER_LOOKUP,
      maxWaitingItems: MAX_WAITING_LOOKUPS,
      maxConcurrentBatches: 2,
      overloaded: () => new TallyError('UNAVAILABLE', 'too many API keys are being checked at once; retry shortly', { reason: 'KEY_LOOKUPS_QUEUE_FULL' }),
    });
  }

  /** The grant of a live key; undefined for anything else (malformed, unknown, revoked). */
  async authenticate(key: string): Promise<KeyGrant | undefined> {
    if (!looksLikeKey(key)) return undefined;
    const hash = hashKey(key);
    const known = this.#remembered.get(hash);
    if (known !== undefined && known.expiresAtMs > Date.now()) return known.grant;
    const generation = this.#generation;
    const expiresAtMs = Date.now() + this.#ttlMs;
    const [grant] = await this.#lookups.submit([hash]);
    if (generation === this.#generation) this.#remember(hash, { grant, expiresAtMs });
    return grant;
  }

  /** After a committed change of keys: forget here, and tell every other process. */
  changed(): void {
    this.#forgetAll();
    if (this.#publisher === undefined) return;
    publishTo(this.#publisher, KEYS_CHANGED_CHANNEL, 'changed').catch((error: unknown) => {
      this.#log.warn({ err: String(error) }, `could not tell other processes of a key change; they forget it within ${this.#ttlMs} ms`);
    });
  }

  close(): void {
    this.#subscription?.release();
    this.#remembered.clear();
  }

  #remember(hash: string, entry: Remembered): void {
    this.#remembered.delete(hash);
    this.#remembered.set(hash, entry);
    if (this.#remembered.size > MAX_REMEMBERED_KEYS) {
      const oldest = this.#remembered.keys().next();
      if (oldest.done !== true) this.#remembered.delete(oldest.value);
    }
  }

  #forgetAll(): void {
    this.#generation++;
    this.#remembered.clear();
  }
}
