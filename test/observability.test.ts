import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { LedgerService, ListLedgersRequestSchema, OperationService, TransactionType } from '@tally/contracts';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settled } from './support/operations.js';
import { spawnTally, type TallyProcess } from './support/process.js';
import { isolatedEnv, startTestServer, type GrpcClient, type TestServer } from './support/server.js';

/**
 * What operators see of a running Tally: Prometheus metrics on /metrics that move with the
 * traffic, a request id on every answer of every transport, and (with OTEL_TRACES_EXPORTER)
 * one trace from a submit RPC into the worker's apply of its operation, with log lines that
 * name the same request.
 */
let t: TestServer;
let grpcLedgers: GrpcClient<typeof LedgerService>;
let grpcOperations: GrpcClient<typeof OperationService>;

beforeAll(async () => {
  t = await startTestServer();
  grpcLedgers = t.grpcClient(LedgerService);
  grpcOperations = t.grpcClient(OperationService);
});
afterAll(() => t.stop());

/** One sample of the exposition: the value of `name{labels}` (labels in any order), 0 when absent. */
async function sample(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return 0;
}

async function creditedLedger(amount: bigint): Promise<{ ledgerId: string; operationId: string }> {
  const { ledger } = await grpcLedgers.createLedger({ name: 'Observed', currencies: ['USD'] });
  const { operation } = await grpcLedgers.submitTransaction({
    ledgerId: ledger!.id,
    transactionId: `t-${amount}`,
    type: TransactionType.CREDIT,
    amount,
    currency: 'USD',
  });
  await settled((req) => grpcOperations.getOperation(req), operation!.id);
  return { ledgerId: ledger!.id, operationId: operation!.id };
}

describe('GET /metrics', () => {
  it('answers the Prometheus text format with the process metrics', async () => {
    const response = await fetch(`${t.httpUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    await expect.poll(() => sample('process_resident_memory_bytes')).toBeGreaterThan(0);
    // The worker takes its partitions' leases in its first rounds.
    await expect.poll(() => sample('tally_partitions_held')).toBeGreaterThan(0);
    expect(await sample('tally_redis_connected', { connection: 'all' })).toBe(1);
    expect(await sample('tally_db_pool_connections', { state: 'total' })).toBeGreaterThan(0);
  });

  it('counts RPCs by method, code and transport, and operations from accepted to finished', async () => {
    const method = 'LedgerService/SubmitTransaction';
    const before = {
      submits: await sample('tally_rpc_requests_total', { method, code: 'ok', transport: 'grpc' }),
      refused: await sample('tally_rpc_requests_total', { method: 'LedgerService/GetBalances', code: 'invalid_argument', transport: 'connect' }),
      accepted: await sample('tally_operations_accepted_total', { kind: 'transaction' }),
      completed: await sample('tally_operations_finished_total', { kind: 'transaction', status: 'completed', reason: '' }),
      failed: await sample('tally_operations_finished_total', { kind: 'transaction', status: 'failed', reason: 'INSUFFICIENT_FUNDS' }),
      latencies: await sample('tally_operation_latency_seconds_count', { kind: 'transaction' }),
      batches: await sample('tally_apply_batch_size_count'),
    };
    const { ledgerId } = await creditedLedger(500n);
    const { operation } = await grpcLedgers.submitTransaction({ ledgerId, transactionId: 'too-much', type: TransactionType.DEBIT, amount: 501n, currency: 'USD' });
    await settled((req) => grpcOperations.getOperation(req), operation!.id);
    await t.connectClient(LedgerService).getBalances({ ledgerId: 'not-a-uuid' }).catch(() => undefined);

    expect(await sample('tally_rpc_requests_total', { method, code: 'ok', transport: 'grpc' })).toBe(before.submits + 2);
    expect(await sample('tally_rpc_requests_total', { method: 'LedgerService/GetBalances', code: 'invalid_argument', transport: 'connect' })).toBe(
      before.refused + 1,
    );
    expect(await sample('tally_rpc_duration_seconds_count', { method, transport: 'grpc' })).toBeGreaterThanOrEqual(2);
    // The worker counts an operation once its commit is acknowledged, which a reader of the
    // operation can beat by a moment: the operation series are waited for.
    await expect.poll(() => sample('tally_operations_accepted_total', { kind: 'transaction' })).toBeGreaterThanOrEqual(before.accepted + 2);
    await expect
      .poll(() => sample('tally_operations_finished_total', { kind: 'transaction', status: 'completed', reason: '' }))
      .toBeGreaterThanOrEqual(before.completed + 1);
    await expect
      .poll(() => sample('tally_operations_finished_total', { kind: 'transaction', status: 'failed', reason: 'INSUFFICIENT_FUNDS' }))
      .toBeGreaterThanOrEqual(before.failed + 1);
    await expect.poll(() => sample('tally_operation_latency_seconds_count', { kind: 'transaction' })).toBeGreaterThanOrEqual(before.latencies + 2);
    await expect.poll(() => sample('tally_apply_batch_size_count')).toBeGreaterThan(before.batches);
  });

  it('shows open watches while they are open, and every partition of the queue', async () => {
    const { ledgerId } = await creditedLedger(1n);
    const watching = new AbortController();
    const watch = t.connectClient(OperationService).watchLedger({ ledgerId }, { signal: watching.signal });
    const iterator = watch[Symbol.asyncIterator]();
    const firstEvent = iterator.next();
    await grpcLedgers.submitTransaction({ ledgerId, transactionId: 'while-watched', type: TransactionType.CREDIT, amount: 1n, currency: 'USD' });
    await firstEvent; // the watch is open once an event arrived on it
    expect(await sample('tally_watches', { kind: 'ledger' })).toBeGreaterThanOrEqual(1);
    watching.abort();
    await iterator.next().catch(() => undefined);
    const partitions = Number(process.env['TALLY_PARTITIONS'] ?? 8);
    for (let partition = 0; partition < partitions; partition++) {
      const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
      expect(text).toContain(`tally_queue_depth{partition="${partition}"}`);
      expect(text).toContain(`tally_queue_oldest_age_seconds{partition="${partition}"}`);
    }
  });
});

describe('a worker-only process (TALLY_ROLE=worker)', () => {
  it('serves /healthz, /readyz and /metrics, and no RPC', async () => {
    const worker = await startTestServer({ ...isolatedEnv('observability', 5), TALLY_ROLE: 'worker' });
    try {
      expect(worker.server.grpcPort).toBeUndefined();
      expect((await fetch(`${worker.httpUrl}/healthz`)).status).toBe(200);
      await expect.poll(async () => (await fetch(`${worker.httpUrl}/readyz`)).status).toBe(200);
      const metrics = await fetch(`${worker.httpUrl}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^tally_partitions_held \d+$/m);
      const rpc = await fetch(`${worker.httpUrl}/tally.v1.LedgerService/ListLedgers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(rpc.status).toBe(404);
    } finally {
      await worker.stop();
    }
  });
});

describe('request ids', () => {
  it('answers the caller’s x-request-id on native gRPC, in headers and in an error’s trailers', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-request-id', 'ops-check-1');
    const headers = await new Promise<grpc.Metadata>((resolve, reject) => {
      const call = (grpcLedgers.raw as unknown as Record<string, (...a: unknown[]) => grpc.ClientUnaryCall>)['ListLedgers']!(
        create(ListLedgersRequestSchema, {}),
        metadata,
        (error: Error | null) => error && reject(error),
      );
      call.on('metadata', resolve);
    });
    expect(headers.get('x-request-id')).toEqual(['ops-check-1']);

    const refused = await grpcLedgers.getBalances({ ledgerId: 'nope' }, metadata).catch((e: grpc.ServiceError) => e);
    expect((refused as grpc.ServiceError).metadata.get('x-request-id')).toEqual(['ops-check-1']);
  });

  it('makes one when the caller sends none, or one that is not an id, over Connect and gRPC-Web', async () => {
    const seen: string[] = [];
    const onHeader = (h: Headers) => seen.push(h.get('x-request-id') ?? '');
    const connect = t.connectClient(LedgerService);
    const grpcWeb: Client<typeof LedgerService> = createClient(LedgerService, createGrpcWebTransport({ baseUrl: t.httpUrl, httpVersion: '1.1' }));
    await connect.listLedgers({}, { onHeader });
    await connect.listLedgers({}, { onHeader, headers: { 'x-request-id': 'bad id with spaces' } });
    await grpcWeb.listLedgers({}, { onHeader, headers: { 'x-request-id': 'web-1' } });
    expect(seen[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[1]).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[2]).toBe('web-1');
  });
});

describe('traces and logs (OTEL_TRACES_EXPORTER=console)', () => {
  let tally: TallyProcess;
  const lines: string[] = [];

  beforeAll(async () => {
    // A database and Redis of its own: no other suite's worker may apply its operations.
    tally = await spawnTally({ ...isolatedEnv('observability', 5), OTEL_TRACES_EXPORTER: 'console', TALLY_LOG_LEVEL: 'debug' });
    createInterface({ input: tally.child.stdout! }).on('line', (line) => lines.push(line));
  });
  afterAll(async () => {
    tally.child.kill('SIGTERM');
    await tally.exited;
  });

  /** The console exporter prints each span as an object literal: its name, trace id and parent. */
  function spans(): Array<{ name: string; traceId: string; parentSpanId: string | undefined }> {
    const text = lines.join('\n');
    const found = [];
    for (const block of text.split(/\n(?=\{\n)/)) {
      const name = /\n {2}name: '([^']+)'/.exec(block)?.[1];
      const traceId = /\n {2}traceId: '([0-9a-f]{32})'/.exec(block)?.[1];
      if (name === undefined || traceId === undefined) continue;
      found.push({ name, traceId, parentSpanId: /parentSpanContext: \{[^}]*spanId: '([0-9a-f]{16})'/.exec(block)?.[1] });
    }
    return found;
  }

  it('puts one credit’s submit RPC and its apply by the worker in one trace, and logs both with the request id', async () => {
    const base = `http://127.0.0.1:${tally.httpPort}`;
    const post = async (rpc: string, body: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(`${base}/tally.v1.${rpc}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      expect(response.status).toBe(200);
      return (await response.json()) as Record<string, Record<string, string>>;
    };
    const { ledger } = await post('LedgerService/CreateLedger', { name: 'Traced', currencies: ['USD'] });
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const { operation } = await post(
      'LedgerService/SubmitTransaction',
      { ledgerId: ledger!['id'], transactionId: 'traced-1', type: 'TRANSACTION_TYPE_CREDIT', amount: '1050', currency: 'USD' },
      { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01`, 'x-request-id': 'traced-submit-1' },
    );
    const operationId = operation!['id']!;
    await expect
      .poll(() => spans().filter((s) => s.traceId === callerTrace).map((s) => s.name), { timeout: 20_000 })
      .toEqual(expect.arrayContaining(['tally.v1.LedgerService/SubmitTransaction', 'apply transaction']));
    const inTrace = spans().filter((s) => s.traceId === callerTrace);
    // The submit span is the child of the caller's span; the apply span is the child of the submit's.
    expect(inTrace.find((s) => s.name === 'tally.v1.LedgerService/SubmitTransaction')?.parentSpanId).toBe('00f067aa0ba902b7');
    expect(inTrace.find((s) => s.name === 'apply transaction')?.parentSpanId).toMatch(/^[0-9a-f]{16}$/);

    const logged = lines.filter((line) => line.startsWith('{"level"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'rpc answered', requestId: 'traced-submit-1', rpc: 'tally.v1.LedgerService/SubmitTransaction', code: 'ok' }));
    await expect
      .poll(() => lines.some((line) => line.includes('"msg":"operation completed"') && line.includes(operationId) && line.includes('"submitRequestId":"traced-submit-1"')), {
        timeout: 20_000,
      })
      .toBe(true);
  });
});
