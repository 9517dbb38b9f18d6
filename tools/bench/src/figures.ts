import type { SubmitPhaseResult } from './phases/measure.js';
import type { RunResults } from './results.js';

/**
 * The run's results as figures: one number each, with its unit, whether it is a throughput
 * (then also shown as a multiple of the baseline), and the brief's target where it sets one.
 */

export type Unit = 'per_s' | 'ms' | 'mb' | 'count' | 'pct' | 's';

export interface Target {
  readonly op: '>=' | '<=';
  readonly value: number;
  /** The target is `value` times the baseline's tps. */
  readonly timesBaseline?: boolean;
}

export interface Figure {
  readonly key: string;
  readonly label: string;
  readonly value: number;
  readonly unit: Unit;
  readonly throughput?: boolean;
  readonly target?: Target;
}

/** RSS may wobble this much with garbage collection over a soak; more is growth. */
export const SOAK_GROWTH_TOLERANCE_MB_PER_10_MIN = 10;

export const TARGETS = {
  single64Completed: { op: '>=', value: 1, timesBaseline: true },
  batchedCompleted: { op: '>=', value: 4, timesBaseline: true },
  halfPeakSubmitP99Ms: { op: '<=', value: 10 },
  halfPeakCompletedP99Ms: { op: '<=', value: 100 },
  balancesPerS: { op: '>=', value: 5_000 },
  balancesP99Ms: { op: '<=', value: 10 },
  watchesHeld: { op: '>=', value: 5_000 },
  rssPeakMb: { op: '<=', value: 400 },
  soakGrowthMbPer10Min: { op: '<=', value: SOAK_GROWTH_TOLERANCE_MB_PER_10_MIN },
} as const satisfies Record<string, Target>;

export function figuresOf(r: RunResults): Figure[] {
  const f: Figure[] = [];
  const add = (key: string, label: string, value: number, unit: Unit, extra: Partial<Pick<Figure, 'throughput' | 'target'>> = {}): void => {
    f.push({ key, label, value, unit, ...extra });
  };
  if (r.baseline) add('baseline_tps', `PostgreSQL baseline (${r.baseline.source}, 1 transaction per operation)`, r.baseline.tps, 'per_s', { throughput: true });
  if (r.setup) add('setup_s', 'setup: ledgers and opening credits', r.setup.elapsedMs / 1000, 's');

  const submits = (key: string, label: string, p: SubmitPhaseResult, completedTarget?: Target): void => {
    add(`${key}_accepted_per_s`, `${label}: accepted/s`, p.acceptedPerS, 'per_s', { throughput: true });
    add(`${key}_completed_per_s`, `${label}: completed/s`, p.completedPerS, 'per_s', { throughput: true, ...(completedTarget && { target: completedTarget }) });
    add(`${key}_p50_ms`, `${label}: submit p50`, p.latencyMs.p50, 'ms');
    add(`${key}_p95_ms`, `${label}: submit p95`, p.latencyMs.p95, 'ms');
    add(`${key}_p99_ms`, `${label}: submit p99`, p.latencyMs.p99, 'ms');
    add(`${key}_errors`, `${label}: errors`, p.errors.total, 'count');
    add(`${key}_drain_s`, `${label}: drain after the phase`, p.drainMs / 1000, 's');
    add(`${key}_settle_s`, `${label}: worker caught up after the drain`, p.settleMs / 1000, 's');
    add(`${key}_bench_cpu_pct`, `${label}: bench CPU (of one core)`, p.timing.benchCpuPct, 'pct');
    add(`${key}_server_cpu_pct`, `${label}: server CPU (of one core)`, p.timing.serverCpuPct, 'pct');
  };
  if (r.single8) submits('single8', 'single submits, 8 in flight', r.single8);
  if (r.single64) submits('single64', 'single submits, 64 in flight', r.single64, TARGETS.single64Completed);
  if (r.batched) submits('batched', 'batched submits (100 a call, 8 calls in flight) ops', r.batched, TARGETS.batchedCompleted);

  if (r.open) {
    const o = r.open;
    const label = 'open loop at half peak';
    add('open_rate_per_s', `${label}: scheduled rate`, o.ratePerS, 'per_s', { throughput: true });
    add('open_accepted_per_s', `${label}: accepted/s`, o.acceptedPerS, 'per_s', { throughput: true });
    add('open_p50_ms', `${label}: submit p50 (from due time)`, o.latencyMs.p50, 'ms');
    add('open_p99_ms', `${label}: submit p99 (from due time)`, o.latencyMs.p99, 'ms', { target: TARGETS.halfPeakSubmitP99Ms });
    add('open_completed_p50_ms', `${label}: accepted → COMPLETED p50 (from send)`, o.completionMs.p50, 'ms');
    add('open_completed_p99_ms', `${label}: accepted → COMPLETED p99 (from send)`, o.completionMs.p99, 'ms', { target: TARGETS.halfPeakCompletedP99Ms });
    add('open_never_seen_completed', `${label}: credits never seen COMPLETED`, o.neverSeenCompleted, 'count');
    add('open_send_lag_p99_ms', `${label}: bench send lag p99`, o.sendLagMs.p99, 'ms');
    add('open_skipped', `${label}: submits skipped (bench in-flight cap)`, o.skipped, 'count');
    add('open_errors', `${label}: errors`, o.errors.total + o.watchErrors.total, 'count');
    add('open_bench_cpu_pct', `${label}: bench CPU (of one core)`, o.timing.benchCpuPct, 'pct');
    add('open_server_cpu_pct', `${label}: server CPU (of one core)`, o.timing.serverCpuPct, 'pct');
  }

  if (r.balances) {
    const b = r.balances;
    add('balances_per_s', 'GetBalances, 64 in flight: requests/s', b.requestsPerS, 'per_s', { target: TARGETS.balancesPerS });
    add('balances_p50_ms', 'GetBalances: p50', b.latencyMs.p50, 'ms');
    add('balances_p99_ms', 'GetBalances: p99', b.latencyMs.p99, 'ms', { target: TARGETS.balancesP99Ms });
    add('balances_errors', 'GetBalances: errors', b.errors.total, 'count');
    add('balances_bench_cpu_pct', 'GetBalances: bench CPU (of one core)', b.timing.benchCpuPct, 'pct');
    add('balances_server_cpu_pct', 'GetBalances: server CPU (of one core)', b.timing.serverCpuPct, 'pct');
  }

  if (r.watches) {
    const w = r.watches;
    add('watches_opened', 'watches: streams opened', w.opened, 'count');
    add('watches_held', 'watches: held (probe received, still open)', w.held, 'count', { target: TARGETS.watchesHeld });
    add('watches_ended_early', 'watches: ended early', w.endedEarly, 'count');
    add('watches_not_delivered', 'watches: open, probe never delivered', w.notDelivered, 'count');
    add('watches_without_probe', "watches: open, their ledger's probe refused", w.withoutProbe, 'count');
    add('watches_delivery_p50_ms', 'watches: probe delivery p50 (from send)', w.deliveryMs.p50, 'ms');
    add('watches_delivery_p99_ms', 'watches: probe delivery p99 (from send)', w.deliveryMs.p99, 'ms');
    add('watches_rss_before_mb', 'watches: server RSS before opening', w.rssBeforeMb, 'mb');
    add('watches_rss_mb', 'watches: server RSS with the streams open', w.rssWithStreamsMb, 'mb');
  }

  if (r.rss) {
    add('rss_peak_mb', 'server RSS, peak over the run', r.rss.peakMb, 'mb', { target: TARGETS.rssPeakMb });
    for (const [phase, mb] of Object.entries(r.rss.atPhaseEndMb)) add(`rss_after_${phase}_mb`, `server RSS after ${phase}`, mb, 'mb');
  }

  if (r.soak) {
    const s = r.soak;
    add('soak_p99_ms', 'soak: submit p99 (from due time)', s.load.latencyMs.p99, 'ms');
    add('soak_completed_p99_ms', 'soak: accepted → COMPLETED p99 (from send)', s.load.completionMs.p99, 'ms');
    add('soak_rss_after_warm_up_mb', 'soak: server RSS after warm-up (1 min, or half a shorter soak)', s.rssAfterWarmUpMb, 'mb');
    add('soak_rss_end_mb', 'soak: server RSS at the end', s.rssEndMb, 'mb');
    add('soak_growth_mb', 'soak: RSS growth', s.growthMb, 'mb');
    add('soak_growth_mb_per_10_min', 'soak: RSS growth per 10 minutes', s.growthMbPer10Min, 'mb', { target: TARGETS.soakGrowthMbPer10Min });
    add('soak_errors', 'soak: errors', s.load.errors.total + s.load.watchErrors.total, 'count');
  }
  return f;
}

/** Whether a figure meets its target; undefined without a target, or without the baseline it is relative to. */
export function meets(figure: Figure, baselineTps: number | undefined): boolean | undefined {
  const { target } = figure;
  if (!target) return undefined;
  if (target.timesBaseline && baselineTps === undefined) return undefined;
  const bound = target.timesBaseline ? target.value * baselineTps! : target.value;
  if (!Number.isFinite(figure.value)) return false;
  return target.op === '>=' ? figure.value >= bound : figure.value <= bound;
}
