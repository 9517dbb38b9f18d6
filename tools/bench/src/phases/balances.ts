import { LedgerService } from '@tally/contracts';
import { ErrorTally, type ErrorSummary } from '../errors.js';
import { randomIndex } from '../workload.js';
import { closedLoop } from './closed-loop.js';
import type { RunContext } from './context.js';
import { latencySummary, type LatencySummary } from './measure.js';
import { startPhaseClock, type PhaseTiming } from './phase-clock.js';

/** GetBalances, the read every client makes most: a closed loop over random ledgers. */
export const BALANCES_IN_FLIGHT = 64;

export interface BalancesResult {
  readonly requests: number;
  readonly requestsPerS: number;
  readonly latencyMs: LatencySummary;
  readonly errors: ErrorSummary;
  readonly timing: PhaseTiming;
}

export async function getBalances(ctx: RunContext, ledgerIds: readonly string[], durationMs: number): Promise<BalancesResult> {
  const errors = new ErrorTally();
  const clock = startPhaseClock(ctx.server);
  const { ok, latency } = await closedLoop({
    phase: 'balances',
    inFlight: BALANCES_IN_FLIGHT,
    durationMs,
    progress: ctx.progress,
    errors,
    call: async () => {
      await ctx.grpc.unary(LedgerService.method.getBalances, { ledgerId: ledgerIds[randomIndex(ledgerIds.length)]! });
      return 1;
    },
  });
  const timing = clock.stop();
  return { requests: ok, requestsPerS: (ok * 1000) / timing.elapsedMs, latencyMs: latencySummary(latency), errors: errors.summary(), timing };
}
