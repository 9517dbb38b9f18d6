import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from './support/test-env.js';

/**
 * PostgreSQL refuses entries whose postings do not sum to zero in each currency, whoever
 * writes them (migration ledgers-0003). Everything here is written in one transaction that is
 * rolled back: the books the other suites audit never see these entries.
 */

let db: pg.Client;
/** Two ledgers' accounts in CHF and EUR: a and b. */
const accounts: Record<'aCHF' | 'bCHF' | 'aEUR', string> = { aCHF: '', bCHF: '', aEUR: '' };

beforeAll(async () => {
  db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  await db.query('begin');
  const [a, b] = [randomUUID(), randomUUID()];
  await db.query(`insert into ledgers.ledger (id, name) values ($1, 'balanced postings a'), ($2, 'balanced postings b')`, [a, b]);
  const account = async (ledgerId: string, currency: string): Promise<string> =>
    (await db.query<{ id: string }>(`insert into ledgers.account (ledger_id, kind, currency) values ($1, 'LEDGER', $2) returning id::text`, [ledgerId, currency]))
      .rows[0]!.id;
  accounts.aCHF = await account(a, 'CHF');
  accounts.bCHF = await account(b, 'CHF');
  accounts.aEUR = await account(a, 'EUR');
});
afterAll(async () => {
  await db.query('rollback');
  await db.end();
});

interface Entry {
  /** Which of the statement's postings (each gets a fresh posting id). */
  readonly posting: number;
  readonly account: keyof typeof accounts;
  readonly currency: 'CHF' | 'EUR';
  readonly amount: number;
}

/**
 * Books the entries in one INSERT, as the worker does, in a savepoint. Resolves to how many
 * entries the operation has afterwards, or the error PostgreSQL refused the insert with.
 */
async function book(entries: readonly Entry[]): Promise<{ written: number } | { refused: { code: string; message: string } }> {
  const operationId = randomUUID();
  const postings = Math.max(...entries.map((e) => e.posting)) + 1;
  await db.query('savepoint booking');
  try {
    await db.query(
      `with postings as (select n - 1 as posting, nextval('ledgers.posting_id_seq') as id from generate_series(1, $1::int) as n)
       insert into ledgers.entry (posting_id, account_id, operation_id, transaction_id, currency, amount, balance_after)
       select p.id, x.account_id, $2, 'balanced-postings', x.currency, x.amount, 0
         from jsonb_to_recordset($3::jsonb) as x(posting int, account_id bigint, currency text, amount bigint)
         join postings p on p.posting = x.posting`,
      [postings, operationId, JSON.stringify(entries.map((e) => ({ posting: e.posting, account_id: accounts[e.account], currency: e.currency, amount: e.amount })))],
    );
    const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from ledgers.entry where operation_id = $1`, [operationId]);
    await db.query('release savepoint booking');
    return { written: rows[0]!.n };
  } catch (error) {
    await db.query('rollback to savepoint booking');
    const { code, message } = error as { code: string; message: string };
    return { refused: { code, message } };
  }
}

const refusedWith = (message: RegExp) => ({ refused: { code: '23514', message: expect.stringMatching(message) } });

describe('every posting sums to zero per currency', () => {
  it('takes balanced postings, several in one statement as the worker books them', async () => {
    expect(
      await book([
        { posting: 0, account: 'aCHF', currency: 'CHF', amount: 500 },
        { posting: 0, account: 'bCHF', currency: 'CHF', amount: -500 },
        { posting: 1, account: 'bCHF', currency: 'CHF', amount: 70 },
        { posting: 1, account: 'aCHF', currency: 'CHF', amount: -70 },
      ]),
    ).toEqual({ written: 4 });
  });

  it('refuses an entry outside a balanced posting', async () => {
    expect(await book([{ posting: 0, account: 'aCHF', currency: 'CHF', amount: 500 }])).toEqual(refusedWith(/^posting \d+ does not sum to zero in CHF \(sums to 500\)$/));
  });

  it('refuses the whole statement when one of its postings is unbalanced', async () => {
    expect(
      await book([
        { posting: 0, account: 'aCHF', currency: 'CHF', amount: 500 },
        { posting: 0, account: 'bCHF', currency: 'CHF', amount: -500 },
        { posting: 1, account: 'aCHF', currency: 'CHF', amount: 500 },
        { posting: 1, account: 'bCHF', currency: 'CHF', amount: -400 },
      ]),
    ).toEqual(refusedWith(/sums to 100/));
  });

  it('refuses a posting that balances only across currencies', async () => {
    expect(
      await book([
        { posting: 0, account: 'aCHF', currency: 'CHF', amount: 500 },
        { posting: 0, account: 'aEUR', currency: 'EUR', amount: -500 },
      ]),
    ).toEqual(refusedWith(/does not sum to zero in (CHF \(sums to 500\)|EUR \(sums to -500\))/));
  });

  it('refuses postings that balance only each other', async () => {
    expect(
      await book([
        { posting: 0, account: 'aCHF', currency: 'CHF', amount: 500 },
        { posting: 1, account: 'bCHF', currency: 'CHF', amount: -500 },
      ]),
    ).toEqual(refusedWith(/does not sum to zero in CHF/));
  });
});
