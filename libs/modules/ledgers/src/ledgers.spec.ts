import { createLogger, Database, TallyError } from '@tally/platform';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedgersFacade, ledgersSchema, type LedgersFacade } from './index.js';

/** Against the real PostgreSQL test database (migrated by the global setup). */
let db: Database;
let ledgers: LedgersFacade;

beforeAll(async () => {
  db = await Database.open({ url: process.env['DATABASE_URL']!, modules: [ledgersSchema], logger: createLogger('warn') });
  ledgers = createLedgersFacade(db);
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
    const ledger = await ledgers.createLedger(usdEurJpy);
    expect(ledger).toMatchObject({ name: 'Acme', currencies: ['USD', 'EUR', 'JPY'], overdraftAllowed: false });
    expect(await ledgers.getLedger(ledger.id)).toEqual(ledger);
    expect(await ledgers.getBalances(ledger.id)).toEqual([
      { currency: 'EUR', amount: 0n, exponent: 2 },
      { currency: 'JPY', amount: 0n, exponent: 0 },
      { currency: 'USD', amount: 0n, exponent: 2 },
    ]);
  });

  it('enables another currency once, however often it is asked', async () => {
    const ledger = await ledgers.createLedger({ ...usdEurJpy, currencies: ['USD'] });
    const results = await Promise.all([1, 2, 3].map(() => ledgers.enableCurrency(ledger.id, 'BHD')));
    for (const r of results) expect(r.currencies).toEqual(['USD', 'BHD']);
    expect((await ledgers.getBalances(ledger.id)).map((b) => [b.currency, b.exponent])).toEqual([
      ['BHD', 3],
      ['USD', 2],
    ]);
  });

  it('answers NOT_FOUND for an unknown ledger and INVALID_ARGUMENT for a malformed id', async () => {
    const unknown = randomUUID();
    expect((await refusal(ledgers.getLedger(unknown))).code).toBe('NOT_FOUND');
    expect((await refusal(ledgers.getBalances(unknown))).code).toBe('NOT_FOUND');
    expect((await refusal(ledgers.enableCurrency(unknown, 'USD'))).code).toBe('NOT_FOUND');
    expect((await refusal(ledgers.listEntries({ ledgerId: unknown, currency: '', pageSize: 0, pageToken: '' }))).code).toBe(
      'NOT_FOUND',
    );
    const malformed = await refusal(ledgers.getLedger('42'));
    expect(malformed.code).toBe('INVALID_ARGUMENT');
    expect(malformed.details.violations?.[0]?.field).toBe('ledger_id');
  });

  it('makes a retried CreateLedger with the same request id return the same ledger, even concurrently', async () => {
    const requestId = `create-${randomUUID()}`;
    const created = await Promise.all([1, 2, 3, 4].map(() => ledgers.createLedger({ ...usdEurJpy, requestId })));
    expect(new Set(created.map((l) => l.id)).size).toBe(1);
    const reused = await refusal(ledgers.createLedger({ ...usdEurJpy, name: 'Other', requestId }));
    expect(reused.code).toBe('ALREADY_EXISTS');
    expect(reused.details.metadata?.['ledger_id']).toBe(created[0]?.id);
  });

  it('pages through ledgers oldest first without repeats or gaps', async () => {
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push((await ledgers.createLedger({ ...usdEurJpy, name: `page ${i}` })).id);
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await ledgers.listLedgers({ pageSize: 2, pageToken });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((l) => l.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => mine.includes(id))).toEqual(mine);
  });

  it('refuses a page token from another query and a page size over the limit', async () => {
    const first = await ledgers.listLedgers({ pageSize: 1, pageToken: '' });
    const ledger = await ledgers.createLedger(usdEurJpy);
    const bad = await refusal(
      ledgers.listEntries({ ledgerId: ledger.id, currency: '', pageSize: 1, pageToken: first.nextPageToken || 'x' }),
    );
    expect(bad.details.violations?.map((v) => v.field)).toEqual(['page_token']);
    const tooBig = await refusal(ledgers.listLedgers({ pageSize: 501, pageToken: '' }));
    expect(tooBig.details.violations?.map((v) => v.field)).toEqual(['page_size']);
  });

  it('books credits and debits as balanced postings, lists them newest first, and keeps them immutable', async () => {
    const ledger = await ledgers.createLedger(usdEurJpy);
    // As the worker does: each operation applied in its own transaction.
    const apply = async (i: number, type: 'CREDIT' | 'DEBIT', amount: string) => {
      const [result] = await db.em().transactional((em) =>
        ledgers.applyTransactions(
          { em, shard: 0 },
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

    const page1 = await ledgers.listEntries({ ledgerId: ledger.id, currency: 'USD', pageSize: 2, pageToken: '' });
    expect(page1.items.map((e) => [e.transactionId, e.amount, e.balanceAfter])).toEqual([
      ['tx-2', 5n, 75n],
      ['tx-1', -30n, 70n],
    ]);
    const page2 = await ledgers.listEntries({ ledgerId: ledger.id, currency: 'USD', pageSize: 2, pageToken: page1.nextPageToken });
    expect(page2.items.map((e) => e.transactionId)).toEqual(['tx-0']);
    expect(page2.nextPageToken).toBe('');
    expect((await ledgers.listEntries({ ledgerId: ledger.id, currency: 'EUR', pageSize: 0, pageToken: '' })).items).toEqual([]);
    expect((await ledgers.getBalances(ledger.id)).find((b) => b.currency === 'USD')?.amount).toBe(75n);

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
