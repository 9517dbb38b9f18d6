import { randomUUID } from 'node:crypto';
import { TallyError, type Logger, type RateLimits, type Redis } from '@tally/platform';
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * Per-caller budgets (TALLY_RATE_LIMITS), shared by every process of a deployment through Redis:
 *
 * - `read` and `write`: points per second, each call costing one point per item (a batch of 100
 *   costs 100), with a burst on top (up to `burst` more points over any ten seconds);
 * - `watches`: streams a caller holds open at once, over all processes.
 *
 * Redis is asked once per call. When it does not answer quickly (down, restarting, frozen) the
 * process counts on its own with the same budgets, so a Redis outage neither blocks nor unlimits
 * callers. Over a budget: RESOURCE_EXHAUSTED with RetryInfo (when to call again) and
 * QuotaFailure (which budget, whose).
 */

export type Budget = 'read' | 'write';

/** How long a call waits for Redis to count it before the process counts it itself. */
const REDIS_ANSWER_MS = 50;
/** Over how long the burst on top of a per-second rate is spread. */
const BURST_WINDOW_S = 10;
/** A held watch is re-announced this often; one that stops being announced (its process died) is forgotten after WATCH_LEASE_MS. */
const WATCH_HEARTBEAT_MS = 10_000;
const WATCH_LEASE_MS = 30_000;
const KEY_PREFIX = 'tally:limits';

/**
 * Takes a watch slot for a caller unless it holds `limit` live ones (expired ones, of processes
 * that died, are dropped first). Returns 1 when taken, 0 when not.
 */
const TAKE_WATCH_SLOT = `
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('zadd', KEYS[1], ARGV[2], ARGV[4])
redis.call('pexpire', KEYS[1], ARGV[5])
return 1`;

export interface CallerLimitsOptions {
  readonly limits: RateLimits;
  readonly redis: Redis;
  readonly logger: Logger;
}

export class CallerLimits {
  readonly #limits: RateLimits;
  readonly #redis: Redis;
  readonly #log: Logger;
  readonly #budgets: Readonly<Record<Budget, { shared: RateLimiterAbstract | BurstyRateLimiter; local: BurstyRateLimiter }>>;
  /** This process's open watches: watch id → caller id (what the heartbeat re-announces). */
  readonly #watches = new Map<string, string>();
  readonly #localWatches = new Map<string, number>();
  readonly #heartbeat: NodeJS.Timeout;

  constructor(options: CallerLimitsOptions) {
    this.#limits = options.limits;
    this.#redis = options.redis;
    this.#log = options.logger.child({ component: 'caller-limits' });
    const budget = (name: Budget) => {
      const { perSecond, burst } = options.limits[name];
      const store = (points: number, duration: number, suffix: string) =>
        new RateLimiterRedis({ storeClient: options.redis, keyPrefix: `${KEY_PREFIX}:${name}${suffix}`, points, duration, rejectIfRedisNotReady: true });
      const memory = (points: number, duration: number) => new RateLimiterMemory({ points, duration });
      return {
        shared: new BurstyRateLimiter(store(perSecond, 1, ''), store(burst, BURST_WINDOW_S, ':burst')),
        local: new BurstyRateLimiter(memory(perSecond, 1), memory(burst, BURST_WINDOW_S)),
      };
    };
    this.#budgets = { read: budget('read'), write: budget('write') };
    this.#heartbeat = setInterval(() => void this.#renewWatches(), WATCH_HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** Counts `points` against the caller's budget; throws RESOURCE_EXHAUSTED when it is spent. */
  async consume(budget: Budget, callerId: string, points: number): Promise<void> {
    const { shared, local } = this.#budgets[budget];
    const { perSecond, burst } = this.#limits[budget];
    try {
      await answerWithin(shared.consume(callerId, points), REDIS_ANSWER_MS, () => local.consume(callerId, points));
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) {
        // Redis failed outright: count here instead.
        await local.consume(callerId, points).catch((res: unknown) => this.#refuseIfSpent(res, budget, callerId, perSecond, burst));
        return;
      }
      this.#refuseIfSpent(outcome, budget, callerId, perSecond, burst);
    }
  }

  /**
   * Takes one of the caller's open-watch slots for a stream; the answer gives it back (call it
   * exactly once, when the stream ends). Throws RESOURCE_EXHAUSTED when the caller holds all.
   */
  async openWatch(callerId: string): Promise<() => void> {
    const watchId = randomUUID();
    const now = Date.now();
    const key = `${KEY_PREFIX}:watches:${callerId}`;
    const max = this.#limits.watches;
    const taken = await answerWithin(
      this.#redis.eval(TAKE_WATCH_SLOT, 1, key, now, now + WATCH_LEASE_MS, max, watchId, WATCH_LEASE_MS * 2) as Promise<number>,
      REDIS_ANSWER_MS,
      () => Promise.resolve(this.#takeLocalWatch(callerId) ? 2 : 0),
    ).catch(() => (this.#takeLocalWatch(callerId) ? 2 : 0));
    if (taken === 0) {
      throw new TallyError('RESOURCE_EXHAUSTED', `${callerId} already holds its ${max} open watches; close some before opening more`, {
        reason: 'TOO_MANY_WATCHES',
        retryDelayMs: 1_000,
        quotaViolations: [{ subject: callerId, description: `watches: at most ${max} open at once` }],
        metadata: { budget: 'watches', max: String(max) },
      });
    }
    // 2: counted by this process alone (Redis did not answer); 1: counted in Redis.
    if (taken === 1) this.#watches.set(watchId, callerId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (taken === 1) {
        this.#watches.delete(watchId);
        this.#redis.zrem(key, watchId).catch(() => undefined);
      } else {
        this.#releaseLocalWatch(callerId);
      }
    };
  }

  close(): void {
    clearInterval(this.#heartbeat);
  }

  #refuseIfSpent(outcome: unknown, budget: Budget, callerId: string, perSecond: number, burst: number): void {
    if (!(outcome instanceof RateLimiterRes)) return;
    const retryDelayMs = Math.max(1, Math.ceil(outcome.msBeforeNext));
    throw new TallyError(
      'RESOURCE_EXHAUSTED',
      `${callerId} is over its ${budget} budget of ${perSecond} per second (burst ${burst}); retry in ${retryDelayMs} ms`,
      {
        reason: 'RATE_LIMITED',
        retryDelayMs,
        quotaViolations: [{ subject: callerId, description: `${budget}: ${perSecond} per second, burst ${burst} over ${BURST_WINDOW_S} s` }],
        metadata: { budget, per_second: String(perSecond), burst: String(burst) },
      },
    );
  }

  #takeLocalWatch(callerId: string): boolean {
    const held = this.#localWatches.get(callerId) ?? 0;
    if (held >= this.#limits.watches) return false;
    this.#localWatches.set(callerId, held + 1);
    return true;
  }

  #releaseLocalWatch(callerId: string): void {
    const held = this.#localWatches.get(callerId) ?? 0;
    if (held <= 1) this.#localWatches.delete(callerId);
    else this.#localWatches.set(callerId, held - 1);
  }

  /** Re-announces every watch this process holds, one pipeline, so none of them is taken for a dead process's. */
  async #renewWatches(): Promise<void> {
    if (this.#watches.size === 0) return;
    const until = Date.now() + WATCH_LEASE_MS;
    const pipeline = this.#redis.pipeline();
    for (const [watchId, callerId] of this.#watches) pipeline.zadd(`${KEY_PREFIX}:watches:${callerId}`, 'XX', until, watchId);
    await pipeline.exec().catch((error: unknown) => this.#log.warn({ err: String(error) }, 'could not renew the watch slots; they are renewed at the next beat'));
  }
}

/** `work`'s answer, or `fallback`'s when `work` takes longer than `ms`. */
function answerWithin<T>(work: Promise<T>, ms: number, fallback: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      fallback().then(resolve, reject);
    }, ms);
    work.then(
      (value) => {
        if (settled) return;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
