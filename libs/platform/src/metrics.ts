import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every Prometheus metric a Tally process exports, in one place (`GET /metrics` on the HTTP
 * port, docs/operating.md). Labels stay bounded: RPC names, codes, kinds, statuses, failure
 * reasons, partitions; never a ledger, operation or caller id.
 *
 * Recording costs a map lookup and an addition: the hot paths record as they go. What is
 * cheaper to read than to track (queue depth, pool and Redis state, partitions held) is read
 * when Prometheus scrapes, through the collectors registered with `onScrape`.
 */
export const metricsRegistry = new Registry();

let collectingProcessMetrics = false;

/**
 * Adds prom-client's process metrics (memory, CPU, event-loop lag, GC, handles) to the
 * registry, once: a server process calls it; the CLIs that share this code do not.
 */
export function collectProcessMetrics(): void {
  if (collectingProcessMetrics) return;
  collectingProcessMetrics = true;
  collectDefaultMetrics({ register: metricsRegistry });
}

/** Seconds, from sub-millisecond reads to a submit that waited out its deadline. */
const RPC_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds from accepted to terminal: a busy worker's milliseconds to retries' minutes. */
const OPERATION_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Operations per apply transaction (the worker's batch limit is in the hundreds). */
const BATCH_SIZES = [1, 2, 5, 10, 20, 50, 100, 200, 500];

const registers = [metricsRegistry];

export const rpcMetrics = {
  requests: new Counter({
    name: 'tally_rpc_requests_total',
    help: 'RPCs finished, by method, status code and transport (streams count when they end)',
    labelNames: ['method', 'code', 'transport'] as const,
    registers,
  }),
  duration: new Histogram({
    name: 'tally_rpc_duration_seconds',
    help: 'Time to answer a unary RPC, by method and transport',
    labelNames: ['method', 'transport'] as const,
    buckets: RPC_SECONDS,
    registers,
  }),
  inFlight: new Gauge({ name: 'tally_rpcs_in_flight', help: 'RPCs being served, by kind (unary or stream)', labelNames: ['kind'] as const, registers }),
};

export const operationMetrics = {
  accepted: new Counter({
    name: 'tally_operations_accepted_total',
    help: 'Operations accepted (new ones only, not repeated transaction ids), by kind',
    labelNames: ['kind'] as const,
    registers,
  }),
  finished: new Counter({
    name: 'tally_operations_finished_total',
    help: 'Operations that reached a terminal status, by kind, status and failure reason',
    labelNames: ['kind', 'status', 'reason'] as const,
    registers,
  }),
  latency: new Histogram({
    name: 'tally_operation_latency_seconds',
    help: 'Time from accepted to terminal, by kind',
    labelNames: ['kind'] as const,
    buckets: OPERATION_SECONDS,
    registers,
  }),
  applyBatchSize: new Histogram({ name: 'tally_apply_batch_size', help: 'Operations applied per worker transaction', buckets: BATCH_SIZES, registers }),
  watches: new Gauge({ name: 'tally_watches', help: 'Open watch streams, by kind (operation or ledger)', labelNames: ['kind'] as const, registers }),
};

export const dependencyMetrics = {
  ratesRequests: new Counter({
    name: 'tally_rates_provider_requests_total',
    help: 'Calls to the exchange-rate provider, by outcome (ok, error, timeout, breaker_open)',
    labelNames: ['outcome'] as const,
    registers,
  }),
  breakerState: new Gauge({ name: 'tally_rates_breaker_state', help: "The rate provider's circuit: 0 closed, 1 half-open, 2 open", registers }),
};

/**
 * A gauge whose values are read when Prometheus scrapes. `read` answers one value per label
 * set; it is called once per scrape per registered source. Several sources (one process may
 * hold several pools or workers, as tests do) are summed, or for a fact they all read from
 * the same place (the queue in PostgreSQL), the largest is kept.
 */
export function scrapedGauge<L extends string>(name: string, help: string, labelNames: readonly L[], combine: 'sum' | 'max' = 'sum'): ScrapedGauge<L> {
  const sources = new Set<() => Promise<Array<[Record<L, string>, number]>> | Array<[Record<L, string>, number]>>();
  const gauge = new Gauge<L>({
    name,
    help,
    labelNames,
    registers,
    async collect() {
      this.reset();
      const values = new Map<string, [Record<L, string>, number]>();
      for (const read of sources) {
        for (const [labels, value] of await read()) {
          const key = JSON.stringify(labels);
          const before = values.get(key)?.[1];
          values.set(key, [labels, before === undefined ? value : combine === 'sum' ? before + value : Math.max(before, value)]);
        }
      }
      for (const [labels, value] of values.values()) this.set(labels as never, value);
    },
  });
  return {
    gauge,
    onScrape(read) {
      sources.add(read);
      return () => void sources.delete(read);
    },
  };
}

export interface ScrapedGauge<L extends string> {
  readonly gauge: Gauge<L>;
  /** Adds a source; returns what removes it (call it when the source closes). */
  onScrape(read: () => Promise<Array<[Record<L, string>, number]>> | Array<[Record<L, string>, number]>): () => void;
}

/** Read at scrape time, from whoever holds the state. */
export const scraped = {
  queueDepth: scrapedGauge('tally_queue_depth', 'Operations waiting or in hand, per partition (from PostgreSQL)', ['partition'], 'max'),
  queueOldestAge: scrapedGauge('tally_queue_oldest_age_seconds', 'Age of the oldest operation waiting or in hand, per partition (0 when none)', ['partition'], 'max'),
  partitionsHeld: scrapedGauge('tally_partitions_held', "Partitions this process's worker holds", []),
  dbPool: scrapedGauge('tally_db_pool_connections', 'Hot-path PostgreSQL pool connections, by state (total, idle, waiting)', ['state']),
  redisConnected: scrapedGauge('tally_redis_connected', 'Redis connections that are ready (1) or not (0), by purpose', ['connection']),
};

/**
 * Each label set's series, made on first use: prom-client's `labels()` hashes its arguments on
 * every call, so hot paths look their series up here instead (a Map lookup, then an add).
 */
export function seriesCache<Series>(make: (...labels: string[]) => Series): (...labels: string[]) => Series {
  const made = new Map<string, Series>();
  return (...labels) => {
    const key = labels.join('\n');
    let series = made.get(key);
    if (series === undefined) made.set(key, (series = make(...labels)));
    return series;
  };
}

/** The registry's text exposition, as `GET /metrics` answers it. */
export async function metricsExposition(): Promise<{ contentType: string; body: string }> {
  return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
}
