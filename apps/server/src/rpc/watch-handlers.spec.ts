import { create } from '@bufbuild/protobuf';
import { createHandlerContext } from '@connectrpc/connect';
import {
  OperationService,
  OperationStatus,
  WatchLedgerRequestSchema,
  WatchOperationRequestSchema,
} from '@tally/contracts';
import type { LedgerEvent, Operation } from '@tally/operations';
import { EVERY_TENANT, notFound, type TenantScope } from '@tally/platform';
import { describe, expect, it } from 'vitest';
import { setCaller, type Caller } from '../access/caller.js';
import { watchHandlers, type OperationWatches } from './watch-handlers.js';

/** The handlers against a fake watcher: mapping, whose watch it is, and the ledger and tenant checks. */

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
    tenant: null,
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

const ANONYMOUS: Caller = { scope: EVERY_TENANT, id: 'address:127.0.0.1' };

/** A call's context as the gate leaves it: with its caller. */
function context(method: 'watchOperation' | 'watchLedger', caller: Caller = ANONYMOUS) {
  const ctx = createHandlerContext({
    service: OperationService,
    method: OperationService.method[method],
    protocolName: 'connect',
    requestMethod: 'POST',
    url: `http://localhost/tally.v1.OperationService/${method}`,
    requestHeader: {},
  });
  setCaller(ctx, caller);
  return ctx;
}

const open = { requireLedger: async () => undefined, requireOperation: async () => undefined };

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
  it("streams operation versions as Operation messages, with the call signal, counted as the caller's watch", async () => {
    const { watcher, calls } = fakeWatcher({ operations: [operation(1n, 'PENDING'), operation(2n, 'COMPLETED')] });
    const handlers = watchHandlers({ watcher, ...open });
    const ctx = context('watchOperation', { scope: EVERY_TENANT, id: 'key:billing-service' });
    const responses = await collect(handlers.watchOperation(create(WatchOperationRequestSchema, { operationId: OPERATION }), ctx));
    expect(responses.map((r) => [r.operation?.version, r.operation?.status])).toEqual([
      [1n, OperationStatus.PENDING],
      [2n, OperationStatus.COMPLETED],
    ]);
    expect(calls).toEqual([{ rpc: 'operation', id: OPERATION, clientId: 'key:billing-service', signal: ctx.signal }]);
  });

  it("checks a tenant's operation before watching it: another tenant's is NOT_FOUND", async () => {
    const { watcher, calls } = fakeWatcher({ operations: [operation(1n, 'COMPLETED')] });
    const asked: TenantScope[] = [];
    const handlers = watchHandlers({
      watcher,
      requireLedger: async () => undefined,
      requireOperation: async (id, scope) => {
        asked.push(scope);
        if (scope.tenant !== 'acme') throw notFound('operation', id);
      },
    });
    const request = create(WatchOperationRequestSchema, { operationId: OPERATION });
    const globex = context('watchOperation', { scope: { tenant: 'globex' }, id: 'key:g' });
    await expect(collect(handlers.watchOperation(request, globex))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(calls).toEqual([]);
    expect(await collect(handlers.watchOperation(request, context('watchOperation', { scope: { tenant: 'acme' }, id: 'key:a' })))).toHaveLength(1);
    expect(asked).toEqual([{ tenant: 'globex' }, { tenant: 'acme' }]);
  });

  it('streams ledger operation and balance changes', async () => {
    const change = { operationId: OPERATION, ledgerId: LEDGER, currency: 'USD', amount: -250n, balanceAfter: 750n };
    const { watcher } = fakeWatcher({ ledger: [{ kind: 'operation', operation: operation(3n, 'COMPLETED') }, { kind: 'balance', change }] });
    const handlers = watchHandlers({ watcher, ...open });
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
      requireOperation: async () => undefined,
    });
    const stream = handlers.watchLedger(create(WatchLedgerRequestSchema, { ledgerId: LEDGER }), context('watchLedger'));
    await expect(collect(stream)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(calls).toEqual([]);
  });
});
