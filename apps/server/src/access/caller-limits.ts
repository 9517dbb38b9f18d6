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
/** Callers whose unspent shares a process remembers; past it the oldest is forgotten (its points are simply not used). */
const MAX_REMEMBERED_SHARES = 10_000;

/**
 * How many points one Redis round trip takes for a caller: a fiftieth of its per-second rate,
 * at most 100. Small budgets are then counted call by call (exactly), large ones cheaply.
 */
export function shareOf(perSecond: number): number {
  return Math.max(1, Math.min(100, Math.floor(perSecond / 50)));
}

interface Share {
  left: number;
  expiresAtMs: number;
  /** A share being taken from Redis: callers that find this wait for it rather than take their own. */
  taking: Promise<void> | undefined;
}

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
  /** Per budget and caller: points taken from Redis and not yet spent here. */
  readonly #shares = new Map<string, Share>();
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

  /**
   * Counts `points` against the caller's budget; throws RESOURCE_EXHAUSTED when it is spent.
   *
   * Points are taken from Redis a share at a time (`shareOf`): the calls a share covers are
   * counted here, in memory, until the share or its second runs out. A busy caller then costs
   * one Redis round trip per share, not one per call; what a process may hold unspent is at
   * most one share per caller and budget, for at most the rest of the second.
   */
  async consume(budget: Budget, callerId: string, points: number): Promise<void> {
    const key = `${budget}\n${callerId}`;
    for (;;) {
      const share = this.#shares.get(key);
      if (share !== undefined && share.expiresAtMs > Date.now()) {
        if (share.left >= points) {
          share.left -= points;
          return;
        }
        if (share.taking !== undefined) {
          await share.taking;
          continue;
        }
      }
      const taking = this.#takeShare(budget, callerId, points);
      this.#shares.set(key, { left: 0, expiresAtMs: Number.POSITIVE_INFINITY, taking: taking.then(() => undefined, () => undefined) });
      try {
        const granted = await taking;
        // The share pays for this call first; what is left serves the next calls here.
        this.#shares.set(key, { left: granted.points - points, expiresAtMs: Date.now() + granted.forMs, taking: undefined });
        if (this.#shares.size > MAX_REMEMBERED_SHARES) this.#shares.delete(this.#shares.keys().next().value!);
        return;
      } catch (error) {
        this.#shares.delete(key);
        throw error;
      }
    }
  }

  /** A share of the caller's budget from Redis (or, if Redis does not answer, from this process's own count). */
  async #takeShare(budget: Budget, callerId: string, points: number): Promise<{ points: number; forMs: number }> {
    const { shared, local } = this.#budgets[budget];
    const { perSecond, burst } = this.#limits[budget];
    const wanted = Math.max(points, shareOf(perSecond));
    const take = async (n: number) => {
      const res = await answerWithin(shared.consume(callerId, n), REDIS_ANSWER_MS, () => local.consume(callerId, n));
      return { points: n, forMs: Math.max(1, Math.min(1_000, res.msBeforeNext)) };
    };
    try {
      try {
        return await take(wanted);
      } catch (outcome) {
        // A whole share is more than is left: the call may still fit on its own.
        if (outcome instanceof RateLimiterRes && wanted > points) return await take(points);
        throw outcome;
      }
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) {
        // Redis failed outright: count here instead.
        await local.consume(callerId, points).catch((res: unknown) => this.#refuseIfSpent(res, budget, callerId, perSecond, burst));
        return { points, forMs: 1 };
      }
      this.#refuseIfSpent(outcome, budget, callerId, perSecond, burst);
      throw outcome;
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
