import type { ErrorSummary } from './errors.js';
import type { SubmitPhaseResult } from './phases/measure.js';
import type { OpenLoopResult } from './phases/open-loop.js';
import type { RunResults } from './results.js';

/** Results as a run would leave them, for the specs of what is made of them. */

export const NO_ERRORS: ErrorSummary = { total: 0, unexpected: 0, byCode: {}, messages: {} };
const TIMING = { window: { startMs: 0, endMs: 10_000 }, elapsedMs: 10_000, benchCpuPct: 30, serverCpuPct: 90 };

export function submitPhase(phase: string, overrides: Partial<SubmitPhaseResult> = {}): SubmitPhaseResult {
  return {
    phase,
    calls: 1_000,
    clientOk: 1_000,
    accepted: 1_000,
    completed: 1_000,
    acceptedPerS: 100,
    completedPerS: 100,
    latencyMs: { p50: 5, p95: 9, p99: 12 },
    errors: NO_ERRORS,
    outcomes: [{ status: 'COMPLETED', reason: '', count: 1_000 }],
    timing: TIMING,
    drainMs: 500,
    leftInFlight: 0,
    settleMs: 700,
    ...overrides,
  };
}

export function openPhase(overrides: Partial<OpenLoopResult> = {}): OpenLoopResult {
  return {
    ...submitPhase('open', { acceptedPerS: 50, completedPerS: 50 }),
    ratePerS: 50,
    scheduled: 500,
    skipped: 0,
    sendLagMs: { p50: 0.1, p99: 1 },
    completionMs: { p50: 20, p99: 80 },
    seenCompleted: 500,
    neverSeenCompleted: 0,
    watchErrors: NO_ERRORS,
    ...overrides,
  };
}

export function fullResults(): RunResults {
  return {
    baseline: { tps: 1_500, source: 'pgbench' },
    setup: { elapsedMs: 12_000 },
    single8: submitPhase('single8'),
    single64: submitPhase('single64', { completedPerS: 1_600, acceptedPerS: 1_700 }),
    batched: submitPhase('batched', { completedPerS: 3_000 }),
    open: openPhase(),
    balances: { requests: 60_000, requestsPerS: 6_000, latencyMs: { p50: 2, p95: 6, p99: 11 }, errors: NO_ERRORS, timing: TIMING },
    watches: {
      opened: 5_000,
      held: 5_000,
      endedEarly: 0,
      notDelivered: 0,
      withoutProbe: 0,
      endings: NO_ERRORS,
      probeErrors: NO_ERRORS,
      deliveryMs: { p50: 40, p99: 90 },
      rssBeforeMb: 150,
      rssWithStreamsMb: 260,
    },
    rss: { peakMb: 380, atPhaseEndMb: { setup: 140, watches: 260 } },
    audit: { passed: true, exitCode: 0, elapsedMs: 2_000 },
  };
}
