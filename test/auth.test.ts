import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import { ExchangeService, LedgerService, OperationService, QuotaFailureSchema, RetryInfoSchema, TransactionType } from '@tally/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRatesMock, type RatesMock } from '@tally/rates-mock';
import { connectDetails, connectRefusal } from './support/errors.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './support/test-env.js';
import { eventually } from './support/stack.js';

/**
 * TALLY_AUTH=required, as a new operator sets it up: keys made with `npm run keys` (the built
 * tool), sent as `authorization: Bearer <key>`; tenants that never see each other's ledgers.
 */
let t: TestServer;
/** A rate provider of the suite's own: quotes need current rates. */
let provider: RatesMock;

beforeAll(async () => {
  provider = await startRatesMock({ port: 0 });
  t = await startTestServer({ TALLY_AUTH: 'required', TALLY_RATES_URL: provider.url });
});
afterAll(async () => {
  await t.stop();
  await provider.close();
});

const run = promisify(execFile);

/** `npm run keys -- <args>` against the test database; its output. */
async function keysTool(...args: string[]): Promise<string> {
  const { stdout } = await run('node', ['apps/server/dist/keys.js', ...args], {
    env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL },
  });
  return stdout;
}

async function createKey(tenant: string, scopes: string): Promise<{ id: string; key: string }> {
  const out = await keysTool('create', '--tenant', tenant, '--scopes', scopes);
  const key = /^\s+(tally_\S+)$/m.exec(out)?.[1];
  const id = /^created (\S+)/m.exec(out)?.[1];
  if (!key || !id) throw new Error(`no key in: ${out}`);
  return { id, key };
}

interface Clients {
  ledgers: Client<typeof LedgerService>;
  operations: Client<typeof OperationService>;
  exchange: Client<typeof ExchangeService>;
}

/** Connect clients (JSON over HTTP/1.1) that send `key`, or nothing. */
function clients(key?: string): Clients {
  const transport = createConnectTransport({
    baseUrl: t.httpUrl,
    httpVersion: '1.1',
    interceptors: key === undefined ? [] : [(next) => (req) => (req.header.set('authorization', `Bearer ${key}`), next(req))],
  });
  return { ledgers: createClient(LedgerService, transport), operations: createClient(OperationService, transport), exchange: createClient(ExchangeService, transport) };
}

const tenant = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) break;
}

describe('API keys', () => {
  it('refuses every RPC without a valid key UNAUTHENTICATED, on every transport, while health stays open', async () => {
    const anonymous = clients();
    const calls: Array<() => Promise<unknown>> = [
      () => anonymous.ledgers.listLedgers({}),
      () => anonymous.ledgers.createLedger({ name: 'x', currencies: ['USD'] }),
      () => anonymous.ledgers.getBalances({ ledgerId: randomUUID() }),
      () => anonymous.operations.listOperations({}),
      () => anonymous.exchange.listCurrencies({}),
      () => drain(anonymous.operations.watchLedger({ ledgerId: randomUUID() })),
    ];
    for (const call of calls) {
      const refused = await connectRefusal(call());
      expect(refused.code).toBe(Code.Unauthenticated);
      expect(connectDetails(refused).errorInfo?.reason).toBe('API_KEY_MISSING');
    }
    const forged = await connectRefusal(clients(`tally_${'A'.repeat(43)}`).ledgers.listLedgers({}));
    expect([forged.code, connectDetails(forged).errorInfo?.reason]).toEqual([Code.Unauthenticated, 'API_KEY_INVALID']);
    const grpcClient = createClient(LedgerService, createGrpcTransport({ baseUrl: `http://${t.grpcAddress}` }));
    expect((await connectRefusal(grpcClient.listLedgers({}))).code).toBe(Code.Unauthenticated);

    expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);
    const health = new grpc.Client(t.grpcAddress, grpc.credentials.createInsecure());
    const serving = await new Promise<Buffer>((resolve, reject) =>
      health.makeUnaryRequest('/grpc.health.v1.Health/Check', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (e, r) => (e ? reject(e) : resolve(r!))),
    );
    health.close();
    expect(serving).toEqual(Buffer.from([0x08, 0x01])); // status: SERVING
  });

  it('lets a read key read but not write: PERMISSION_DENIED naming the scope', async () => {
    const name = tenant('reader');
    const writer = clients((await createKey(name, 'read,write')).key);
    const reader = clients((await createKey(name, 'read')).key);
    const { ledger } = await writer.ledgers.createLedger({ name: 'books', currencies: ['USD'] });
    expect((await reader.ledgers.getBalances({ ledgerId: ledger!.id })).balances).toHaveLength(1);
    const refused = await connectRefusal(
      reader.ledgers.submitTransaction({ ledgerId: ledger!.id, transactionId: 't1', type: TransactionType.CREDIT, amount: 5n, currency: 'USD' }),
    );
    expect(refused.code).toBe(Code.PermissionDenied);
    expect(connectDetails(refused).errorInfo).toMatchObject({ reason: 'SCOPE_MISSING', metadata: { required_scope: 'write' } });
  });

  it("answers tenant A NOT_FOUND for tenant B's ledger, operations and quotes on every RPC, and lists none of them", async () => {
    const a = clients((await createKey(tenant('a'), 'read,write')).key);
    const b = clients((await createKey(tenant('b'), 'read,write')).key);
    const { ledger: theirs } = await b.ledgers.createLedger({ name: 'b books', currencies: ['USD', 'EUR'] });
    const { ledger: mine } = await a.ledgers.createLedger({ name: 'a books', currencies: ['USD', 'EUR'] });
    const { operation: theirOp } = await b.ledgers.submitTransaction({
      ledgerId: theirs!.id,
      transactionId: 'b-credit',
      type: TransactionType.CREDIT,
      amount: 100n,
      currency: 'USD',
    });
    const ledgerId = theirs!.id;
    const { quote: theirQuote } = await b.exchange.createQuote({ fromCurrency: 'USD', toCurrency: 'EUR', amount: 1n });
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['GetLedger', () => a.ledgers.getLedger({ ledgerId })],
      ['EnableCurrency', () => a.ledgers.enableCurrency({ ledgerId, currency: 'JPY' })],
      ['DisableCurrency', () => a.ledgers.disableCurrency({ ledgerId, currency: 'EUR' })],
      ['GetBalances', () => a.ledgers.getBalances({ ledgerId })],
      ['ListEntries', () => a.ledgers.listEntries({ ledgerId })],
      ['SubmitTransaction', () => a.ledgers.submitTransaction({ ledgerId, transactionId: 'x', type: TransactionType.CREDIT, amount: 1n, currency: 'USD' })],
      ['SubmitTransfer to B', () => a.ledgers.submitTransfer({ fromLedgerId: mine!.id, toLedgerId: ledgerId, transactionId: 'x', amount: 1n, currency: 'USD' })],
      ['SubmitTransfer from B', () => a.ledgers.submitTransfer({ fromLedgerId: ledgerId, toLedgerId: mine!.id, transactionId: 'x', amount: 1n, currency: 'USD' })],
      ['SubmitExchange', () => a.exchange.submitExchange({ ledgerId, transactionId: 'x', fromCurrency: 'USD', toCurrency: 'EUR', amount: 1n })],
      ['GetOperation', () => a.operations.getOperation({ operationId: theirOp!.id })],
      ['CancelOperation', () => a.operations.cancelOperation({ operationId: theirOp!.id })],
      ['WatchOperation', () => drain(a.operations.watchOperation({ operationId: theirOp!.id }))],
      ['WatchLedger', () => drain(a.operations.watchLedger({ ledgerId }))],
      ['ListOperations on B', () => a.operations.listOperations({ ledgerId })],
      [
        "SubmitExchange with B's quote",
        () => a.exchange.submitExchange({ ledgerId: mine!.id, transactionId: 'x', fromCurrency: 'USD', toCurrency: 'EUR', amount: 1n, quoteId: theirQuote!.id }),
      ],
    ];
    for (const [rpc, call] of calls) {
      const refused = await connectRefusal(call());
      expect([rpc, refused.code], refused.message).toEqual([rpc, Code.NotFound]);
      expect(refused.rawMessage).not.toContain('tenant');
    }
    const [item] = (await a.ledgers.submitTransactions({ transactions: [{ ledgerId, transactionId: 'x', type: TransactionType.CREDIT, amount: 1n, currency: 'USD' }] }))
      .results;
    expect(item?.outcome).toMatchObject({ case: 'error', value: { code: Code.NotFound } });

    const listed = (await a.ledgers.listLedgers({ pageSize: 500 })).ledgers.map((l) => l.id);
    expect(listed).toEqual([mine!.id]);
    expect((await a.operations.listOperations({ pageSize: 500 })).operations).toEqual([]);
    expect((await b.operations.listOperations({})).operations.map((o) => o.id)).toEqual([theirOp!.id]);
    // B's own view is untouched by A's attempts.
    expect((await b.ledgers.getLedger({ ledgerId })).ledger?.currencies).toEqual(['USD', 'EUR']);
  });

  it('refuses a revoked key on the next calls, without a restart', async () => {
    const { id, key } = await createKey(tenant('revoked'), 'read');
    const c = clients(key);
    await c.ledgers.listLedgers({});
    expect(await keysTool('revoke', id)).toMatch(/^revoked .* revoked \d{4}-/m);
    expect(await keysTool('list')).toContain(`${id}  tenant revoked-`);
    // The revocation travels to every process through Redis at once (and a lost message is
    // covered by each process forgetting keys after DEFAULT_KEY_CACHE_TTL_MS).
    const answer = await eventually(
      () => c.ledgers.listLedgers({}).then(() => 'answered', (e: ConnectError) => e.code),
      (code) => code !== 'answered',
      5_000,
    );
    expect(answer).toBe(Code.Unauthenticated);
  });

  it('refuses a key request with bad fields, naming each', async () => {
    const failed = await keysTool('create', '--tenant', 'Not A Tenant', '--scopes', 'read,owner').then(
      () => undefined,
      (e: { stderr: string; code: number }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('tenant: must be 1 to 63 lower-case letters');
    expect(failed?.stderr).toContain('scopes[1]: must be one of read, write, admin');
  });
});

describe('rate limits', () => {
  it('answers a key over its budget RESOURCE_EXHAUSTED with a retry delay, and leaves other keys alone', async () => {
    // One call a second, so the budget barely refills however slowly a busy machine runs the 20.
    const limited = await startTestServer({ TALLY_AUTH: 'required', TALLY_RATE_LIMITS: 'read=1/s:1,write=1/s:1,watches=2' });
    try {
      const transport = (key: string) =>
        createConnectTransport({ baseUrl: limited.httpUrl, httpVersion: '1.1', interceptors: [(next) => (req) => (req.header.set('authorization', `Bearer ${key}`), next(req))] });
      const greedy = createClient(LedgerService, transport((await createKey(tenant('greedy'), 'read')).key));
      const polite = createClient(LedgerService, transport((await createKey(tenant('polite'), 'read')).key));
      const answers = await Promise.allSettled(Array.from({ length: 20 }, () => greedy.listLedgers({})));
      const refusals = answers.flatMap((a) => (a.status === 'rejected' ? [a.reason as ConnectError] : []));
      // The burst and the first second's call, then one a second at most: far fewer than 20.
      expect(refusals.length).toBeGreaterThanOrEqual(10);
      const refused = refusals[0]!;
      expect(refused.code).toBe(Code.ResourceExhausted);
      const [retry] = refused.findDetails(RetryInfoSchema);
      expect(Number(retry?.retryDelay?.seconds ?? 0) * 1000 + (retry?.retryDelay?.nanos ?? 0) / 1e6).toBeGreaterThan(0);
      const [quota] = refused.findDetails(QuotaFailureSchema);
      expect(quota?.violations[0]?.description).toContain('read: 1 per second');
      expect(connectDetails(refused).errorInfo?.reason).toBe('RATE_LIMITED');
      await polite.listLedgers({});
    } finally {
      await limited.stop();
    }
  });
});
