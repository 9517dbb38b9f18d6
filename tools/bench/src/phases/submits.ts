import { LedgerService } from '@tally/contracts';
import { codeName } from '../grpc-clients.js';
import { batchTransaction, submitOne } from '../workload.js';
import { closedLoop } from './closed-loop.js';
import type { RunContext } from './context.js';
import { measureSubmits, type SubmitPhaseResult } from './measure.js';

/**
 * The closed-loop submit phases: single SubmitTransaction calls (or, with --mixed, a mix of
 * credits, debits, transfers and exchanges) at a given concurrency, and SubmitTransactions in
 * batches. Throughput is read from PostgreSQL (see measure.ts), latency from the client.
 */

export const BATCH_SIZE = 100;
export const BATCH_CALLS_IN_FLIGHT = 8;

export function singleSubmits(ctx: RunContext, ledgerIds: readonly string[], inFlight: number, durationMs: number): Promise<SubmitPhaseResult> {
  const phase = `single${inFlight}`;
  return measureSubmits(ctx, ledgerIds, phase, (prefix, errors) =>
    closedLoop({
      phase,
      inFlight,
      durationMs,
      progress: ctx.progress,
      errors,
      call: async (n) => {
        await submitOne(ctx.grpc, ledgerIds, `${prefix}${n}`, ctx.options.mixed);
        return 1;
      },
    }),
  );
}

export function batchedSubmits(ctx: RunContext, ledgerIds: readonly string[], durationMs: number): Promise<SubmitPhaseResult> {
  const phase = 'batched';
  return measureSubmits(ctx, ledgerIds, phase, (prefix, errors) =>
    closedLoop({
      phase,
      inFlight: BATCH_CALLS_IN_FLIGHT,
      durationMs,
      unit: 'operations',
      progress: ctx.progress,
      errors,
      call: async (n) => {
        const transactions = Array.from({ length: BATCH_SIZE }, (_, i) => batchTransaction(ledgerIds, `${prefix}${n * BATCH_SIZE + i}`, ctx.options.mixed));
        const { results } = await ctx.grpc.unary(LedgerService.method.submitTransactions, { transactions });
        let accepted = 0;
        for (const { outcome } of results) {
          if (outcome.case === 'operation') accepted += 1;
          else errors.add(outcome.value ? codeName(outcome.value.code) : 'UNKNOWN', outcome.value?.message ?? 'no outcome');
        }
        return accepted;
      },
    }),
  );
}
