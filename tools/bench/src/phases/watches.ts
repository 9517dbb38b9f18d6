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
/** Probe credits in flight at once. */
export const PROBE_CONCURRENCY = 64;
/** After the last probe is sent, how long every open stream is given to receive its own (deliveries take seconds at worst). */
export const DELIVERY_PATIENCE_MS = 10_000;

const OPEN = 0;
const DELIVERED = 1;
const ENDED = 2;

export interface WatchesResult {
  readonly opened: number;
  readonly held: number;
  readonly endedEarly: number;
  /** Open to the end, but their probe, accepted, did not arrive within DELIVERY_PATIENCE_MS. */
  readonly notDelivered: number;
  /** Open to the end, but the probe of their ledger was refused: nothing to deliver. */
  readonly withoutProbe: number;
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
  const probeRefused = new Uint8Array(ledgerIds.length);
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
    const stream = ctx.grpc.serverStream(OperationService.method.watchLedger, { ledgerId: ledgerIds[ledger]! });
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
            probeRefused[ledger] = 1;
            probeErrors.add(statusName(error), statusMessage(error));
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(PROBE_CONCURRENCY, ledgerIds.length) }, prober));
      const deadline = Date.now() + DELIVERY_PATIENCE_MS;
      while (streamsIn(state, OPEN, probeRefused, 0) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      line.end();
    }
    const rssWithStreamsMb = ctx.server.rssBytes() / MB;
    return {
      opened: count,
      held: streamsIn(state, DELIVERED, probeRefused),
      endedEarly: streamsIn(state, ENDED, probeRefused),
      notDelivered: streamsIn(state, OPEN, probeRefused, 0),
      withoutProbe: streamsIn(state, OPEN, probeRefused, 1),
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

/**
 * Streams in state `wanted`; with `refused`, only those whose ledger's probe was (1) or was
 * not (0) refused. Stream i watches ledger i mod the number of ledgers.
 */
function streamsIn(state: Uint8Array, wanted: number, probeRefused: Uint8Array, refused?: 0 | 1): number {
  let n = 0;
  for (let i = 0; i < state.length; i++) {
    if (state[i] === wanted && (refused === undefined || probeRefused[i % probeRefused.length] === refused)) n += 1;
  }
  return n;
}
