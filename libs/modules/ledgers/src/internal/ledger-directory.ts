import { Coalescer, isVisibleTo, publishTo, statement, TallyError, type TenantScope, type ChannelHub, type ChannelSubscription, type Logger, type Redis, type Sql } from '@tally/platform';

/**
 * What every submit asks of a ledger before it is accepted (does it exist, which currencies are
 * enabled), kept in memory so that a busy server asks PostgreSQL once per ledger rather than
 * once per submit. Lookups that miss share one query (see Coalescer).
 *
 * Invalidation: a change of a ledger's currencies (EnableCurrency, DisableCurrency) forgets the
 * ledger here at once and, through Redis, in every other process within a round trip; after
 * the invalidation channel dropped (messages may be lost) everything is forgotten, and no entry
 * outlives `ttlMs` whatever happens. Ledgers are never deleted, so "exists" never goes stale;
 * an unknown ledger is never remembered (it may be created the next moment).
 *
 * A submit accepted on a stale entry (a currency disabled a moment ago in another process) is
 * not a hole: the worker checks the currency again when it applies, and fails the operation
 * CURRENCY_NOT_ENABLED.
 */

export interface LedgerFacts {
  /** Who owns the ledger (never changes): null when it was created with auth off. */
  readonly tenant: string | null;
  readonly overdraftAllowed: boolean;
  /** Currencies enabled on the ledger now. */
  readonly enabled: ReadonlySet<string>;
}

export interface LedgerDirectoryOptions {
  readonly sql: Sql;
  readonly logger: Logger;
  /**
   * The process's subscriptions and a connection to publish on: with both, facts are cached
   * and invalidations travel between processes; without them (a worker-only process, tools),
   * nothing is cached and every lookup reads PostgreSQL.
   */
  readonly invalidation?: { readonly channels: ChannelHub; readonly publisher: Redis };
  readonly maxEntries?: number;
  readonly ttlMs?: number;
}

/** Ledgers remembered per process (about 200 bytes each). */
export const DEFAULT_MAX_CACHED_LEDGERS = 100_000;
/** The longest a cached entry is trusted, should every invalidation be lost. */
export const DEFAULT_LEDGER_CACHE_TTL_MS = 10_000;
/** Ledger ids one query looks up. */
const MAX_IDS_PER_LOOKUP = 1_000;
const MAX_WAITING_LOOKUPS = 100_000;
export const LEDGER_CHANGES_CHANNEL = 'tally:ledgers:changed';

/** Each ledger's enabled currencies through the account index, a subquery per ledger (a join may scan every account). */
const LOOKUP = statement(
  'ledgers_directory_lookup',
  `select l.id, l.tenant, l.overdraft_allowed,
          coalesce((select array_agg(a.currency::text) from ledgers.account a where a.kind = 'LEDGER' and a.ledger_id = l.id and a.enabled), '{}') as enabled
     from ledgers.ledger l
    where l.id = any($1::uuid[])`,
);

interface Entry {
  readonly facts: LedgerFacts;
  readonly expiresAtMs: number;
}

export class LedgerDirectory {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #caching: boolean;
  readonly #publisher: Redis | undefined;
  readonly #subscription: ChannelSubscription | undefined;
  readonly #log: Logger;
  readonly #lookups: Coalescer<string, LedgerFacts | undefined>;
  /** Grows with every invalidation: a lookup that started before one must not be cached. */
  #generation = 0;

  constructor(options: LedgerDirectoryOptions) {
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_CACHED_LEDGERS;
    this.#ttlMs = options.ttlMs ?? DEFAULT_LEDGER_CACHE_TTL_MS;
    this.#log = options.logger.child({ component: 'ledger-directory' });
    this.#caching = options.invalidation !== undefined;
    this.#publisher = options.invalidation?.publisher;
    this.#subscription = options.invalidation?.channels.listen(LEDGER_CHANGES_CHANNEL, {
      onMessage: (ledgerId) => this.#forget(ledgerId),
      onResubscribed: () => this.#forgetAll(),
    });
    const { sql } = options;
    this.#lookups = new Coalescer({
      run: async (ids) => {
        const rows = await sql.query<{ id: string; tenant: string | null; overdraft_allowed: boolean; enabled: string[] }>(LOOKUP, [[...new Set(ids)]]);
        const found = new Map(rows.map((r) => [r.id, { tenant: r.tenant, overdraftAllowed: r.overdraft_allowed, enabled: new Set(r.enabled) }]));
        return ids.map((id) => found.get(id));
      },
      maxBatchItems: MAX_IDS_PER_LOOKUP,
      maxWaitingItems: MAX_WAITING_LOOKUPS,
      maxConcurrentBatches: 2,
      overloaded: () => new TallyError('RESOURCE_EXHAUSTED', 'too many ledger lookups are waiting; retry shortly', { reason: 'LOOKUPS_QUEUE_FULL' }),
    });
  }

  /** The facts of each ledger among `ledgerIds` that exists and `scope` may see; others are absent. */
  async visible(scope: TenantScope, ledgerIds: readonly string[]): Promise<Map<string, LedgerFacts>> {
    const facts = await this.facts(ledgerIds);
    if (scope.tenant !== null) for (const [id, f] of facts) if (!isVisibleTo(scope, f.tenant)) facts.delete(id);
    return facts;
  }

  /** The facts of each known ledger among `ledgerIds`; unknown ones are absent. */
  async facts(ledgerIds: readonly string[]): Promise<Map<string, LedgerFacts>> {
    const known = new Map<string, LedgerFacts>();
    const missing: string[] = [];
    const now = Date.now();
    for (const id of new Set(ledgerIds)) {
      const entry = this.#entries.get(id);
      if (entry !== undefined && entry.expiresAtMs > now) known.set(id, entry.facts);
      else missing.push(id);
    }
    if (missing.length === 0) return known;
    const generation = this.#generation;
    const expiresAtMs = Date.now() + this.#ttlMs;
    for (let start = 0; start < missing.length; start += MAX_IDS_PER_LOOKUP) {
      const chunk = missing.slice(start, start + MAX_IDS_PER_LOOKUP);
      const looked = await this.#lookups.submit(chunk);
      chunk.forEach((id, i) => {
        const facts = looked[i];
        if (facts === undefined) return;
        known.set(id, facts);
        if (this.#caching && generation === this.#generation) this.#remember(id, { facts, expiresAtMs });
      });
    }
    return known;
  }

  /**
   * After a commit that changed the ledger's currencies: forgets it here and tells every other
   * process. Best effort across processes: the TTL bounds what a lost message leaves stale.
   */
  changed(ledgerId: string): void {
    this.#forget(ledgerId);
    if (this.#publisher === undefined) return;
    publishTo(this.#publisher, LEDGER_CHANGES_CHANNEL, ledgerId).catch((error: unknown) => {
      this.#log.warn({ ledgerId, err: String(error) }, 'could not tell other processes of a ledger change; their cache expires it');
    });
  }

  close(): void {
    this.#subscription?.release();
    this.#entries.clear();
  }

  #remember(id: string, entry: Entry): void {
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  #forget(ledgerId: string): void {
    this.#generation++;
    this.#entries.delete(ledgerId);
  }

  #forgetAll(): void {
    this.#generation++;
    this.#entries.clear();
  }
}
