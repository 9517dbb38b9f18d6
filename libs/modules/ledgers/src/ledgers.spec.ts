import { createLogger, Database, EVERY_TENANT, PageTokens, TallyError } from '@tally/platform';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationRequest, OperationToApply } from '@tally/platform';
import { createLedgersFacade, ledgersSchema, type Booking, type LedgersFacade } from './index.js';
import { recordingIntake } from './internal/intake.testing.js';

/** Against the real PostgreSQL test database (migrated by the global setup). */
let db: Database;
let ledgers: LedgersFacade<OperationRequest>;
/** These tests are about ledgers, not tenants (see test/tenants.test.ts): they see everything. */
const ANY = EVERY_TENANT;

beforeAll(async () => {
  db = await Database.open({ url: process.env['DATABASE_URL']!, modules: [ledgersSchema], logger: createLogger('warn') });
  ledgers = createLedgersFacade({ db, logger: createLogger('warn'), intake: recordingIntake(), pageTokens: new PageTokens('a test page token secret') });
});
afterAll(() => db.close());

async function refusal(promise: Promise<unknown>): Promise<TallyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TallyError);
  return error as TallyError;
}

const usdEurJpy = { name: 'Acme', currencies: ['USD', 'EUR', 'JPY'], overdraftAllowed: false, requestId: '' };

describe('ledgers facade', () => {
  it('creates a ledger whose every currency starts at zero, overdraft off', async () => {
    const ledger = await ledgers.createLedger(usdEurJpy, ANY);
    expect(ledger).toMatchObject({ name: 'Acme', currencies: ['USD', 'EUR', 'JPY'], overdraftAllowed: false });
    expect(await ledgers.getLedger(ledger.id, ANY)).toEqual(ledger);
    expect(await ledgers.getBalances(ledger.id, ANY)).toEqual([
      { currency: 'EUR', amount: 0n, exponent: 2 },
      { currency: 'JPY', amount: 0n, exponent: 0 },
      { currency: 'USD', amount: 0n, exponent: 2 },
    ]);
  });

  it('enables another currency once, however often it is asked', async () => {
    const ledger = await ledgers.createLedger({ ...usdEurJpy, currencies: ['USD'] }, ANY);
    const results = await Promise.all([1, 2, 3].map(() => ledgers.enableCurrency(ledger.id, 'BHD', ANY)));
    for (const r of results) expect(r.currencies).toEqual(['USD', 'BHD']);
    expect((await ledgers.getBalances(ledger.id, ANY)).map((b) => [b.currency, b.exponent])).toEqual([
      ['BHD', 3],
      ['USD', 2],
    ]);
  });

  it('answers NOT_FOUND for an unknown ledger and INVALID_ARGUMENT for a malformed id', async () => {
    const unknown = randomUUID();
    expect((await refusal(ledgers.getLedger(unknown, ANY))).code).toBe('NOT_FOUND');
    expect((await refusal(ledgers.getBalances(unknown, ANY))).code).toBe('NOT_FOUND');
    expect((await refusal(ledgers.enableCurrency(unknown, 'USD', ANY))).code).toBe('NOT_FOUND');
    expect((await refusal(ledgers.listEntries({ ledgerId: unknown, currency: '', pageSize: 0, pageToken: '' }, ANY))).code).toBe(
      'NOT_FOUND',
    );
    const malformed = await refusal(ledgers.getLedger('42', ANY));
    expect(malformed.code).toBe('INVALID_ARGUMENT');
    expect(malformed.details.violations?.[0]?.field).toBe('ledger_id');
  });

  it('makes a retried CreateLedger with the same request id return the same ledger, even concurrently', async () => {
    const requestId = `create-${randomUUID()}`;
    const created = await Promise.all([1, 2, 3, 4].map(() => ledgers.createLedger({ ...usdEurJpy, requestId }, ANY)));
    expect(new Set(created.map((l) => l.id)).size).toBe(1);
    const reused = await refusal(ledgers.createLedger({ ...usdEurJpy, name: 'Other', requestId }, ANY));
    expect(reused.code).toBe('ALREADY_EXISTS');
    expect(reused.details.metadata?.['ledger_id']).toBe(created[0]?.id);
  });

  it('pages through ledgers oldest first without repeats or gaps', async () => {
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push((await ledgers.createLedger({ ...usdEurJpy, name: `page ${i}` }, ANY)).id);
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await ledgers.listLedgers({ pageSize: 2, pageToken }, ANY);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((l) => l.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => mine.includes(id))).toEqual(mine);
  });

  it('refuses a page token from another query or another tenant, and reads a page size over the limit as the limit', async () => {
    const first = await ledgers.listLedgers({ pageSize: 1, pageToken: '' }, ANY);
    const ledger = await ledgers.createLedger(usdEurJpy, ANY);
    const bad = await refusal(
      ledgers.listEntries({ ledgerId: ledger.id, currency: '', pageSize: 1, pageToken: first.nextPageToken || 'x' }, ANY),
    );
    expect(bad.details.violations?.map((v) => v.field)).toEqual(['page_token']);
    const acme = { tenant: `acme-${randomUUID()}` };
    await Promise.all([1, 2].map(() => ledgers.createLedger(usdEurJpy, acme)));
    const acmeFirst = await ledgers.listLedgers({ pageSize: 1, pageToken: '' }, acme);
    expect(acmeFirst.nextPageToken).not.toBe('');
    const foreign = await refusal(ledgers.listLedgers({ pageSize: 1, pageToken: acmeFirst.nextPageToken }, { tenant: 'globex' }));
    expect(foreign.details.violations?.map((v) => v.field)).toEqual(['page_token']);
    // Another first character of the signature (its last one carries only padding bits).
    const forged = acmeFirst.nextPageToken.replace(/\.(.)/, (_, c: string) => `.${c === 'A' ? 'B' : 'A'}`);
    expect((await refusal(ledgers.listLedgers({ pageSize: 1, pageToken: forged }, acme))).details.violations?.map((v) => v.field)).toEqual(['page_token']);
    expect((await ledgers.listLedgers({ pageSize: 501, pageToken: '' }, ANY)).items.length).toBeLessThanOrEqual(500);
    const negative = await refusal(ledgers.listLedgers({ pageSize: -1, pageToken: '' }, ANY));
    expect(negative.details.violations?.map((v) => v.field)).toEqual(['page_size']);
  });

  it("answers another tenant's ledger NOT_FOUND on every call, and lists only the caller's own", async () => {
    const acme = { tenant: `acme-${randomUUID()}` };
    const globex = { tenant: `globex-${randomUUID()}` };
    const ledger = await ledgers.createLedger(usdEurJpy, acme);
    expect(await ledgers.getLedger(ledger.id, acme)).toEqual(ledger);
    expect(await ledgers.getLedger(ledger.id, ANY)).toEqual(ledger);
    const refusals = await Promise.all([
      refusal(ledgers.getLedger(ledger.id, globex)),
      refusal(ledgers.getBalances(ledger.id, globex)),
      refusal(ledgers.enableCurrency(ledger.id, 'BHD', globex)),
      refusal(ledgers.disableCurrency(ledger.id, 'USD', globex)),
      refusal(ledgers.listEntries({ ledgerId: ledger.id, currency: '', pageSize: 0, pageToken: '' }, globex)),
      refusal(ledgers.requireLedger(ledger.id, globex)),
      refusal(ledgers.requireCurrencies(ledger.id, ['USD'], globex)),
    ]);
    for (const r of refusals) expect([r.code, r.message]).toEqual(['NOT_FOUND', `ledger ${ledger.id} not found`]);
    const own = await ledgers.createLedger({ ...usdEurJpy, currencies: ['USD'] }, globex);
    const transfer = { fromLedgerId: own.id, toLedgerId: ledger.id, transactionId: 't', currency: 'USD', amount: 1n, metadata: {} };
    expect((await refusal(ledgers.submitTransfer(transfer, globex))).code).toBe('NOT_FOUND');
    const [credit] = await ledgers.submitTransactions([{ ledgerId: ledger.id, transactionId: 'c', type: 'CREDIT', amount: 1n, currency: 'USD', metadata: {} }], globex);
    expect(credit).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect((await ledgers.listLedgers({ pageSize: 500, pageToken: '' }, globex)).items.map((l) => l.id)).toEqual([own.id]);
  });

  it('books credits and debits as balanced postings, lists them newest first, and keeps them immutable', async () => {
    const ledger = await ledgers.createLedger(usdEurJpy, ANY);
    // As the worker does: each operation applied in its own transaction.
    const apply = async (i: number, type: 'CREDIT' | 'DEBIT', amount: string) => {
      const [result] = await db.sql.transaction((tx) =>
        applyTransactions(
          { tx, shard: 0 },
          [{ id: randomUUID(), ledgerId: ledger.id, transactionId: `tx-${i}`, request: { type, amount, currency: 'USD', metadata: {} } }],
        ),
      );
      return result;
    };
    expect(await apply(0, 'CREDIT', '100')).toMatchObject({ ok: true, balanceChanges: [{ amount: 100n, balanceAfter: 100n }] });
    expect(await apply(1, 'DEBIT', '30')).toMatchObject({ ok: true, balanceChanges: [{ amount: -30n, balanceAfter: 70n }] });
    expect(await apply(2, 'CREDIT', '5')).toMatchObject({ ok: true, balanceChanges: [{ amount: 5n, balanceAfter: 75n }] });
    expect(await apply(3, 'DEBIT', '76')).toMatchObject({ ok: false, error: { code: 'INSUFFICIENT_FUNDS', details: { balance: '75' } } });
    expect(await apply(4, 'CREDIT', 'lots')).toMatchObject({ ok: false, error: { code: 'MALFORMED_REQUEST' } });

    const page1 = await ledgers.listEntries({ ledgerId: ledger.id, currency: 'USD', pageSize: 2, pageToken: '' }, ANY);
    expect(page1.items.map((e) => [e.transactionId, e.amount, e.balanceAfter])).toEqual([
      ['tx-2', 5n, 75n],
      ['tx-1', -30n, 70n],
    ]);
    const page2 = await ledgers.listEntries({ ledgerId: ledger.id, currency: 'USD', pageSize: 2, pageToken: page1.nextPageToken }, ANY);
    expect(page2.items.map((e) => e.transactionId)).toEqual(['tx-0']);
    expect(page2.nextPageToken).toBe('');
    expect((await ledgers.listEntries({ ledgerId: ledger.id, currency: 'EUR', pageSize: 0, pageToken: '' }, ANY)).items).toEqual([]);
    expect((await ledgers.getBalances(ledger.id, ANY)).find((b) => b.currency === 'USD')?.amount).toBe(75n);

    // Every posting has a system-side entry: the postings of these operations sum to zero.
    const conn = db.orm.em.getConnection();
    const [sums] = await conn.execute<Array<{ total: string; n: string }>>(
      `select sum(amount)::text as total, count(*)::text as n from ledgers.entry
        where posting_id in (select posting_id from ledgers.entry where ledger_id = ?)`,
      [ledger.id],
    );
    expect(sums).toEqual({ total: '0', n: '6' });
    await expect(conn.execute(`update ledgers.entry set amount = 1 where ledger_id = ?`, [ledger.id])).rejects.toThrow(/append-only/);
    await expect(conn.execute(`delete from ledgers.entry where ledger_id = ?`, [ledger.id])).rejects.toThrow(/append-only/);
  });
});

/** A credit or debit as the worker holds it. */
const toApply = (op: Pick<OperationToApply, 'id' | 'ledgerId' | 'transactionId' | 'request'>): OperationToApply => ({ ...op, toLedgerId: null, stage: 0, progress: {} });

/** The worker half of SubmitTransaction, on operations as the worker holds them. */
function applyTransactions(context: Parameters<LedgersFacade['appliers']['TRANSACTION']>[0], ops: ReadonlyArray<Parameters<typeof toApply>[0]>) {
  return ledgers.appliers.TRANSACTION(context, ops.map(toApply));
}

/** As the worker does: the bookings applied in one transaction. */
function book(...bookings: Booking[]) {
  return db.sql.transaction((tx) => ledgers.book({ tx, shard: 0 }, bookings));
}

async function fund(ledgerId: string, currency: string, amount: string): Promise<void> {
  const [result] = await db.sql.transaction((tx) =>
    applyTransactions({ tx, shard: 0 }, [
      { id: randomUUID(), ledgerId, transactionId: `fund-${randomUUID()}`, request: { type: 'CREDIT', amount, currency, metadata: {} } },
    ]),
  );
  expect(result).toMatchObject({ ok: true });
}

describe('disabling a currency', () => {
  it('keeps its balance listed, drops it from the enabled currencies, refuses submits, and can be undone', async () => {
    const ledger = await ledgers.createLedger(usdEurJpy, ANY);
    await fund(ledger.id, 'EUR', '250');
    const disabled = await Promise.all([1, 2].map(() => ledgers.disableCurrency(ledger.id, 'EUR', ANY)));
    for (const l of disabled) expect(l.currencies).toEqual(['USD', 'JPY']);
    expect((await ledgers.disableCurrency(ledger.id, 'EUR', ANY)).currencies).toEqual(['USD', 'JPY']);
    expect((await ledgers.getLedger(ledger.id, ANY)).currencies).toEqual(['USD', 'JPY']);
    expect(await ledgers.getBalances(ledger.id, ANY)).toContainEqual({ currency: 'EUR', amount: 250n, exponent: 2 });

    const input = { ledgerId: ledger.id, transactionId: 't-eur', type: 'DEBIT' as const, amount: 5n, currency: 'EUR', metadata: {} };
    const [prepared] = await ledgers.submitTransactions([input], ANY);
    expect(prepared).toMatchObject({ ok: false, error: { code: 'FAILED_PRECONDITION', details: { reason: 'CURRENCY_NOT_ENABLED' } } });
    const [applied] = await db.sql.transaction((tx) =>
      applyTransactions({ tx, shard: 0 }, [
        { id: randomUUID(), ledgerId: ledger.id, transactionId: 't-eur', request: { type: 'DEBIT', amount: '5', currency: 'EUR', metadata: {} } },
      ]),
    );
    expect(applied).toMatchObject({ ok: false, error: { code: 'CURRENCY_NOT_ENABLED' } });

    expect((await ledgers.enableCurrency(ledger.id, 'EUR', ANY)).currencies).toEqual(['USD', 'EUR', 'JPY']);
    expect(await ledgers.getBalances(ledger.id, ANY)).toContainEqual({ currency: 'EUR', amount: 250n, exponent: 2 });
    expect((await ledgers.submitTransactions([input], ANY))[0]).toMatchObject({ ok: true });
  });

  it('answers NOT_FOUND for an unknown ledger and CURRENCY_NOT_ENABLED for a currency never enabled', async () => {
    const unknown = await refusal(ledgers.disableCurrency(randomUUID(), 'USD', ANY));
    expect(unknown.code).toBe('NOT_FOUND');
    const ledger = await ledgers.createLedger({ ...usdEurJpy, currencies: ['USD'] }, ANY);
    const never = await refusal(ledgers.disableCurrency(ledger.id, 'CHF', ANY));
    expect(never.code).toBe('FAILED_PRECONDITION');
    expect(never.details).toMatchObject({ reason: 'CURRENCY_NOT_ENABLED', metadata: { ledger_id: ledger.id, currency: 'CHF' } });
    const malformed = await refusal(ledgers.disableCurrency('42', 'EURO', ANY));
    expect(malformed.details.violations?.map((v) => v.field)).toEqual(['ledger_id', 'currency']);
  });

  it('still lets money come back by a restore leg, while a plain credit is refused', async () => {
    const ledger = await ledgers.createLedger(usdEurJpy, ANY);
    await fund(ledger.id, 'JPY', '1000');
    const [taken] = await book({ operationId: randomUUID(), transactionId: 'out', legs: [{ ledgerId: ledger.id, currency: 'JPY', delta: -300n, counterparty: 'TRANSIT' }] });
    expect(taken).toMatchObject({ ok: true });
    await ledgers.disableCurrency(ledger.id, 'JPY', ANY);

    const leg = { ledgerId: ledger.id, currency: 'JPY', delta: 300n, counterparty: 'TRANSIT' } as const;
    const [plain, restored] = await book(
      { operationId: randomUUID(), transactionId: 'in', legs: [leg] },
      { operationId: randomUUID(), transactionId: 'back', legs: [{ ...leg, restore: true }] },
    );
    expect(plain).toMatchObject({ ok: false, error: { code: 'CURRENCY_NOT_ENABLED', details: { ledger_id: ledger.id, currency: 'JPY' } } });
    expect(restored).toEqual({ ok: true, balanceChanges: [{ ledgerId: ledger.id, currency: 'JPY', amount: 300n, balanceAfter: 1000n }] });
    expect(await ledgers.getBalances(ledger.id, ANY)).toContainEqual({ currency: 'JPY', amount: 1000n, exponent: 0 });

    await expect(book({ operationId: randomUUID(), transactionId: 'bad', legs: [{ ...leg, delta: -1n, restore: true }] })).rejects.toThrow(/restore leg must be a credit/);
  });
});

describe('disabling a currency while the worker books on it', () => {
  it('waits for the batch holding the account instead of deadlocking with it', async () => {
    const ledger = await ledgers.createLedger(usdEurJpy, ANY);
    await fund(ledger.id, 'EUR', '1000');
    const leg = { ledgerId: ledger.id, currency: 'EUR', delta: -10n, counterparty: 'TRANSIT' } as const;
    let disabling: Promise<unknown> = Promise.resolve();
    // A worker batch books one account twice (a run of one kind, then a run of another); the
    // second update re-checks the account's key to its ledger, which the disable has locked.
    await db.sql.transaction(async (tx) => {
      await ledgers.book({ tx, shard: 0 }, [{ operationId: randomUUID(), transactionId: 'first', legs: [leg] }]);
      disabling = ledgers.disableCurrency(ledger.id, 'EUR', ANY);
      await expect
        .poll(async () => {
          const waiting = await db.em().execute<Array<{ n: number }>>(
            `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query ilike '%update%ledgers%account%enabled%'`,
          );
          return waiting[0]!.n;
        })
        .toBeGreaterThan(0);
      await ledgers.book({ tx, shard: 0 }, [{ operationId: randomUUID(), transactionId: 'second', legs: [leg] }]);
    });
    await expect(disabling).resolves.toMatchObject({ currencies: ['USD', 'JPY'] });
    expect(await ledgers.getBalances(ledger.id, ANY)).toContainEqual({ currency: 'EUR', amount: 980n, exponent: 2 });
  });
});

describe('transfers', () => {
  it('records a transfer between two ledgers with the currency enabled, canonically, on the source ledger', async () => {
    const [from, to] = await Promise.all([ledgers.createLedger(usdEurJpy, ANY), ledgers.createLedger({ ...usdEurJpy, currencies: ['EUR'] }, ANY)]);
    const prepared = await ledgers.submitTransfer({
      fromLedgerId: from.id,
      toLedgerId: to.id,
      transactionId: 'tr-1',
      currency: 'EUR',
      amount: 999n,
      metadata: { b: '2', a: '1' },
    }, ANY);
    expect(prepared).toEqual({
      kind: 'TRANSFER',
      tenant: null,
      ledgerId: from.id,
      toLedgerId: to.id,
      transactionId: 'tr-1',
      request: { toLedgerId: to.id, currency: 'EUR', amount: '999', metadata: { a: '1', b: '2' } },
    });
  });

  it('refuses a transfer to the same ledger, to a missing ledger, in a currency the target lacks, or of a bad amount', async () => {
    const [from, to] = await Promise.all([ledgers.createLedger(usdEurJpy, ANY), ledgers.createLedger({ ...usdEurJpy, currencies: ['USD'] }, ANY)]);
    const transfer = { fromLedgerId: from.id, toLedgerId: to.id, transactionId: 'tr-2', currency: 'USD', amount: 10n, metadata: {} };

    const same = await refusal(ledgers.submitTransfer({ ...transfer, toLedgerId: from.id }, ANY));
    expect(same.details.violations).toEqual([{ field: 'to_ledger_id', description: 'must differ from from_ledger_id' }]);

    const missingId = randomUUID();
    const missing = await refusal(ledgers.submitTransfer({ ...transfer, toLedgerId: missingId }, ANY));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.details.resource).toEqual({ type: 'ledger', name: missingId });
    const missingSource = await refusal(ledgers.submitTransfer({ ...transfer, fromLedgerId: missingId }, ANY));
    expect(missingSource.details.resource).toEqual({ type: 'ledger', name: missingId });

    const notOnTarget = await refusal(ledgers.submitTransfer({ ...transfer, currency: 'JPY' }, ANY));
    expect(notOnTarget.code).toBe('FAILED_PRECONDITION');
    expect(notOnTarget.details).toMatchObject({ reason: 'CURRENCY_NOT_ENABLED', metadata: { ledger_id: to.id, currency: 'JPY' } });
    await ledgers.disableCurrency(from.id, 'USD', ANY);
    const disabledOnSource = await refusal(ledgers.submitTransfer(transfer, ANY));
    expect(disabledOnSource.details).toMatchObject({ reason: 'CURRENCY_NOT_ENABLED', metadata: { ledger_id: from.id, currency: 'USD' } });

    for (const amount of [0n, -1n, 2n ** 63n]) {
      const bad = await refusal(ledgers.submitTransfer({ ...transfer, amount }, ANY));
      expect(bad.details.violations?.map((v) => v.field)).toEqual(['amount']);
    }
  });

  it('finds the operations that left money in TRANSIT, not those whose legs cancel out', async () => {
    const [from, to] = await Promise.all([ledgers.createLedger(usdEurJpy, ANY), ledgers.createLedger(usdEurJpy, ANY)]);
    await fund(from.id, 'USD', '500');
    const inFlight = randomUUID();
    const delivered = randomUUID();
    const untouched = randomUUID();
    const results = await book(
      { operationId: inFlight, transactionId: 'in-flight', legs: [{ ledgerId: from.id, currency: 'USD', delta: -100n, counterparty: 'TRANSIT' }] },
      {
        operationId: delivered,
        transactionId: 'delivered',
        legs: [
          { ledgerId: from.id, currency: 'USD', delta: -40n, counterparty: 'TRANSIT' },
          { ledgerId: to.id, currency: 'USD', delta: 40n, counterparty: 'TRANSIT' },
        ],
      },
    );
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(await ledgers.unsettledTransit([inFlight, delivered, untouched])).toEqual([inFlight]);
    expect(await ledgers.unsettledTransit([])).toEqual([]);
  });
});
