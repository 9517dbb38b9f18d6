import type { ErrorTally } from '../errors.js';
import { statusMessage, statusName } from '../grpc-clients.js';
import { LatencyHistogram, nowMs } from '../latency.js';
import type { Progress } from '../progress.js';

/**
 * A closed loop: `inFlight` slots, each making its next call as soon as the previous one is
 * answered, until the phase's time is up; then the calls in hand are waited for. What it
 * measures is the throughput the server sustains at that concurrency, and each call's latency.
 */
export interface ClosedLoopSpec {
  readonly phase: string;
  readonly inFlight: number;
  readonly durationMs: number;
  readonly progress: Progress;
  /** What the progress line counts: `requests`, or `operations` for batches. */
  readonly unit?: string;
  /** Where failed calls (and the calls' own refused items) are counted. */
  readonly errors: ErrorTally;
  /** Makes call number `n`; resolves with how many items the server accepted (1 for a single call). */
  call(n: number): Promise<number>;
}

export interface ClosedLoopResult {
  readonly calls: number;
  /** Items answered OK: the client's own count, to hold against PostgreSQL's. */
  readonly ok: number;
  /** Latency of the calls answered OK. */
  readonly latency: LatencyHistogram;
}

export async function closedLoop(spec: ClosedLoopSpec): Promise<ClosedLoopResult> {
  const latency = new LatencyHistogram();
  const deadline = nowMs() + spec.durationMs;
  let calls = 0;
  let ok = 0;
  const line = spec.progress.begin(spec.phase, spec.durationMs, () => ({ done: ok, errors: spec.errors.total }), spec.unit);
  const slot = async (): Promise<void> => {
    while (nowMs() < deadline) {
      const n = calls++;
      const sentMs = nowMs();
      try {
        // Not `ok += await ...`: that would read `ok` before the await and lose the other slots' counts.
        const accepted = await spec.call(n);
        ok += accepted;
        latency.record(nowMs() - sentMs);
      } catch (error) {
        spec.errors.add(statusName(error), statusMessage(error));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: spec.inFlight }, slot));
  } finally {
    line.end();
  }
  return { calls, ok, latency };
}
