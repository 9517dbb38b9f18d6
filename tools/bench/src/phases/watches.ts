import type { ClientReadableStream } from '@grpc/grpc-js';
import { LedgerService, OperationService, OperationStatus, type WatchLedgerResponse } from '@tally/contracts';
import { ErrorTally, type ErrorSummary } from '../errors.js';
import { statusMessage, statusName } from '../grpc-clients.js';
import { LatencyHistogram, nowMs } from '../latency.js';
import { MB } from '../server-process.js';
import { credit, phasePrefix } from '../workload.js';
import type { RunContext } from './context.js';

/**
 * Many watches at once: thousands of WatchLedger streams opened together, then one credit
 * (the probe) on every watched ledger. A stream is held when it received its ledger's probe
 * COMPLETED and is still open; the delay from the probe's send to each stream's delivery shows
 * how the fan-out copes; the server's memory with the streams open shows what a watch costs.
 */

export const WATCHES_PER_LEDGER = 5;
/**
 * Distinct `x-client-id`s the streams are shared out over, so that the server's per-client
 * limit (10,000) is not what the bench runs into.
 */
export const WATCH_CLIENTS = 10;
/** Probe credits in flight at once. */
export const PROBE_CONCURRENCY = 64;
/** How long every open stream is given to receive its probe. */
export const DELIVERY_PATIENCE_MS = 30_000;

const OPEN = 0;
const DELIVERED = 1;
const ENDED = 2;

export interface WatchesResult {
  readonly opened: number;
  readonly held: number;
  readonly endedEarly: number;
  /** Open to the end, but no probe arrived within DELIVERY_PATIENCE_MS. */
  readonly notDelivered: number;
  /** Why streams ended early, by gRPC status, with the first messages. */
  readonly endings: ErrorSummary;
  readonly probeErrors: ErrorSummary;
  readonly deliveryMs: { readonly p50: number; readonly p99: number };
  readonly rssBeforeMb: number;
  readonly rssWithStreamsMb: number;
}

export async function watches(ctx: RunContext, allLedgerIds: readonly string[], count: number, settleMs: number): Promise<WatchesResult> {
  const ledgerIds = allLedgerIds.slice(0, Math.min(allLedgerIds.length, Math.ceil(count / WATCHES_PER_LEDGER)));
  const prefix = phasePrefix(ctx.runId, 'probe');
  const state = new Uint8Array(count);
  const probeSentMs = new Float64Array(ledgerIds.length);
  const delivery = new LatencyHistogram();
  const endings = new ErrorTally();
  const probeErrors = new ErrorTally();
  let delivered = 0;
  let closing = false;
  const rssBeforeMb = ctx.server.rssBytes() / MB;

  const streams: ClientReadableStream<WatchLedgerResponse>[] = [];
  for (let i = 0; i < count; i++) {
    const ledger = i % ledgerIds.length;
    const probeId = `${prefix}${ledger}`;
    const stream = ctx.grpc.serverStream(
      OperationService.method.watchLedger,
      { ledgerId: ledgerIds[ledger]! },
      { headers: { 'x-client-id': `bench-${ctx.runId}-client-${i % WATCH_CLIENTS}` } },
    );
    stream.on('data', (message: WatchLedgerResponse) => {
      if (state[i] !== OPEN || message.event.case !== 'operation') return;
      const { status, transactionId } = message.event.value;
      if (status === OperationStatus.COMPLETED && transactionId === probeId) {
        state[i] = DELIVERED;
        delivered += 1;
        delivery.record(nowMs() - probeSentMs[ledger]!);
      }
    });
    stream.on('error', (error) => {
      if (closing) return;
      if (state[i] === DELIVERED) delivered -= 1;
      state[i] = ENDED;
      endings.add(statusName(error), statusMessage(error));
    });
    streams.push(stream);
  }

  try {
    const line = ctx.progress.begin('watches', undefined, () => ({ done: delivered, errors: endings.total, note: `of ${count} streams` }), 'delivered');
    try {
      await new Promise((r) => setTimeout(r, settleMs));
      let next = 0;
      const prober = async (): Promise<void> => {
        while (next < ledgerIds.length) {
          const ledger = next++;
          probeSentMs[ledger] = nowMs();
          try {
            await ctx.grpc.unary(LedgerService.method.submitTransaction, credit(ledgerIds[ledger]!, `${prefix}${ledger}`));
          } catch (error) {
            probeErrors.add(statusName(error), statusMessage(error));
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(PROBE_CONCURRENCY, ledgerIds.length) }, prober));
      const deadline = Date.now() + DELIVERY_PATIENCE_MS;
      while (delivered + endings.total < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      line.end();
    }
    const rssWithStreamsMb = ctx.server.rssBytes() / MB;
    const held = state.reduce((n, s) => n + (s === DELIVERED ? 1 : 0), 0);
    const endedEarly = state.reduce((n, s) => n + (s === ENDED ? 1 : 0), 0);
    return {
      opened: count,
      held,
      endedEarly,
      notDelivered: count - held - endedEarly,
      endings: endings.summary(),
      probeErrors: probeErrors.summary(),
      deliveryMs: { p50: delivery.percentile(50), p99: delivery.percentile(99) },
      rssBeforeMb,
      rssWithStreamsMb,
    };
  } finally {
    closing = true;
    for (const stream of streams) stream.cancel();
  }
}
