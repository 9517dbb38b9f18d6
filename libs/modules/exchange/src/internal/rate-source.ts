import { conversion, type ExactRate } from '@tally/currencies';
import { TallyError, type Logger, type Redis } from '@tally/platform';
import { CircuitBreaker, type BreakerPolicy } from './circuit-breaker.js';
import { fetchUsdRates, ProviderError, type RateTable } from './provider-client.js';

/**
 * Where every rate comes from. One table of USD rates serves every pair (A->B is USD->B over
 * USD->A). The table is cached in Redis for `cacheTtlMs`; when it must be refreshed and the
 * provider fails (or its circuit is open), the last table known is used while it is younger
 * than `maxStalenessMs`. Beyond that there is no rate: UNAVAILABLE, never a made-up one.
 */

export interface RatePolicy {
  readonly providerUrl: string;
  readonly timeoutMs: number;
  readonly cacheTtlMs: number;
  readonly maxStalenessMs: number;
  readonly breaker: BreakerPolicy;
}

export interface SourcedRate {
  readonly from: string;
  readonly to: string;
  readonly rate: ExactRate;
  /** When the provider published it. */
  readonly asOf: Date;
}

const CACHE_KEY = 'tally:rates:usd';
const LAST_KNOWN_KEY = 'tally:rates:usd:last-known';
/** The last-known table outlives the staleness bound a little, then Redis forgets it. */
const LAST_KNOWN_EXTRA_TTL_MS = 3_600_000;

export class RateSource {
  private readonly breaker: CircuitBreaker;
  /** Also kept in memory, for when Redis is away too. */
  private lastKnown: RateTable | undefined;
  private refreshing: Promise<RateTable> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly policy: RatePolicy,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.breaker = new CircuitBreaker(policy.breaker, now);
  }

  async rate(from: string, to: string): Promise<SourcedRate> {
    return rateIn(await this.table(), from, to);
  }

  /** The USD table: cached, else fresh from the provider, else the last known within staleness. */
  async table(): Promise<RateTable> {
    const cached = await this.read(CACHE_KEY);
    if (cached) return cached;
    // Concurrent callers share one refresh.
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refresh(): Promise<RateTable> {
    if (this.breaker.tryAcquire()) {
      try {
        const table = await fetchUsdRates(this.policy.providerUrl, this.policy.timeoutMs);
        this.breaker.success();
        this.lastKnown = table;
        await this.write(table);
        return table;
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
        this.breaker.failure();
        this.logger.warn({ err: error.message, breaker: this.breaker.state }, 'rate provider failed; trying the last known rates');
      }
    }
    const last = (await this.read(LAST_KNOWN_KEY)) ?? this.lastKnown;
    const ageMs = last ? this.now() - last.asOfMs : Number.POSITIVE_INFINITY;
    if (last && ageMs <= this.policy.maxStalenessMs) return last;
    throw new TallyError(
      'UNAVAILABLE',
      last
        ? `the rate provider is unavailable and the last rates known are ${Math.round(ageMs / 1000)} s old (at most ${this.policy.maxStalenessMs / 1000} s allowed)`
        : 'the rate provider is unavailable and no rates are known yet',
      { reason: 'RATES_UNAVAILABLE', metadata: { max_staleness_ms: String(this.policy.maxStalenessMs) } },
    );
  }

  private async read(key: string): Promise<RateTable | undefined> {
    try {
      const json = await this.redis.get(key);
      return json ? (JSON.parse(json) as RateTable) : undefined;
    } catch (error) {
      this.logger.debug({ err: String(error) }, 'rate cache unreadable');
      return undefined;
    }
  }

  private async write(table: RateTable): Promise<void> {
    const json = JSON.stringify(table);
    try {
      await this.redis
        .multi()
        .set(CACHE_KEY, json, 'PX', this.policy.cacheTtlMs)
        .set(LAST_KNOWN_KEY, json, 'PX', this.policy.maxStalenessMs + LAST_KNOWN_EXTRA_TTL_MS)
        .exec();
    } catch (error) {
      this.logger.debug({ err: String(error) }, 'rate cache unwritable');
    }
  }
}

/** A -> B from one USD table: (USD -> B) / (USD -> A), exactly. */
export function rateIn(table: RateTable, from: string, to: string): SourcedRate {
  const usdToFrom = table.usdRates[from];
  const usdToTo = table.usdRates[to];
  if (!usdToFrom || !usdToTo) {
    throw new TallyError('UNAVAILABLE', `the rate provider has no rate for ${usdToFrom ? to : from}`, {
      reason: 'RATE_NOT_PUBLISHED',
      metadata: { from_currency: from, to_currency: to },
    });
  }
  const rate = conversion.chainRates(conversion.invertRate(conversion.parseRate(usdToFrom)!), conversion.parseRate(usdToTo)!);
  return { from, to, rate, asOf: new Date(table.asOfMs) };
}
