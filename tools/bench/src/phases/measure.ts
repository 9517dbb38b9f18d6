import { ErrorTally, type ErrorSummary } from '../errors.js';
import type { LatencyHistogram } from '../latency.js';
import type { Outcome } from '../pg-counts.js';
import { phasePrefix } from '../workload.js';
import type { RunContext } from './context.js';
import { drainPhase, type Drain } from './drain.js';
import { startPhaseClock, type PhaseTiming } from './phase-clock.js';
import { settle } from './settle.js';

/**
 * How a submit phase is measured: its operations are counted in PostgreSQL (accepted and
 * completed within the phase's window, per second), then the bench waits for the worker to
 * finish what the phase left and reads how each operation ended.
 */

export interface LatencySummary {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

export function latencySummary(latency: LatencyHistogram): LatencySummary {
  return { p50: latency.percentile(50), p95: latency.percentile(95), p99: latency.percentile(99) };
}


export interface SubmitPhaseResult extends Drain {
  /** After the drain, how long until the worker applied fresh credits again (see settle.ts). */
  readonly settleMs: number;
  readonly phase: string;
  readonly calls: number;
  /** Operations the client was answered OK for. */
  readonly clientOk: number;
  /** Operations PostgreSQL holds as created within the window. */
  readonly accepted: number;
  readonly completed: number;
  readonly acceptedPerS: number;
  readonly completedPerS: number;
  readonly latencyMs: LatencySummary;
  readonly errors: ErrorSummary;
  readonly outcomes: readonly Outcome[];
  readonly timing: PhaseTiming;
}

export interface SubmitLoad {
  readonly calls: number;
  readonly ok: number;
  readonly latency: LatencyHistogram;
}

/** Runs `load` (which submits with transaction ids starting with `prefix`) and measures it. */
export async function measureSubmits(
  ctx: RunContext,
  ledgerIds: readonly string[],
  phase: string,
  load: (prefix: string, errors: ErrorTally) => Promise<SubmitLoad>,
): Promise<SubmitPhaseResult> {
  const mark = await ctx.counts.mark(phasePrefix(ctx.runId, phase));
  const errors = new ErrorTally();
  const clock = startPhaseClock(ctx.server);
  const { calls, ok, latency } = await load(mark.prefix, errors);
  const timing = clock.stop();
  const { accepted, completed } = await ctx.counts.windowCounts(mark, timing.window);
  const seconds = (timing.window.endMs - timing.window.startMs) / 1000;
  const drain = await drainPhase(ctx, phase, mark);
  const outcomes = await ctx.counts.outcomes(mark);
  const settled = await settle(ctx, ledgerIds, phase);
  return {
    phase,
    calls,
    clientOk: ok,
    accepted,
    completed,
    acceptedPerS: accepted / seconds,
    completedPerS: completed / seconds,
    latencyMs: latencySummary(latency),
    errors: errors.summary(),
    outcomes,
    timing,
    ...drain,
    settleMs: settled.drainMs,
  };
}
