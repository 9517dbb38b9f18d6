import { create } from '@bufbuild/protobuf';
import { createHandlerContext } from '@connectrpc/connect';
import {
  OperationService,
  OperationStatus,
  WatchLedgerRequestSchema,
  WatchOperationRequestSchema,
} from '@tally/contracts';
import type { LedgerEvent, Operation } from '@tally/operations';
import { notFound } from '@tally/platform';
import { describe, expect, it } from 'vitest';
import { watchHandlers, type OperationWatches } from './watch-handlers.js';

/** The handlers against a fake watcher: mapping, client ids, and the ledger check. */

const LEDGER = '0193f5a2-7c1e-7b3a-9f00-2b6c4d8e1a55';
const OPERATION = '0193f5a2-7c1e-7b3a-9f00-2b6c4d8e1a56';

function operation(version: bigint, status: Operation['status']): Operation {
  const time = new Date('2026-01-01T00:00:00Z');
  return {
    id: OPERATION,
    kind: 'TRANSACTION',
    status,
    ledgerId: LEDGER,
    toLedgerId: null,
    transactionId: 'tx-1',
    version,
    steps: [],
    result: null,
    error: null,
    attempts: 0,
    createTime: time,
    updateTime: time,
  };
}

function context(method: 'watchOperation' | 'watchLedger', headers: Record<string, string> = {}) {
  return createHandlerContext({
    service: OperationService,
    method: OperationService.method[method],
    protocolName: 'connect',
    requestMethod: 'POST',
    url: `http://localhost/tally.v1.OperationService/${method}`,
    requestHeader: headers,
  });
}

function fakeWatcher(events: { operations?: Operation[]; ledger?: LedgerEvent[] }) {
  const calls: Array<{ rpc: string; id: string; clientId: string; signal: AbortSignal }> = [];
  const watcher: OperationWatches = {
    async *watchOperation(id, { clientId, signal }) {
      calls.push({ rpc: 'operation', id, clientId, signal });
      yield* events.operations ?? [];
    },
    async *watchLedger(id, { clientId, signal }) {
      calls.push({ rpc: 'ledger', id, clientId, signal });
      yield* events.ledger ?? [];
    },
  };
  return { watcher, calls };
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

describe('watch handlers', () => {
  it('streams operation versions as Operation messages, with the call signal and client id', async () => {
    const { watcher, calls } = fakeWatcher({ operations: [operation(1n, 'PENDING'), operation(2n, 'COMPLETED')] });
    const handlers = watchHandlers({ watcher, requireLedger: async () => undefined });
    const ctx = context('watchOperation', { 'x-client-id': '  billing-service  ' });
    const responses = await collect(handlers.watchOperation(create(WatchOperationRequestSchema, { operationId: OPERATION }), ctx));
    expect(responses.map((r) => [r.operation?.version, r.operation?.status])).toEqual([
      [1n, OperationStatus.PENDING],
      [2n, OperationStatus.COMPLETED],
    ]);
    expect(calls).toEqual([{ rpc: 'operation', id: OPERATION, clientId: 'billing-service', signal: ctx.signal }]);
  });

  it('names the client anonymous without a header, and cuts a long one to 64 characters', async () => {
    const { watcher, calls } = fakeWatcher({});
    const handlers = watchHandlers({ watcher, requireLedger: async () => undefined });
    const request = create(WatchOperationRequestSchema, { operationId: OPERATION });
    await collect(handlers.watchOperation(request, context('watchOperation')));
    await collect(handlers.watchOperation(request, context('watchOperation', { 'x-client-id': '   ' })));
    await collect(handlers.watchOperation(request, context('watchOperation', { 'x-client-id': 'é'.repeat(100) })));
    expect(calls.map((c) => c.clientId)).toEqual(['anonymous', 'anonymous', 'é'.repeat(64)]);
  });

  it('streams ledger operation and balance changes', async () => {
    const change = { operationId: OPERATION, ledgerId: LEDGER, currency: 'USD', amount: -250n, balanceAfter: 750n };
    const { watcher } = fakeWatcher({ ledger: [{ kind: 'operation', operation: operation(3n, 'COMPLETED') }, { kind: 'balance', change }] });
    const handlers = watchHandlers({ watcher, requireLedger: async () => undefined });
    const responses = await collect(
      handlers.watchLedger(create(WatchLedgerRequestSchema, { ledgerId: LEDGER }), context('watchLedger')),
    );
    const events = responses.map((r) => r.event);
    expect(events[0]).toMatchObject({ case: 'operation', value: { id: OPERATION, version: 3n } });
    expect(events[1]).toMatchObject({
      case: 'balanceChange',
      value: { ledgerId: LEDGER, currency: 'USD', amount: -250n, balanceAfter: 750n },
    });
  });

  it('answers NOT_FOUND for an unknown ledger before watching anything', async () => {
    const { watcher, calls } = fakeWatcher({});
    const handlers = watchHandlers({
      watcher,
      requireLedger: async (id) => {
        throw notFound('ledger', id);
      },
    });
    const stream = handlers.watchLedger(create(WatchLedgerRequestSchema, { ledgerId: LEDGER }), context('watchLedger'));
    await expect(collect(stream)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(calls).toEqual([]);
  });
});
