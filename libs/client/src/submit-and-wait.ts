import { Code, type Client } from '@connectrpc/connect';
import type { ExchangeService, LedgerService, Operation, OperationService } from '@tally/contracts';
import { Deadline, sleep } from './deadline.js';
import { nextRetryDelayMs, retryLimits, type RetryLimits } from './retry-policy.js';
import { isTerminal, prepareSubmission, type PreparedSubmission, type Submission } from './submission.js';
import { clientError, toTallyError } from './tally-error.js';

/** submitAndWait's whole budget unless the caller gives one. */
export const DEFAULT_SUBMIT_AND_WAIT_TIMEOUT_MS = 60_000;

/** One unary call (a submit, a GetOperation) is given up after this long and counted as a failed try. */
export const CALL_TIMEOUT_MS = 10_000;

/**
 * A watch is left and opened again after this long. Tally sends nothing while an operation
 * does not change, so this is how a connection that died without a word gets noticed.
 */
export const WATCH_SPAN_MS = 15_000;

export interface SubmitAndWaitOptions {
  /** Aborting it rejects submitAndWait with CANCELED (reason SUBMIT_AND_WAIT_ABORTED) and cancels the call in flight. */
  readonly signal?: AbortSignal;
  /** The whole budget, submit and wait; then DEADLINE_EXCEEDED (reason SUBMIT_AND_WAIT_TIMEOUT). Default 60_000. */
  readonly timeoutMs?: number;
  /** Overrides of DEFAULT_RETRY_LIMITS, for the submit and for following the operation alike. */
  readonly retry?: Partial<RetryLimits>;
}

/** The three service clients, already answering TallyErrors. */
export interface TallyServices {
  readonly ledgers: Client<typeof LedgerService>;
  readonly exchange: Client<typeof ExchangeService>;
  readonly operations: Client<typeof OperationService>;
}

/**
 * Submits a transaction, transfer or exchange and resolves with its operation once terminal
 * (COMPLETED, FAILED or CANCELLED). The transaction id is fixed before the first try and sent
 * on every retry, so a submit whose answer was lost and is sent again is recognised by Tally
 * and applied once. Transient failures are retried with capped backoff (retry-policy.ts);
 * anything else rejects at once.
 */
export async function submitAndWait(services: TallyServices, submission: Submission, options: SubmitAndWaitOptions = {}): Promise<Operation> {
  const limits = retryLimits(options.retry);
  const prepared = prepareSubmission(submission, () => crypto.randomUUID());
  const deadline = new Deadline(options.timeoutMs ?? DEFAULT_SUBMIT_AND_WAIT_TIMEOUT_MS, options.signal);
  let operationId: string | undefined;
  try {
    if (deadline.cause) throw deadline.signal.reason;
    const accepted = await retrying(limits, deadline, (signal) => submit(services, prepared, signal));
    operationId = accepted.id;
    if (isTerminal(accepted.status)) return accepted;
    return await follow(services.operations, accepted.id, limits, deadline);
  } catch (error) {
    if (deadline.cause) throw deadline.error({ transactionId: prepared.transactionId, ...(operationId && { operationId }) });
    throw toTallyError(error);
  } finally {
    deadline.dispose();
  }
}

/** Tries `call` until it succeeds, fails for good, or the limits or the deadline are reached. */
async function retrying<T>(limits: RetryLimits, deadline: Deadline, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  for (let failedAttempts = 1; ; failedAttempts++) {
    try {
      return await call(deadline.signal);
    } catch (error) {
      const delayMs = nextRetryDelayMs(error, failedAttempts, limits);
      if (delayMs === undefined || deadline.cause) throw error;
      await sleep(delayMs, deadline.signal);
    }
  }
}

async function submit(services: TallyServices, prepared: PreparedSubmission, signal: AbortSignal): Promise<Operation> {
  const call = { signal, timeoutMs: CALL_TIMEOUT_MS };
  const { operation } =
    prepared.kind === 'transaction'
      ? await services.ledgers.submitTransaction(prepared.request, call)
      : prepared.kind === 'transfer'
        ? await services.ledgers.submitTransfer(prepared.request, call)
        : await services.exchange.submitExchange(prepared.request, call);
  if (!operation) throw clientError(`the ${prepared.kind} was accepted without an operation`, Code.Internal, 'OPERATION_MISSING');
  return operation;
}

/**
 * Follows an accepted operation to a terminal state with WatchOperation (its current state
 * first, then every change). When a watch breaks, it reads the operation once with
 * GetOperation (the watch may have been what failed, not the server), then watches again.
 */
async function follow(operations: TallyServices['operations'], operationId: string, limits: RetryLimits, deadline: Deadline): Promise<Operation> {
  for (let failedAttempts = 1; ; failedAttempts++) {
    const watched = await watchRound(operations, operationId, deadline.signal);
    if (watched.terminal) return watched.terminal;
    // A watch that showed the operation worked: only failures in a row count against the limits.
    if (watched.progressed) failedAttempts = 1;
    const delayMs = nextRetryDelayMs(watched.error, failedAttempts, limits);
    if (delayMs === undefined || deadline.cause) throw watched.error;
    await sleep(delayMs, deadline.signal);
    try {
      const { operation } = await operations.getOperation({ operationId }, { signal: deadline.signal, timeoutMs: CALL_TIMEOUT_MS });
      if (operation && isTerminal(operation.status)) return operation;
    } catch (error) {
      if (nextRetryDelayMs(error, failedAttempts, limits) === undefined || deadline.cause) throw error;
    }
  }
}

type WatchRound = { terminal: Operation; progressed: true; error?: never } | { terminal?: never; progressed: boolean; error: unknown };

/** One WatchOperation stream, until a terminal state, its end, its failure, or WATCH_SPAN_MS. */
async function watchRound(operations: TallyServices['operations'], operationId: string, signal: AbortSignal): Promise<WatchRound> {
  // The span is kept by a timer of the client's rather than the call's timeoutMs: the time is
  // the client's business, and a server need not be told it (nor refuse it).
  const round = new AbortController();
  const leave = () => round.abort();
  signal.addEventListener('abort', leave, { once: true });
  let spanEnded = false;
  const span = setTimeout(() => {
    spanEnded = true;
    round.abort();
  }, WATCH_SPAN_MS);
  let progressed = false;
  try {
    for await (const { operation } of operations.watchOperation({ operationId }, { signal: round.signal })) {
      progressed = true;
      if (operation && isTerminal(operation.status)) return { terminal: operation, progressed };
    }
    // Tally ends a watch only after a terminal state; one that ends sooner is watched again.
    return { progressed, error: clientError(`the watch of operation ${operationId} ended before a terminal state`, Code.Unavailable, 'WATCH_ENDED') };
  } catch (error) {
    if (spanEnded && !signal.aborted) {
      return { progressed, error: clientError(`no change of operation ${operationId} within ${WATCH_SPAN_MS} ms`, Code.DeadlineExceeded, 'WATCH_SPAN_ENDED') };
    }
    return { progressed, error };
  } finally {
    clearTimeout(span);
    signal.removeEventListener('abort', leave);
    // Leaving early (a terminal state) also closes the stream.
    round.abort();
  }
}
