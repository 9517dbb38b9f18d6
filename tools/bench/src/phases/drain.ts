import type { PhaseMark } from '../pg-counts.js';
import type { RunContext } from './context.js';

/** The longest wait for a phase's operations to end before the run goes on without them. */
export const DRAIN_PATIENCE_MS = 300_000;
const DRAIN_POLL_MS = 500;

export interface Drain {
  readonly drainMs: number;
  /** Operations still PENDING or PROCESSING when the patience ran out (0 when drained). */
  readonly leftInFlight: number;
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
