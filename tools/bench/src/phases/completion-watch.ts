import type { ClientReadableStream } from '@grpc/grpc-js';
import { OperationService, OperationStatus, type WatchLedgerResponse } from '@tally/contracts';
import { ErrorTally, type ErrorSummary } from '../errors.js';
import { statusMessage, statusName, type GrpcConnections } from '../grpc-clients.js';
import { LatencyHistogram, nowMs } from '../latency.js';

/**
 * The open loop's watcher: a WatchLedger stream on every ledger it submits to, noting when
 * each credit (`<prefix><n>`) is first seen COMPLETED, measured from the time it was due. Two
 * bits per submit (answered OK, seen COMPLETED) say at the end which were never seen.
 */

/** Time for the streams to subscribe before the first submit. */
export const WATCH_SETTLE_MS = 1_000;
/** After the phase (and its drain), how long COMPLETED events are still waited for. */
export const COMPLETION_GRACE_MS = 10_000;

export interface CompletionSummary {
  /** From a credit's due time to its watcher seeing it COMPLETED: it includes the submit. */
  readonly completionMs: { readonly p50: number; readonly p99: number };
  readonly seenCompleted: number;
  /** Credits answered OK whose COMPLETED no watcher had seen by the end of the grace. */
  readonly neverSeenCompleted: number;
  /** Streams that ended before the phase did, by gRPC status. */
  readonly watchErrors: ErrorSummary;
}

export class CompletionWatch {
  readonly #answered: Bits;
  readonly #seen: Bits;
  readonly #completion = new LatencyHistogram();
  readonly #errors = new ErrorTally();
  #streams: ClientReadableStream<WatchLedgerResponse>[] = [];
  #seenCount = 0;
  #startMs = 0;
  #intervalMs = 0;
  #closing = false;

  private constructor(
    private readonly prefix: string,
    private readonly total: number,
  ) {
    this.#answered = new Bits(total);
    this.#seen = new Bits(total);
  }

  static async open(grpc: GrpcConnections, ledgerIds: readonly string[], prefix: string, total: number): Promise<CompletionWatch> {
    const watch = new CompletionWatch(prefix, total);
    watch.#streams = ledgerIds.map((ledgerId) => {
      const stream = grpc.serverStream(OperationService.method.watchLedger, { ledgerId });
      stream.on('data', (message: WatchLedgerResponse) => watch.#onEvent(message));
      stream.on('error', (error) => {
        if (!watch.#closing) watch.#errors.add(statusName(error), statusMessage(error));
      });
      return stream;
    });
    await new Promise((r) => setTimeout(r, WATCH_SETTLE_MS));
    return watch;
  }

  /** Submit n is due at `startMs + n × intervalMs`. */
  startAt(startMs: number, intervalMs: number): void {
    this.#startMs = startMs;
    this.#intervalMs = intervalMs;
  }

  answered(n: number): void {
    this.#answered.set(n);
  }

  get seen(): number {
    return this.#seenCount;
  }

  /** Waits (up to the grace) for the answered credits still unseen, then sums up. */
  async finish(answeredCount: number): Promise<CompletionSummary> {
    const graceEndMs = Date.now() + COMPLETION_GRACE_MS;
    while (this.#seenCount < answeredCount && Date.now() < graceEndMs && this.#errors.total < this.#streams.length) {
      await new Promise((r) => setTimeout(r, 50));
    }
    let neverSeen = 0;
    for (let n = 0; n < this.total; n++) if (this.#answered.has(n) && !this.#seen.has(n)) neverSeen += 1;
    return {
      completionMs: { p50: this.#completion.percentile(50), p99: this.#completion.percentile(99) },
      seenCompleted: this.#seenCount,
      neverSeenCompleted: neverSeen,
      watchErrors: this.#errors.summary(),
    };
  }

  close(): void {
    this.#closing = true;
    for (const stream of this.#streams) stream.cancel();
  }

  #onEvent(message: WatchLedgerResponse): void {
    if (message.event.case !== 'operation') return;
    const { status, transactionId } = message.event.value;
    if (status !== OperationStatus.COMPLETED || !transactionId.startsWith(this.prefix)) return;
    const n = Number(transactionId.slice(this.prefix.length));
    if (Number.isInteger(n) && n >= 0 && n < this.total && this.#seen.set(n)) {
      this.#seenCount += 1;
      this.#completion.record(nowMs() - (this.#startMs + n * this.#intervalMs));
    }
  }
}

/** One bit per submit: compact enough to track every submit of a long soak. */
export class Bits {
  readonly #bytes: Uint8Array;

  constructor(size: number) {
    this.#bytes = new Uint8Array(Math.ceil(size / 8));
  }

  /** Sets bit `n`; true if it was not set before. */
  set(n: number): boolean {
    const mask = 1 << (n & 7);
    const byte = this.#bytes[n >> 3]!;
    if (byte & mask) return false;
    this.#bytes[n >> 3] = byte | mask;
    return true;
  }

  has(n: number): boolean {
    return (this.#bytes[n >> 3]! & (1 << (n & 7))) !== 0;
  }
}
