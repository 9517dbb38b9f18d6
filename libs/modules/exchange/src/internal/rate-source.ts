import { conversion, type ExactRate } from '@tally/currencies';
import { dependencyMetrics, TallyError, type Logger, type Redis } from '@tally/platform';
import { BrokenCircuitError, circuitBreaker, CircuitState, ConsecutiveBreaker, handleType, type CircuitBreakerPolicy } from 'cockatiel';
import { fetchUsdRates, ProviderError, type RateTable } from './provider-client.js';

/**
 * Where every rate comes from. One table of USD rates serves every pair (A->B is USD->B over
 * USD->A). The table is cached in Redis for `cacheTtlMs`; when it must be refreshed and the
 * provider fails (or its circuit is open), the last table known is used while it is younger
 * than `maxStalenessMs`. Beyond that there is no rate: UNAVAILABLE, never a made-up one.
 */

/**
 * The provider's circuit: after `failureThreshold` provider failures in a row it opens and the
 * provider is not asked for `openMs` (the last known rates serve); the next refresh is then a
 * trial (half-open): success closes the circuit, failure opens it again for `openMs`.
 */
export interface BreakerPolicy {
  readonly failureThreshold: number;
  readonly openMs: number;
}

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

export const CACHE_KEY = 'tally:rates:usd';
export const LAST_KNOWN_KEY = 'tally:rates:usd:last-known';
/** The last-known table outlives the staleness bound a little, then Redis forgets it. */
const LAST_KNOWN_EXTRA_TTL_MS = 3_600_000;

export class RateSource {
  private readonly circuit: CircuitBreakerPolicy;
  /** Also kept in memory, for when Redis is away too. */
  private lastKnown: RateTable | undefined;
  /**
   * The refresh in flight, shared by concurrent callers: the circuit never sees two provider
   * calls at once (in half-open, cockatiel would hold a second one until the trial ends).
   */
  private refreshing: Promise<RateTable> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly policy: RatePolicy,
    private readonly logger: Logger,
  ) {
    this.circuit = providerCircuit(policy.breaker);
    this.circuit.onBreak(() => logger.warn({ openMs: policy.breaker.openMs }, 'rate provider circuit open: the provider is not asked until it ends'));
    this.circuit.onReset(() => logger.info('rate provider circuit closed: the provider answered again'));
    this.circuit.onStateChange((state) => dependencyMetrics.breakerState.set(BREAKER_STATE_VALUES[state]));
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
    try {
      const table = await this.circuit.execute(() => fetchUsdRates(this.policy.providerUrl, this.policy.timeoutMs));
      providerRequests.ok.inc();
      this.lastKnown = table;
      await this.write(table);
      return table;
    } catch (error) {
      // While the circuit is open the provider is not asked: the last known rates serve, quietly.
      if (error instanceof ProviderError) {
        (error.timedOut ? providerRequests.timeout : providerRequests.error).inc();
        this.logger.warn({ err: error.message }, 'rate provider failed; trying the last known rates');
      } else if (error instanceof BrokenCircuitError) providerRequests.breakerOpen.inc();
      else throw error;
    }
    const last = (await this.read(LAST_KNOWN_KEY)) ?? this.lastKnown;
    const ageMs = last ? Date.now() - last.asOfMs : Number.POSITIVE_INFINITY;
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

/** tally_rates_breaker_state's values: 0 closed, 1 half-open, 2 open (isolated counts as open). */
const BREAKER_STATE_VALUES: Readonly<Record<CircuitState, number>> = {
  [CircuitState.Closed]: 0,
  [CircuitState.HalfOpen]: 1,
  [CircuitState.Open]: 2,
  [CircuitState.Isolated]: 2,
};

const providerRequests = {
  ok: dependencyMetrics.ratesRequests.labels('ok'),
  error: dependencyMetrics.ratesRequests.labels('error'),
  timeout: dependencyMetrics.ratesRequests.labels('timeout'),
  breakerOpen: dependencyMetrics.ratesRequests.labels('breaker_open'),
};

/** Only provider failures count towards opening: any other error is a bug, thrown as it is. */
function providerCircuit(policy: BreakerPolicy): CircuitBreakerPolicy {
  return circuitBreaker(handleType(ProviderError), {
    halfOpenAfter: policy.openMs,
    breaker: new ConsecutiveBreaker(policy.failureThreshold),
  });
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
