import { create } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import {
  LedgerService,
  OperationService,
  OperationStatus,
  TransactionType,
  WatchOperationRequestSchema,
  type Operation,
  type WatchOperationResponse,
} from '@tally/contracts';
import { grpcServiceDefinition } from '@tally/server';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRefusal } from './support/errors.js';
import { isolatedEnv, startTestServer, type TestServer } from './support/server.js';
import { eventually, openStack, type Stack } from './support/stack.js';

/**
 * Watching operations from both kinds of clients. The API runs without a worker, so each
 * operation waits PENDING until the test starts one: every step of its life can be watched.
 */
let api: TestServer;
let stack: Stack;

beforeAll(async () => {
  const env = isolatedEnv('watch', 6);
  api = await startTestServer({ ...env, TALLY_ROLE: 'api', TALLY_PARTITIONS: '4' });
  stack = await openStack('watch', 6);
});
afterAll(async () => {
  await api.stop();
  await stack.close();
});

const ledgers = () => api.connectClient(LedgerService);
const operations = () => api.connectClient(OperationService);

async function pendingCredit(ledgerId: string, transactionId: string): Promise<Operation> {
  const { operation } = await ledgers().submitTransaction({ ledgerId, transactionId, type: TransactionType.CREDIT, amount: 42n, currency: 'USD' });
  return operation!;
}

/** Collects a grpc-js WatchOperation stream until it ends. */
function grpcWatch(operationId: string): { seen: Operation[]; ended: Promise<void> } {
  const client = new grpc.Client(api.grpcAddress, grpc.credentials.createInsecure());
  const method = grpcServiceDefinition(OperationService)['WatchOperation']!;
  const call = client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, create(WatchOperationRequestSchema, { operationId }));
  const seen: Operation[] = [];
  call.on('data', (m: WatchOperationResponse) => seen.push(m.operation!));
  const ended = new Promise<void>((resolve, reject) => {
    call.on('end', () => {
      client.close();
      resolve();
    });
    call.on('error', (e) => {
      client.close();
      reject(e);
    });
  });
  return { seen, ended };
}

function statuses(ops: readonly Operation[]): string[] {
  return ops.map((o) => OperationStatus[o.status]);
}

function expectConsistent(ops: readonly Operation[]): void {
  const versions = ops.map((o) => o.version);
  expect([...versions].sort((a, b) => (a < b ? -1 : 1))).toEqual(versions);
  expect(new Set(versions).size).toBe(versions.length);
  expect(statuses(ops).at(-1)).toBe('COMPLETED');
}

describe('WatchOperation', () => {
  it('streams PENDING, PROCESSING, COMPLETED to watchers on both transports, and ends', async () => {
    const ledgerId = (await ledgers().createLedger({ name: 'watched', currencies: ['USD'] })).ledger!.id;
    const op = await pendingCredit(ledgerId, 'w-1');

    const overGrpc = grpcWatch(op.id);
    const connectSeen: Operation[] = [];
    const overConnect = (async () => {
      for await (const m of operations().watchOperation({ operationId: op.id })) connectSeen.push(m.operation!);
    })();
    // Both watchers have their first message before anything happens.
    const firsts = await eventually(async () => [overGrpc.seen.length, connectSeen.length], (counts) => counts.every((n) => n > 0));
    expect(firsts, 'messages seen over gRPC and over Connect before the worker starts').toEqual([1, 1]);
    const worker = await stack.startWorker();
    try {
      await overGrpc.ended;
      await overConnect;
      for (const seen of [overGrpc.seen, connectSeen]) {
        expect(statuses(seen)).toEqual(['PENDING', 'PROCESSING', 'COMPLETED']);
        expect(seen.map((o) => o.version)).toEqual([1n, 2n, 3n]);
      }
      expect(connectSeen.at(-1)?.result?.balanceChanges[0]?.balanceAfter).toBe(42n);

      // A watch started after the end sees the final state and ends at once.
      const late = grpcWatch(op.id);
      await late.ended;
      expect(statuses(late.seen)).toEqual(['COMPLETED']);
    } finally {
      await worker.stop();
    }
  });

  it('gives every watcher of a busy ledger an increasing sequence that ends in the terminal state', async () => {
    const ledgerId = (await ledgers().createLedger({ name: 'busy', currencies: ['USD'] })).ledger!.id;
    const ops = await Promise.all(Array.from({ length: 20 }, (_, i) => pendingCredit(ledgerId, `busy-${i}`)));
    const watches = ops.map((op) => grpcWatch(op.id));
    const worker = await stack.startWorker();
    try {
      await Promise.all(watches.map((w) => w.ended));
      for (const w of watches) expectConsistent(w.seen);
    } finally {
      await worker.stop();
    }
  });

  it('refuses unknown and malformed operation ids', async () => {
    expect((await connectRefusal(drain(operations().watchOperation({ operationId: randomUUID() })))).code).toBe(Code.NotFound);
    expect((await connectRefusal(drain(operations().watchOperation({ operationId: 'nope' })))).code).toBe(Code.InvalidArgument);
  });
});

describe('WatchLedger', () => {
  it('streams the operation changes and balance changes of one ledger', async () => {
    const ledgerId = (await ledgers().createLedger({ name: 'ledger watch', currencies: ['USD'] })).ledger!.id;
    const abort = new AbortController();
    const events: Array<{ operationId: string | undefined; what: string }> = [];
    const watching = (async () => {
      try {
        for await (const m of operations().watchLedger({ ledgerId }, { signal: abort.signal })) {
          events.push(
            m.event.case === 'operation'
              ? { operationId: m.event.value.id, what: `op ${OperationStatus[m.event.value.status]}` }
              : { operationId: undefined, what: `balance ${m.event.value?.balanceAfter}` },
          );
          if (events.some((e) => e.what === 'balance 42')) abort.abort();
        }
      } catch (error) {
        if (!abort.signal.aborted) throw error;
      }
    })();
    const probes = await untilWatched(ledgerId, () => events.map((e) => e.operationId));
    const credit = await pendingCredit(ledgerId, 'lw-1');
    const worker = await stack.startWorker();
    try {
      await watching;
      const ofCredit = events.filter((e) => e.operationId === undefined || e.operationId === credit.id).map((e) => e.what);
      expect(ofCredit).toEqual(['op PENDING', 'op PROCESSING', 'op COMPLETED', 'balance 42']);
      const strangers = events.filter((e) => e.operationId !== undefined && e.operationId !== credit.id && !probes.has(e.operationId));
      expect(strangers, 'changes of operations on other ledgers').toEqual([]);
    } finally {
      await worker.stop();
    }
  });

  it('answers NOT_FOUND for a ledger that does not exist', async () => {
    expect((await connectRefusal(drain(operations().watchLedger({ ledgerId: randomUUID() })))).code).toBe(Code.NotFound);
  });
});

/** Probe credits sent before the watch showed one: at most one every ~50 ms for this long. */
const WATCH_SUBSCRIBE_PATIENCE_MS = 10_000;

/**
 * A ledger watch sends nothing until the ledger changes, so no reply says when the server has
 * subscribed it. Sends probe credits, each cancelled at once so that none ever touches a
 * balance, until the watch shows one of them; from then on the watch sees every change.
 * Returns the probes' operation ids.
 */
async function untilWatched(ledgerId: string, seenOperationIds: () => ReadonlyArray<string | undefined>): Promise<ReadonlySet<string>> {
  const probes = new Set<string>();
  const seen = await eventually(
    async () => {
      const probe = await pendingCredit(ledgerId, `probe-${probes.size}`);
      probes.add(probe.id);
      await operations().cancelOperation({ operationId: probe.id });
      return seenOperationIds();
    },
    (ids) => ids.some((id) => id !== undefined && probes.has(id)),
    WATCH_SUBSCRIBE_PATIENCE_MS,
  );
  expect(seen.some((id) => id !== undefined && probes.has(id)), `the ledger watch showed none of ${probes.size} probe credits`).toBe(true);
  return probes;
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) {
    // Only the error matters here.
  }
}
