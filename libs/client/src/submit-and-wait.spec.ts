import { create } from '@bufbuild/protobuf';
import { DurationSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect';
import {
  ErrorInfoSchema,
  LedgerService,
  OperationKind,
  OperationSchema,
  OperationService,
  OperationStatus,
  RetryInfoSchema,
  TransactionType,
  type Operation,
} from '@tally/contracts';
import { describe, expect, it } from 'vitest';
import { TallyError } from './tally-error.js';
import { createTallyClientWithTransport } from './tally-client.js';

/** What one WatchOperation call of the fake does after sending the current state. */
type WatchStep = 'break' | 'complete' | 'fail' | 'hang';

/**
 * An in-memory Tally that keeps one operation per transaction id, as the real one does, and
 * misbehaves on cue: the first submits fail with `submitFailures`, each watch does what
 * `watchSteps` says (then 'complete').
 */
function fakeTally(script: { submitFailures?: ConnectError[]; watchSteps?: WatchStep[] } = {}) {
  const submitFailures = [...(script.submitFailures ?? [])];
  const watchSteps = [...(script.watchSteps ?? [])];
  const byTransactionId = new Map<string, Operation>();
  const seen = { submittedTransactionIds: [] as string[], watches: 0, reads: 0 };
  const settle = (op: Operation, status: OperationStatus, error?: Operation['error']) =>
    Object.assign(op, { status, version: op.version + 1n, ...(error && { error }) });

  const transport = createRouterTransport((router) => {
    router.service(LedgerService, {
      submitTransaction(request) {
        seen.submittedTransactionIds.push(request.transactionId);
        const failure = submitFailures.shift();
        if (failure) throw failure;
        let op = byTransactionId.get(request.transactionId);
        if (!op) {
          op = create(OperationSchema, {
            id: `op-${byTransactionId.size + 1}`,
            kind: OperationKind.TRANSACTION,
            status: OperationStatus.PENDING,
            ledgerId: request.ledgerId,
            transactionId: request.transactionId,
            version: 1n,
          });
          byTransactionId.set(request.transactionId, op);
        }
        return { operation: op };
      },
    });
    router.service(OperationService, {
      getOperation(request) {
        seen.reads++;
        const op = [...byTransactionId.values()].find((o) => o.id === request.operationId);
        if (!op) throw new ConnectError('no such operation', Code.NotFound);
        return { operation: op };
      },
      async *watchOperation(request, context) {
        seen.watches++;
        const op = [...byTransactionId.values()].find((o) => o.id === request.operationId);
        if (!op) throw new ConnectError('no such operation', Code.NotFound);
        yield { operation: op };
        const step = watchSteps.shift() ?? 'complete';
        if (step === 'break') throw new ConnectError('connection lost', Code.Unavailable);
        if (step === 'hang') return await new Promise<never>((_, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason)));
        if (step === 'fail') settle(op, OperationStatus.FAILED, { $typeName: 'tally.v1.OperationError', code: 'INSUFFICIENT_FUNDS', message: 'not enough USD', details: {} });
        else settle(op, OperationStatus.COMPLETED);
        yield { operation: op };
      },
    });
  });
  return { tally: createTallyClientWithTransport(transport), seen, byTransactionId };
}

const credit = { transaction: { ledgerId: 'l-1', type: TransactionType.CREDIT, amount: 1050n, currency: 'USD' } };
/** Backoff in single milliseconds: the policy is the same, the test just does not sit through it. */
const quick = { retry: { backoffBaseMs: 1, backoffCapMs: 4 } };

describe('submitAndWait', () => {
  it('resolves with the operation once COMPLETED, under a transaction id it made', async () => {
    const { tally, seen } = fakeTally();
    const op = await tally.submitAndWait(credit, quick);
    expect(op.status).toBe(OperationStatus.COMPLETED);
    expect(op.transactionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.submittedTransactionIds).toEqual([op.transactionId]);
  });

  it('resolves FAILED with the reason: a business failure is an outcome, not an error', async () => {
    const { tally } = fakeTally({ watchSteps: ['fail'] });
    const op = await tally.submitAndWait(credit, quick);
    expect(op.status).toBe(OperationStatus.FAILED);
    expect(op.error?.code).toBe('INSUFFICIENT_FUNDS');
  });

  it('retries an unanswered submit with the same transaction id, and one operation results', async () => {
    const { tally, seen, byTransactionId } = fakeTally({
      submitFailures: [new ConnectError('down', Code.Unavailable), new ConnectError('slow', Code.DeadlineExceeded)],
    });
    const op = await tally.submitAndWait({ transaction: { ...credit.transaction, transactionId: 't-1' } }, quick);
    expect(op.status).toBe(OperationStatus.COMPLETED);
    expect(seen.submittedTransactionIds).toEqual(['t-1', 't-1', 't-1']);
    expect(byTransactionId.size).toBe(1);
  });

  it("waits out RESOURCE_EXHAUSTED as the server's RetryInfo says", async () => {
    const busy = new ConnectError('over budget', Code.ResourceExhausted, undefined, [
      { desc: RetryInfoSchema, value: { retryDelay: create(DurationSchema, { nanos: 20_000_000 }) } },
    ]);
    const { tally, seen } = fakeTally({ submitFailures: [busy] });
    expect((await tally.submitAndWait(credit, quick)).status).toBe(OperationStatus.COMPLETED);
    expect(seen.submittedTransactionIds).toHaveLength(2);
  });

  it('rejects at once, with the decoded refusal, when the submit is refused for good', async () => {
    const refusal = new ConnectError('currency USD is not enabled', Code.FailedPrecondition, undefined, [
      { desc: ErrorInfoSchema, value: { reason: 'CURRENCY_NOT_ENABLED', domain: 'tally.v1' } },
    ]);
    const { tally, seen } = fakeTally({ submitFailures: [refusal] });
    const error = await tally.submitAndWait(credit, quick).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TallyError);
    expect(error).toMatchObject({ code: Code.FailedPrecondition, reason: 'CURRENCY_NOT_ENABLED' });
    expect(seen.submittedTransactionIds).toHaveLength(1);
  });

  it('gives up after attemptsMax tries, with the last failure', async () => {
    const down = Array.from({ length: 10 }, () => new ConnectError('down', Code.Unavailable));
    const { tally, seen } = fakeTally({ submitFailures: down });
    const error = await tally.submitAndWait(credit, { retry: { ...quick.retry, attemptsMax: 4 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: Code.Unavailable });
    expect(seen.submittedTransactionIds).toHaveLength(4);
  });

  it('reads the operation and watches again when a watch breaks', async () => {
    const { tally, seen } = fakeTally({ watchSteps: ['break', 'break'] });
    const op = await tally.submitAndWait(credit, quick);
    expect(op.status).toBe(OperationStatus.COMPLETED);
    expect(seen.watches).toBe(3);
    expect(seen.reads).toBe(2);
    expect(seen.submittedTransactionIds).toHaveLength(1);
  });

  it('rejects DEADLINE_EXCEEDED after timeoutMs, naming the transaction and the operation', async () => {
    const { tally } = fakeTally({ watchSteps: ['hang'] });
    const error = await tally.submitAndWait({ transaction: { ...credit.transaction, transactionId: 't-slow' } }, { ...quick, timeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TallyError);
    expect(error).toMatchObject({
      code: Code.DeadlineExceeded,
      reason: 'SUBMIT_AND_WAIT_TIMEOUT',
      domain: 'tally.client',
      facts: { transactionId: 't-slow', operationId: 'op-1' },
    });
  });

  it('rejects CANCELED when the signal aborts, and does not start when it already has', async () => {
    const { tally, seen } = fakeTally({ watchSteps: ['hang'] });
    const controller = new AbortController();
    const waiting = tally.submitAndWait(credit, { ...quick, signal: controller.signal });
    while (seen.watches === 0) await new Promise((r) => setTimeout(r, 1));
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: Code.Canceled, reason: 'SUBMIT_AND_WAIT_ABORTED' });

    await expect(tally.submitAndWait(credit, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: Code.Canceled });
    expect(seen.submittedTransactionIds).toHaveLength(1);
  });

  it('refuses a timeoutMs it cannot keep', async () => {
    const { tally } = fakeTally();
    await expect(tally.submitAndWait(credit, { timeoutMs: 0 })).rejects.toMatchObject({ code: Code.InvalidArgument, reason: 'OPTIONS_INVALID' });
  });
});
