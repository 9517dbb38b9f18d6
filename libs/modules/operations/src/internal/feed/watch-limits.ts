import { TallyError } from '@tally/platform';

/** Every number a watch can grow by; each one bounds memory or load on one process. */
export interface WatchLimits {
  /** Open watches on this process, all clients together. */
  readonly maxWatches: number;
  /** Open watches of one caller (its API key, or its address when auth is off). */
  readonly maxWatchesPerClient: number;
  /** Events waiting for one slow watcher; past this the watch drops them and resyncs. */
  readonly maxBufferedEvents: number;
  /** A non-terminal operation is re-read from PostgreSQL after this long without news. */
  readonly resyncIntervalMs: number;
}

export const DEFAULT_WATCH_LIMITS: WatchLimits = {
  maxWatches: 20_000,
  maxWatchesPerClient: 10_000,
  maxBufferedEvents: 1_000,
  resyncIntervalMs: 5_000,
};

/** Fills in the defaults; a limit that is not a positive integer is a configuration bug. */
export function resolveWatchLimits(overrides: Partial<WatchLimits> = {}): WatchLimits {
  const limits = { ...DEFAULT_WATCH_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new Error(`watch limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  return limits;
}

/**
 * Counts open watches per process and per client. A slot is taken before a watch subscribes
 * and given back exactly once when it ends, so the counts are the open watches.
 */
export class WatchSlots {
  #total = 0;
  /** Only clients holding at least one slot: the map never outgrows the open watches. */
  readonly #perClient = new Map<string, number>();

  constructor(private readonly limits: Pick<WatchLimits, 'maxWatches' | 'maxWatchesPerClient'>) {}

  get open(): number {
    return this.#total;
  }

  /** Throws RESOURCE_EXHAUSTED naming the limit that is reached. */
  acquire(clientId: string): void {
    const held = this.#perClient.get(clientId) ?? 0;
    const { maxWatches, maxWatchesPerClient } = this.limits;
    // The client's own limit first: it is the one the caller can do something about.
    if (held >= maxWatchesPerClient) {
      throw tooManyWatches(
        `client "${clientId}" already has ${held} open watches, the most allowed (maxWatchesPerClient = ${maxWatchesPerClient}); close some before opening more`,
        'maxWatchesPerClient',
        maxWatchesPerClient,
        clientId,
      );
    }
    if (this.#total >= maxWatches) {
      throw tooManyWatches(
        `this server already has ${this.#total} open watches, the most allowed (maxWatches = ${maxWatches}); retry later`,
        'maxWatches',
        maxWatches,
        clientId,
      );
    }
    this.#perClient.set(clientId, held + 1);
    this.#total++;
  }

  release(clientId: string): void {
    const held = this.#perClient.get(clientId);
    if (held === undefined || this.#total === 0) throw new Error(`watch slot released twice for client "${clientId}"`);
    if (held === 1) this.#perClient.delete(clientId);
    else this.#perClient.set(clientId, held - 1);
    this.#total--;
  }
}

function tooManyWatches(message: string, limit: keyof WatchLimits, max: number, clientId: string): TallyError {
  return new TallyError('RESOURCE_EXHAUSTED', message, {
    reason: 'TOO_MANY_WATCHES',
    metadata: { limit, max: String(max), client_id: clientId },
  });
}
