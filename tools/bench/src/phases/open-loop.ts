import { LedgerService } from '@tally/contracts';
import { statusMessage, statusName } from '../grpc-clients.js';
import { LatencyHistogram, nowMs } from '../latency.js';
import { credit, phasePrefix, randomIndex } from '../workload.js';
import { CompletionWatch, type CompletionSummary } from './completion-watch.js';
import type { RunContext } from './context.js';
import { measureSubmits, type SubmitPhaseResult } from './measure.js';
import { runSchedule } from './schedule.js';

/**
 * The open loop: credits are scheduled at a fixed rate whatever the answers, and every latency
 * is measured from the time a submit was due, not from when it went out; so a server (or a
 * bench) that stalls is charged for the whole stall, not for one slow request (no coordinated
 * omission). A WatchLedger stream on each ledger submitted to sees each credit COMPLETED: that
 * delay, also from the due time, is accepted → COMPLETED as a watching client sees it.
 */

/** Ledgers watched (and submitted to) by the open loop. */
export const OPEN_LOOP_LEDGERS = 100;
/** Submits outstanding at once; beyond it the due submit is skipped and counted, keeping the bench's memory bounded. */
export const MAX_OPEN_LOOP_IN_FLIGHT = 10_000;
/** Submits one open loop can track (a bit each, twice). */
export const MAX_OPEN_LOOP_SUBMITS = 200_000_000;

export interface OpenLoopResult extends SubmitPhaseResult, CompletionSummary {
  readonly ratePerS: number;
  readonly scheduled: number;
  /** Due submits not sent because MAX_OPEN_LOOP_IN_FLIGHT were outstanding. */
  readonly skipped: number;
  /** How late the bench sent submits against their schedule: its own share of the latency. */
  readonly sendLagMs: { readonly p50: number; readonly p99: number };
}

export interface OpenLoopSpec {
  readonly phase: string;
  readonly ratePerS: number;
  readonly durationMs: number;
  /** Called about every second while submitting, e.g. to sample memory. */
  readonly onSecond?: (elapsedMs: number) => void;
}

export async function openLoop(ctx: RunContext, allLedgerIds: readonly string[], spec: OpenLoopSpec): Promise<OpenLoopResult> {
  const ledgerIds = allLedgerIds.slice(0, OPEN_LOOP_LEDGERS);
  const total = Math.floor((spec.ratePerS * spec.durationMs) / 1000);
  if (total > MAX_OPEN_LOOP_SUBMITS) {
    throw new Error(`${spec.phase} would schedule ${total} submits, more than the bench tracks (${MAX_OPEN_LOOP_SUBMITS}); shorten it or lower --open-rate`);
  }
  const intervalMs = 1000 / spec.ratePerS;
  const sendLag = new LatencyHistogram();
  let skipped = 0;
  const watch = await CompletionWatch.open(ctx.grpc, ledgerIds, phasePrefix(ctx.runId, spec.phase), total);
  try {
    const result = await measureSubmits(ctx, ledgerIds, spec.phase, async (prefix, errors) => {
      const latency = new LatencyHistogram();
      let inFlight = 0;
      let ok = 0;
      const line = ctx.progress.begin(spec.phase, spec.durationMs, () => ({
        done: ok,
        errors: errors.total,
        note: `${inFlight} in flight, ${watch.seen} seen COMPLETED`,
      }));
      try {
        const startMs = nowMs();
        watch.startAt(startMs, intervalMs);
        const outcome = await runSchedule({
          total,
          intervalMs,
          startMs,
          maxInFlight: MAX_OPEN_LOOP_IN_FLIGHT,
          inFlight: () => inFlight,
          onSecond: spec.onSecond,
          send: (n, dueMs) => {
            sendLag.record(nowMs() - dueMs);
            inFlight += 1;
            const ledgerId = ledgerIds[randomIndex(ledgerIds.length)]!;
            ctx.grpc
              .unary(LedgerService.method.submitTransaction, credit(ledgerId, `${prefix}${n}`))
              .then(
                () => {
                  latency.record(nowMs() - dueMs);
                  watch.answered(n);
                  ok += 1;
                },
                (error: unknown) => errors.add(statusName(error), statusMessage(error)),
              )
              .finally(() => (inFlight -= 1));
          },
        });
        skipped = outcome.skipped;
        while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
        return { calls: outcome.sent, ok, latency };
      } finally {
        line.end();
      }
    });
    return {
      ...result,
      ...(await watch.finish(result.clientOk)),
      ratePerS: spec.ratePerS,
      scheduled: total,
      skipped,
      sendLagMs: { p50: sendLag.percentile(50), p99: sendLag.percentile(99) },
    };
  } finally {
    watch.close();
  }
}
