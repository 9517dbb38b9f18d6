import { randomUUID } from 'node:crypto';
import {
  Code,
  createTallyClient,
  OperationStatus,
  TallyError,
  TransactionType,
  type TallyClient,
  type TransportKind,
} from '@tally/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, startTestServer, type TestServer } from './support/server.js';

/**
 * @tally/client against a real Tally, on each of its transports: what a user of the client
 * sees when money moves, when a submit is refused, when an operation fails, and when the
 * server goes away in the middle of submitAndWait. A database and Redis index of this suite's
 * own, since it stops and restarts servers.
 */
const env = isolatedEnv('client', 2);
const TRANSPORTS: readonly TransportKind[] = ['connect', 'grpc-web', 'grpc'];
/** How long a test waits for something it caused to show. */
const PATIENCE_MS = 20_000;

function clientOf(t: TestServer, transport: TransportKind, extra: { headers?: () => Record<string, string> } = {}): TallyClient {
  return createTallyClient({ baseUrl: transport === 'grpc' ? `http://${t.grpcAddress}` : t.httpUrl, transport, ...extra });
}

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const giveUpAt = Date.now() + PATIENCE_MS;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error(`still waiting for ${what} after ${PATIENCE_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function newLedger(tally: TallyClient, currencies = ['USD', 'EUR']): Promise<string> {
  const { ledger } = await tally.ledgers.createLedger({ name: `client ${randomUUID().slice(0, 8)}`, currencies });
  return ledger!.id;
}

async function usdBalance(tally: TallyClient, ledgerId: string): Promise<bigint | undefined> {
  const { balances } = await tally.ledgers.getBalances({ ledgerId });
  return balances.find((b) => b.currency === 'USD')?.amount;
}

describe('with Tally running', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(env);
  });
  afterAll(async () => {
    await t?.stop();
  });

  describe.each(TRANSPORTS)('over %s', (transport) => {
    it('creates a ledger, credits it with submitAndWait and reads the balance', async () => {
      const tally = clientOf(t, transport);
      const ledgerId = await newLedger(tally);
      const op = await tally.submitAndWait({ transaction: { ledgerId, type: TransactionType.CREDIT, amount: 1050n, currency: 'USD' } });
      expect(op).toMatchObject({ status: OperationStatus.COMPLETED, ledgerId });
      expect(op.result?.balanceChanges).toEqual([expect.objectContaining({ currency: 'USD', amount: 1050n, balanceAfter: 1050n })]);
      expect(await usdBalance(tally, ledgerId)).toBe(1050n);
    });

    it('rejects a submit naming bad fields with a TallyError listing every violation', async () => {
      const tally = clientOf(t, transport);
      const ledgerId = await newLedger(tally);
      const error = await tally
        .submitAndWait({ transaction: { ledgerId, type: TransactionType.CREDIT, amount: 0n, currency: 'usd', transactionId: 'not a valid id!' } })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TallyError);
      const refusal = error as TallyError;
      expect(refusal.code).toBe(Code.InvalidArgument);
      expect(refusal.violations.map((v) => v.field).sort()).toEqual(['amount', 'currency', 'transaction_id']);
      expect(refusal.violations.every((v) => v.description.length > 0)).toBe(true);
    });

    it('rejects a submit refused for good with a TallyError carrying the reason', async () => {
      const tally = clientOf(t, transport);
      const ledgerId = await newLedger(tally, ['EUR']);
      const error = await tally.submitAndWait({ transaction: { ledgerId, type: TransactionType.CREDIT, amount: 5n, currency: 'USD' } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TallyError);
      expect(error).toMatchObject({ code: Code.FailedPrecondition, reason: 'CURRENCY_NOT_ENABLED', domain: 'tally.v1' });
    });

    it('resolves a debit over the balance as FAILED with its reason, and moves nothing', async () => {
      const tally = clientOf(t, transport);
      const ledgerId = await newLedger(tally);
      await tally.submitAndWait({ transaction: { ledgerId, type: TransactionType.CREDIT, amount: 100n, currency: 'USD' } });
      const op = await tally.submitAndWait({ transaction: { ledgerId, type: TransactionType.DEBIT, amount: 250n, currency: 'USD' } });
      expect(op.status).toBe(OperationStatus.FAILED);
      expect(op.error?.code).toBe('INSUFFICIENT_FUNDS');
      expect(await usdBalance(tally, ledgerId)).toBe(100n);
    });

    it('rejects a call for a ledger that does not exist with NOT_FOUND and what was not found', async () => {
      const error = await clientOf(t, transport).ledgers.getLedger({ ledgerId: randomUUID() }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TallyError);
      expect(error).toMatchObject({ code: Code.NotFound, resource: { type: 'ledger' } });
    });
  });

  it('answers a resubmitted transaction id with the operation it already has', async () => {
    const tally = clientOf(t, 'connect');
    const ledgerId = await newLedger(tally);
    const transaction = { ledgerId, transactionId: `again-${randomUUID()}`, type: TransactionType.CREDIT, amount: 7n, currency: 'USD' };
    const first = await tally.submitAndWait({ transaction });
    const second = await tally.submitAndWait({ transaction });
    expect(second.id).toBe(first.id);
    expect(await usdBalance(tally, ledgerId)).toBe(7n);
  });
});

/**
 * The acceptance point: submitAndWait outlives the server. One Tally serves the API alone (no
 * worker), so the credit is accepted and stays PENDING while submitAndWait watches it; that
 * Tally stops, and another (API and worker) starts on the same ports. submitAndWait must
 * resolve COMPLETED, with one operation for its transaction id and the money credited once.
 */
describe.each(TRANSPORTS)('submitAndWait over %s when Tally restarts', (transport) => {
  let t: TestServer | undefined;
  afterAll(async () => {
    await t?.stop();
  });

  const samePorts = (s: TestServer) => ({ TALLY_GRPC_PORT: String(s.server.grpcPort), TALLY_HTTP_PORT: String(s.server.httpPort) });

  it('while following an accepted operation: it resolves COMPLETED, one operation, credited once', { timeout: 90_000 }, async () => {
    t = await startTestServer({ ...env, TALLY_ROLE: 'api' });
    let calls = 0;
    const tally = clientOf(t, transport, { headers: () => ({ 'x-client-id': `restart-${++calls}` }) });
    const ledgerId = await newLedger(tally);
    const transactionId = `restart-${transport}-${randomUUID()}`;
    const outcome = tally.submitAndWait({ transaction: { ledgerId, transactionId, type: TransactionType.CREDIT, amount: 1050n, currency: 'USD' } });
    outcome.catch(() => undefined); // awaited below; not unhandled meanwhile

    // Accepted, and no worker to apply it: submitAndWait is now following it.
    await until('the credit to be accepted', async () => (await tally.operations.listOperations({ ledgerId })).operations.length === 1);
    const callsBeforeRestart = calls;
    const ports = samePorts(t);
    await t.stop();
    t = await startTestServer({ ...env, ...ports });

    const op = await outcome;
    expect(op).toMatchObject({ status: OperationStatus.COMPLETED, transactionId, ledgerId });
    // It kept calling across the restart (a watch broke, and it came back).
    expect(calls).toBeGreaterThan(callsBeforeRestart);
    const { operations } = await tally.operations.listOperations({ ledgerId });
    expect(operations.map((o) => [o.transactionId, o.status])).toEqual([[transactionId, OperationStatus.COMPLETED]]);
    expect(await usdBalance(tally, ledgerId)).toBe(1050n);
  });

  it('while Tally is down at the submit: it retries the same transaction id until Tally is back', { timeout: 90_000 }, async () => {
    t ??= await startTestServer(env);
    const ledgerId = await newLedger(clientOf(t, transport));
    const ports = samePorts(t);
    const down = clientOf(t, transport);
    await t.stop();
    t = undefined;

    let calls = 0;
    const tally = createTallyClient({
      baseUrl: transport === 'grpc' ? `http://127.0.0.1:${ports.TALLY_GRPC_PORT}` : `http://127.0.0.1:${ports.TALLY_HTTP_PORT}`,
      transport,
      headers: () => ({ 'x-client-id': `down-${++calls}` }),
    });
    const transactionId = `down-${transport}-${randomUUID()}`;
    const outcome = tally.submitAndWait({ transaction: { ledgerId, transactionId, type: TransactionType.CREDIT, amount: 300n, currency: 'USD' } });
    outcome.catch(() => undefined);
    // A submit has failed (the server is gone) and been tried again.
    await until('a second try of the submit', () => calls >= 2);
    t = await startTestServer({ ...env, ...ports });

    const op = await outcome;
    expect(op).toMatchObject({ status: OperationStatus.COMPLETED, transactionId });
    const { operations } = await down.operations.listOperations({ ledgerId });
    expect(operations.map((o) => o.transactionId)).toEqual([transactionId]);
    expect(await usdBalance(down, ledgerId)).toBe(300n);
  });
});
