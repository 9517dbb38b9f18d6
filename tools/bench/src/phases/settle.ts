import { LedgerService } from '@tally/contracts';
import { credit, phasePrefix } from '../workload.js';
import type { RunContext } from './context.js';
import { drainPhase, type Drain } from './drain.js';

/**
 * PostgreSQL can show nothing in flight while the worker is still working through its queues
 * (a queue entry per accepted operation: a burst leaves a long tail of them), and a phase
 * started then would measure the previous phase's leftovers. So after each drain, a credit
 * goes to each of the first SETTLE_LEDGERS ledgers (every partition, in practice) and the
 * next phase starts once all of them are applied. How long that takes is reported: it is
 * part of how the server behaves after the load.
 */
export const SETTLE_LEDGERS = 100;
const SETTLE_CONCURRENCY = 16;

export async function settle(ctx: RunContext, ledgerIds: readonly string[], phase: string): Promise<Drain> {
  const startMs = Date.now();
  const mark = await ctx.counts.mark(phasePrefix(ctx.runId, `settle-${phase}`));
  const targets = ledgerIds.slice(0, SETTLE_LEDGERS);
  let next = 0;
  let refused = 0;
  const submitter = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      try {
        await ctx.grpc.unary(LedgerService.method.submitTransaction, credit(targets[i]!, `${mark.prefix}${i}`));
      } catch {
        refused += 1; // One partition fewer to hear from; the drain still waits for the rest.
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETTLE_CONCURRENCY, targets.length) }, submitter));
  if (refused > 0) ctx.progress.say(`WARNING: ${refused} of the ${targets.length} credits sent to see the worker catch up after ${phase} were refused`);
  const drain = await drainPhase(ctx, `${phase} settle`, mark);
  return { drainMs: Date.now() - startMs, leftInFlight: drain.leftInFlight };
}
