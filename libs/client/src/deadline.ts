import { Code } from '@connectrpc/connect';
import { clientError, type TallyError } from './tally-error.js';

/** setTimeout's largest delay (2^31 - 1 ms, about 24.8 days); a longer one would fire at once. */
export const TIMEOUT_MAX_MS = 2_147_483_647;

/** How a wait ended early: the caller's signal, or the time allowed running out. */
export type StopCause = 'aborted' | 'timed-out';

/**
 * The end of one submitAndWait: the caller's signal or `timeoutMs`, whichever comes first. Its
 * signal goes to every call, so that stopping also cancels what is in flight.
 */
export class Deadline {
  readonly signal: AbortSignal;
  #cause: StopCause | undefined;
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly #onAbort = () => this.#stop('aborted');

  constructor(
    readonly timeoutMs: number,
    private readonly callerSignal: AbortSignal | undefined,
  ) {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > TIMEOUT_MAX_MS) {
      throw clientError(`timeoutMs must be a whole number of ms from 1 to ${TIMEOUT_MAX_MS}, got ${timeoutMs}`, Code.InvalidArgument, 'OPTIONS_INVALID');
    }
    this.signal = this.#controller.signal;
    this.#timer = setTimeout(() => this.#stop('timed-out'), timeoutMs);
    if (callerSignal?.aborted) this.#stop('aborted');
    else callerSignal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Why it stopped, once it has. */
  get cause(): StopCause | undefined {
    return this.#cause;
  }

  /** The error submitAndWait rejects with once stopped; facts say where it was. */
  error(facts: Record<string, string>): TallyError {
    const where = Object.entries(facts).map(([k, v]) => `${k} ${v}`).join(', ');
    return this.#cause === 'timed-out'
      ? clientError(`submitAndWait gave up after ${this.timeoutMs} ms (${where})`, Code.DeadlineExceeded, 'SUBMIT_AND_WAIT_TIMEOUT', facts)
      : clientError(`submitAndWait was aborted (${where})`, Code.Canceled, 'SUBMIT_AND_WAIT_ABORTED', facts, this.callerSignal?.reason);
  }

  /** Clears the timer and leaves the caller's signal; call once done, whatever the outcome. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.callerSignal?.removeEventListener('abort', this.#onAbort);
  }

  #stop(cause: StopCause): void {
    if (this.#cause) return;
    this.#cause = cause;
    this.#controller.abort();
  }
}

/** Waits `ms`, or less when `signal` aborts (then rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
