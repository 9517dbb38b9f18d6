import { LedgerService } from '@tally/contracts';
import { ErrorTally } from '../errors.js';
import { statusMessage, statusName } from '../grpc-clients.js';
import { credit, LEDGER_CURRENCIES, phasePrefix } from '../workload.js';
import type { RunContext } from './context.js';
import { drainPhase } from './drain.js';

/**
 * The ledgers the load goes to, each with an opening USD credit so that debits can succeed.
 * A ledger's request id names only its number, so a rerun finds the ledgers an earlier run
 * made instead of adding as many again; the credits are the run's own.
 */

/** Calls in flight while setting up: enough to be quick, few enough to leave the server room. */
export const SETUP_CONCURRENCY = 32;
/** USD 1,000.00 on every ledger. */
export const OPENING_CREDIT_MINOR = 100_000n;

export interface Setup {
  readonly ledgerIds: readonly string[];
  readonly elapsedMs: number;
}

export async function setUpLedgers(ctx: RunContext): Promise<Setup> {
  const startMs = Date.now();
  const count = ctx.options.ledgers;
  const errors = new ErrorTally();
  const ledgerIds: string[] = new Array<string>(count);
  await inParallel(ctx, 'setup ledgers', count, errors, async (i) => {
    const { ledger } = await ctx.grpc.unary(LedgerService.method.createLedger, {
      name: `bench ledger ${i}`,
      currencies: [...LEDGER_CURRENCIES],
      overdraftAllowed: false,
      requestId: `bench-ledger-${i}`,
    });
    ledgerIds[i] = ledger!.id;
  });
  failOn(errors, 'creating the ledgers');
  const mark = await ctx.counts.mark(phasePrefix(ctx.runId, 'setup'));
  await inParallel(ctx, 'setup credits', count, errors, async (i) => {
    await ctx.grpc.unary(LedgerService.method.submitTransaction, credit(ledgerIds[i]!, `${mark.prefix}${i}`, OPENING_CREDIT_MINOR));
  });
  failOn(errors, 'the opening credits');
  const drain = await drainPhase(ctx, 'setup', mark);
  if (drain.leftInFlight > 0) throw new Error(`the opening credits were not applied within the patience (${drain.leftInFlight} left)`);
  return { ledgerIds, elapsedMs: Date.now() - startMs };
}

/** `work(0..count-1)`, SETUP_CONCURRENCY at a time, with a progress line. */
async function inParallel(ctx: RunContext, label: string, count: number, errors: ErrorTally, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let done = 0;
  const line = ctx.progress.begin(label, undefined, () => ({ done, errors: errors.total, note: `of ${count}` }), 'done');
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      try {
        await work(i);
        done += 1;
      } catch (error) {
        errors.add(statusName(error), statusMessage(error));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, count) }, worker));
  } finally {
    line.end();
  }
}

/** Setup has no partial success: a load on half the ledgers would measure something else. */
function failOn(errors: ErrorTally, what: string): void {
  if (errors.total === 0) return;
  const { byCode, messages } = errors.summary();
  throw new Error(`${what} failed: ${JSON.stringify(byCode)} ${JSON.stringify(messages)}`);
}
