import { ErrorTally, type ErrorSummary } from '../errors.js';
import type { LatencyHistogram } from '../latency.js';
import type { Outcome, PhaseMark } from '../pg-counts.js';
import { phasePrefix } from '../workload.js';
import type { RunContext } from './context.js';
import { startPhaseClock, type PhaseTiming } from './phase-clock.js';

/**
 * How a submit phase is measured: its operations are counted in PostgreSQL (accepted and
 * completed within the phase's window, per second), then the bench waits for the worker to
 * finish what the phase left and reads how each operation ended.
 */

/** The longest wait for a phase's operations to end before the run goes on without them. */
export const DRAIN_PATIENCE_MS = 300_000;
const DRAIN_POLL_MS = 500;

export interface LatencySummary {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

export function latencySummary(latency: LatencyHistogram): LatencySummary {
  return { p50: latency.percentile(50), p95: latency.percentile(95), p99: latency.percentile(99) };
}

export interface Drain {
  readonly drainMs: number;
  /** Operations still PENDING or PROCESSING when the patience ran out (0 when drained). */
  readonly leftInFlight: number;
}

export interface SubmitPhaseResult extends Drain {
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
    outcomes: await ctx.counts.outcomes(mark),
    timing,
    ...drain,
  };
}

/** Waits until none of the phase's operations is PENDING or PROCESSING, or the patience runs out. */
export async function drainPhase(ctx: RunContext, phase: string, mark: PhaseMark): Promise<Drain> {
  const startMs = Date.now();
  let left = await ctx.counts.inFlight(mark);
  const initial = left;
  const line = ctx.progress.begin(`${phase} drain`, undefined, () => ({ done: initial - left, errors: 0, note: `${left} still in flight` }), 'ended');
  try {
    while (left > 0 && Date.now() - startMs < DRAIN_PATIENCE_MS) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
      left = await ctx.counts.inFlight(mark);
    }
  } finally {
    line.end();
  }
  if (left > 0) ctx.progress.say(`WARNING: ${left} operations of ${phase} still in flight after ${DRAIN_PATIENCE_MS / 1000} s; going on without them`);
  return { drainMs: Date.now() - startMs, leftInFlight: left };
}
