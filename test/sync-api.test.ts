import { Code } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import { ExchangeService, LedgerService, OperationService } from '@tally/contracts';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDetails, connectRefusal, grpcDetails, grpcRefusal } from './support/errors.js';
import { startTestServer, type GrpcClient, type TestServer } from './support/server.js';

/**
 * Every sync RPC, end to end: a real server on free ports, the real PostgreSQL, and the two
 * kinds of clients users have: grpc-js on the native port, Connect JSON over HTTP/1.1.
 */
let t: TestServer;
let grpcLedgers: GrpcClient<typeof LedgerService>;
let grpcOperations: GrpcClient<typeof OperationService>;
let grpcExchange: GrpcClient<typeof ExchangeService>;

beforeAll(async () => {
  t = await startTestServer();
  grpcLedgers = t.grpcClient(LedgerService);
  grpcOperations = t.grpcClient(OperationService);
  grpcExchange = t.grpcClient(ExchangeService);
});
afterAll(() => t.stop());

describe('native gRPC (grpc-js client)', () => {
  it('creates a ledger with USD, EUR and JPY and reads its three zero balances', async () => {
    const { ledger } = await grpcLedgers.createLedger({ name: 'Acme', currencies: ['USD', 'EUR', 'JPY'] });
    expect(ledger).toMatchObject({ name: 'Acme', currencies: ['USD', 'EUR', 'JPY'], overdraftAllowed: false });
    const { balances } = await grpcLedgers.getBalances({ ledgerId: ledger!.id });
    expect(balances.map((b) => [b.currency, b.amount, b.exponent])).toEqual([
      ['EUR', 0n, 2],
      ['JPY', 0n, 0],
      ['USD', 0n, 2],
    ]);
  });

  it('gets, lists and extends ledgers', async () => {
    const { ledger } = await grpcLedgers.createLedger({ name: 'Ops', currencies: ['USD'], overdraftAllowed: true });
    expect((await grpcLedgers.getLedger({ ledgerId: ledger!.id })).ledger).toEqual(ledger);
    const enabled = await grpcLedgers.enableCurrency({ ledgerId: ledger!.id, currency: 'BHD' });
    expect(enabled.ledger?.currencies).toEqual(['USD', 'BHD']);
    const first = await grpcLedgers.listLedgers({ pageSize: 1 });
    expect(first.ledgers).toHaveLength(1);
    expect(first.nextPageToken).not.toBe('');
    const second = await grpcLedgers.listLedgers({ pageSize: 1, pageToken: first.nextPageToken });
    expect(second.ledgers[0]?.id).not.toBe(first.ledgers[0]?.id);
    const entries = await grpcLedgers.listEntries({ ledgerId: ledger!.id });
    expect(entries).toMatchObject({ entries: [], nextPageToken: '' });
  });

  it('lists the ISO 4217 catalogue with exponents', async () => {
    const { currencies } = await grpcExchange.listCurrencies({});
    const byCode = new Map(currencies.map((c) => [c.code, c.exponent]));
    expect([byCode.get('USD'), byCode.get('JPY'), byCode.get('BHD')]).toEqual([2, 0, 3]);
  });

  it('reads and lists operations, and refuses to cancel an unknown one', async () => {
    const { operations, nextPageToken } = await grpcOperations.listOperations({ pageSize: 1 });
    expect(operations.length).toBeLessThanOrEqual(1);
    expect(typeof nextPageToken).toBe('string');
    const unknown = randomUUID();
    const onNoLedger = await grpcRefusal(grpcOperations.listOperations({ ledgerId: unknown }));
    expect(onNoLedger.code).toBe(grpc.status.NOT_FOUND);
    const get = await grpcRefusal(grpcOperations.getOperation({ operationId: unknown }));
    expect(get.code).toBe(grpc.status.NOT_FOUND);
    const cancel = await grpcRefusal(grpcOperations.cancelOperation({ operationId: unknown }));
    expect(cancel.code).toBe(grpc.status.NOT_FOUND);
  });

  it('refuses bad ledgers with INVALID_ARGUMENT naming each bad field', async () => {
    const cases: Array<[{ name: string; currencies: string[] }, string]> = [
      [{ name: 'x', currencies: ['USD', 'XYZ'] }, 'currencies[1]'],
      [{ name: '', currencies: ['USD'] }, 'name'],
      [{ name: 'x'.repeat(10_000), currencies: ['USD'] }, 'name'],
      [{ name: 'x', currencies: [] }, 'currencies'],
    ];
    for (const [request, field] of cases) {
      const error = await grpcRefusal(grpcLedgers.createLedger(request));
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(grpcDetails(error).violations.map((v) => v.field)).toEqual([field]);
    }
  });

  it('answers NOT_FOUND with the resource for an unknown ledger', async () => {
    const id = randomUUID();
    const error = await grpcRefusal(grpcLedgers.getBalances({ ledgerId: id }));
    expect(error.code).toBe(grpc.status.NOT_FOUND);
    expect(grpcDetails(error).resourceInfo).toMatchObject({ resourceType: 'ledger', resourceName: id });
  });

  it('refuses a transfer with bad fields before accepting it, naming every field', async () => {
    const ledgerId = randomUUID();
    const error = await grpcRefusal(grpcLedgers.submitTransfer({ fromLedgerId: ledgerId, toLedgerId: ledgerId, currency: 'XXY', amount: -5n }));
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(grpcDetails(error).violations.map((v) => v.field)).toEqual(['to_ledger_id', 'transaction_id', 'currency', 'amount']);
  });

  it('answers a body that is not protobuf with INVALID_ARGUMENT, for every RPC', async () => {
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]);
    for (const service of [LedgerService, ExchangeService, OperationService]) {
      for (const method of service.methods.filter((m) => m.methodKind === 'unary')) {
        const code = await new Promise<number>((resolve) =>
          grpcLedgers.raw.makeUnaryRequest(
            `/${service.typeName}/${method.name}`,
            (b: Buffer) => b,
            (b: Buffer) => b,
            garbage,
            (error) => resolve(error?.code ?? grpc.status.OK),
          ),
        );
        expect([service.typeName, method.name, code]).toEqual([service.typeName, method.name, grpc.status.INVALID_ARGUMENT]);
      }
    }
  });

  it('answers a string that is not UTF-8 with INVALID_ARGUMENT, instead of storing U+FFFD', async () => {
    // CreateLedgerRequest: name (field 1) = 0x41 0xFF 0x42, currencies (field 2) = "USD".
    const body = Buffer.from([0x0a, 0x03, 0x41, 0xff, 0x42, 0x12, 0x03, 0x55, 0x53, 0x44]);
    const code = await new Promise<number>((resolve) =>
      grpcLedgers.raw.makeUnaryRequest(
        '/tally.v1.LedgerService/CreateLedger',
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        (error) => resolve(error?.code ?? grpc.status.OK),
      ),
    );
    expect(code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe('Connect JSON over HTTP/1.1', () => {
  it('creates a ledger and reads its balances, with the same handlers', async () => {
    const ledgers = t.connectClient(LedgerService);
    const { ledger } = await ledgers.createLedger({ name: 'Web', currencies: ['USD', 'EUR', 'JPY'] });
    const { balances } = await ledgers.getBalances({ ledgerId: ledger!.id });
    expect(balances.map((b) => [b.currency, b.amount])).toEqual([
      ['EUR', 0n],
      ['JPY', 0n],
      ['USD', 0n],
    ]);
    const ops = t.connectClient(OperationService);
    expect((await ops.listOperations({ ledgerId: ledger!.id })).operations).toEqual([]);
    const currencies = t.connectClient(ExchangeService);
    expect((await currencies.listCurrencies({})).currencies.length).toBeGreaterThan(150);
  });

  it('carries field violations and NOT_FOUND to a Connect client', async () => {
    const ledgers = t.connectClient(LedgerService);
    const bad = await connectRefusal(ledgers.createLedger({ name: '', currencies: ['usd'] }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(connectDetails(bad).violations.map((v) => v.field)).toEqual(['name', 'currencies[0]']);
    const missing = await connectRefusal(ledgers.getLedger({ ledgerId: randomUUID() }));
    expect(missing.code).toBe(Code.NotFound);
  });

  it('speaks plain JSON to curl, amounts as strings, and refuses malformed JSON with invalid_argument', async () => {
    const post = (path: string, body: string) =>
      fetch(`${t.httpUrl}/tally.v1.LedgerService/${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      });
    const created = (await (await post('CreateLedger', JSON.stringify({ name: 'Curl', currencies: ['USD', 'EUR', 'JPY'] }))).json()) as {
      ledger: { id: string };
    };
    const balances = await (await post('GetBalances', JSON.stringify({ ledgerId: created.ledger.id }))).json();
    expect(balances).toEqual({
      balances: [
        { currency: 'EUR', amount: '0', exponent: 2 },
        { currency: 'JPY', amount: '0', exponent: 0 },
        { currency: 'USD', amount: '0', exponent: 2 },
      ],
    });
    for (const body of ['{', '{"name": 5}', '{"currencies": "USD"}', '[]']) {
      const response = await post('CreateLedger', body);
      expect([body, response.status, ((await response.json()) as { code: string }).code]).toEqual([body, 400, 'invalid_argument']);
    }
  });

  it('answers a browser CORS preflight', async () => {
    const response = await fetch(`${t.httpUrl}/tally.v1.LedgerService/GetLedger`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example.com',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,connect-protocol-version',
      },
    });
    expect(response.status).toBeLessThan(300);
    expect(response.headers.get('access-control-allow-origin')).toMatch(/^(\*|https:\/\/app\.example\.com)$/);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('reports liveness and readiness over HTTP', async () => {
    expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.httpUrl}/readyz`);
    expect([ready.status, await ready.json()]).toMatchObject([200, { ready: true }]);
  });
});
