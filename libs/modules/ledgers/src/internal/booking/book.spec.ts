import { money } from '@tally/currencies';
import { createLogger, Database, statement, type Statement } from '@tally/platform';
import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgersSchema } from '../../index.js';
import { auditBooks } from '../audit.js';
import { book } from './book.js';
import type { Booking, BookingResult, Leg } from './decide.js';

/**
 * Booking against the real PostgreSQL test database (migrated by the global setup): the shard's
 * system accounts (EXTERNAL, FX, TRANSIT) are shared by every ledger of a partition, so no
 * ledger's activity may leave them at an edge that refuses another's (issue #9, defect 5).
 * Each test books in a shard of its own, far above any partition a suite runs, so its system
 * accounts start at zero and nothing else books on them.
 */
let db: Database;

beforeAll(async () => {
  db = await Database.open({ url: process.env['DATABASE_URL']!, modules: [ledgersSchema], logger: createLogger('warn') });
});
afterAll(() => db.close());

const freshShard = () => randomInt(100_000, 2 ** 31 - 1);

const INSERT_LEDGER = statement('book_spec_ledger', `insert into ledgers.ledger (id, name, overdraft_allowed) values ($1, 'booking spec', $2)`);
const INSERT_ACCOUNTS = statement('book_spec_accounts', `insert into ledgers.account (ledger_id, kind, currency) select $1, 'LEDGER', unnest($2::text[])`);
const SYSTEM_BALANCE = statement('book_spec_system_balance', `select balance::text as balance from ledgers.account where kind = $1 and currency = $2 and shard = $3`);

const SET_LEDGER_BALANCE = statement('book_spec_set_ledger_balance', `update ledgers.account set balance = $2::numeric where ledger_id = $1 returning balance::text as balance`);
const SET_SYSTEM_BALANCE = statement(
  'book_spec_set_system_balance',
  `update ledgers.account set balance = $2::numeric where kind = 'EXTERNAL' and shard = $1 returning balance::text as balance`,
);
const FORGE_LEDGER_ENTRY = statement(
  'book_spec_forge_ledger_entry',
  `insert into ledgers.entry (posting_id, account_id, ledger_id, operation_id, transaction_id, currency, amount, balance_after)
   select nextval('ledgers.posting_id_seq'), a.id, a.ledger_id, gen_random_uuid(), 'forged', a.currency, 1, $2::numeric
     from ledgers.account a where a.ledger_id = $1
   returning balance_after::text as balance`,
);

/** Runs a statement and rolls back whatever it did: its rows, or the message of PostgreSQL's refusal. */
async function rolledBack(sql: Statement, values: unknown[]): Promise<Array<{ balance: string }> | string> {
  return db.sql
    .transaction(async (tx) => {
      const rows = await tx.query<{ balance: string }>(sql, values);
      throw Object.assign(new Error('rolled back'), { rows });
    })
    .catch((e: Error & { rows?: Array<{ balance: string }> }) => e.rows ?? e.message);
}

/** A ledger with one account per currency, at zero, straight into the module's tables. */
async function ledger(currencies: string[], overdraftAllowed = false): Promise<string> {
  const id = randomUUID();
  await db.sql.transaction(async (tx) => {
    await tx.query(INSERT_LEDGER, [id, overdraftAllowed]);
    await tx.query(INSERT_ACCOUNTS, [id, currencies]);
  });
  return id;
}

/** Books one operation of these legs in its own transaction, as the worker would. */
async function bookOne(shard: number, ...legs: Leg[]): Promise<BookingResult> {
  const booking: Booking = { operationId: randomUUID(), transactionId: `t-${randomUUID()}`, legs };
  const [result] = await db.sql.transaction((tx) => book({ tx, shard }, [booking]));
  return result!;
}

async function systemBalance(shard: number, kind: Leg['counterparty'], currency: string): Promise<bigint> {
  const [row] = await db.sql.query<{ balance: string }>(SYSTEM_BALANCE, [kind, currency, shard]);
  return BigInt(row!.balance);
}

const leg = (ledgerId: string, currency: string, delta: bigint, counterparty: Leg['counterparty'] = 'EXTERNAL'): Leg => ({ ledgerId, currency, delta, counterparty });
const completed = (balanceAfter: bigint) => ({ ok: true, balanceChanges: [expect.objectContaining({ balanceAfter })] });
const outOfRange = { ok: false, error: expect.objectContaining({ code: 'BALANCE_OUT_OF_RANGE' }) };

describe("a partition's system accounts", () => {
  it("take a credit of int64 max to one ledger and still take another ledger's credits and debits", async () => {
    const shard = freshShard();
    const whale = await ledger(['SEK']);
    const neighbour = await ledger(['SEK']);
    expect(await bookOne(shard, leg(whale, 'SEK', money.INT64_MAX))).toEqual(completed(money.INT64_MAX));
    expect(await bookOne(shard, leg(neighbour, 'SEK', 100n))).toEqual(completed(100n));
    expect(await bookOne(shard, leg(neighbour, 'SEK', -40n))).toEqual(completed(60n));
    // The shard's EXTERNAL account holds what came in, exactly, beyond int64.
    expect(await systemBalance(shard, 'EXTERNAL', 'SEK')).toBe(-money.INT64_MAX - 60n);
    // A ledger's own balance stays within int64: its limit, never another's.
    expect(await bookOne(shard, leg(whale, 'SEK', 1n))).toEqual(outOfRange);
  });

  it("pay int64 max out of one ledger and still pay out of another", async () => {
    const shard = freshShard();
    const spender = await ledger(['NOK'], true);
    const neighbour = await ledger(['NOK'], true);
    expect(await bookOne(shard, leg(spender, 'NOK', -money.INT64_MAX))).toEqual(completed(-money.INT64_MAX));
    expect(await bookOne(shard, leg(neighbour, 'NOK', -100n))).toEqual(completed(-100n));
    expect(await systemBalance(shard, 'EXTERNAL', 'NOK')).toBe(money.INT64_MAX + 100n);
    // Overdraft reaches down to int64 min, not below.
    expect(await bookOne(shard, leg(spender, 'NOK', -2n))).toEqual(outOfRange);
    expect(await bookOne(shard, leg(spender, 'NOK', -1n))).toEqual(completed(money.INT64_MIN));
  });

  it("carry an exchange and a transfer of int64 max through FX and TRANSIT and still carry another ledger's", async () => {
    const shard = freshShard();
    const whale = await ledger(['DKK', 'EUR']);
    const neighbour = await ledger(['DKK', 'EUR']);
    for (const id of [whale, neighbour]) expect((await bookOne(shard, leg(id, 'DKK', money.INT64_MAX))).ok).toBe(true);
    // Exchanges: both legs against FX, DKK out, EUR in.
    expect((await bookOne(shard, leg(whale, 'DKK', -money.INT64_MAX, 'FX'), leg(whale, 'EUR', 1_000_000n, 'FX'))).ok).toBe(true);
    expect((await bookOne(shard, leg(neighbour, 'DKK', -1_000n, 'FX'), leg(neighbour, 'EUR', 134n, 'FX'))).ok).toBe(true);
    expect(await systemBalance(shard, 'FX', 'DKK')).toBe(money.INT64_MAX + 1_000n);
    // Transfers' debits: into TRANSIT, where the credit in another partition takes them out.
    expect((await bookOne(shard, leg(neighbour, 'EUR', -134n, 'TRANSIT'))).ok).toBe(true);
    expect((await bookOne(shard, leg(neighbour, 'DKK', -(money.INT64_MAX - 1_000n), 'TRANSIT'))).ok).toBe(true);
    expect((await bookOne(shard, leg(whale, 'EUR', -1_000_000n, 'TRANSIT'))).ok).toBe(true);
    expect(await systemBalance(shard, 'TRANSIT', 'DKK')).toBe(money.INT64_MAX - 1_000n);
    // A transfer's credit taking int64 max out of TRANSIT of a shard that holds less.
    expect(await bookOne(shard, leg(whale, 'DKK', money.INT64_MAX, 'TRANSIT'))).toEqual(completed(money.INT64_MAX));
    expect(await bookOne(shard, leg(neighbour, 'DKK', money.INT64_MAX, 'TRANSIT'))).toEqual(completed(money.INT64_MAX));
    expect(await systemBalance(shard, 'TRANSIT', 'DKK')).toBe(-money.INT64_MAX - 1_000n);
  });

  it('are the only balances PostgreSQL lets past int64: a ledger account or a ledger entry beyond it is refused', async () => {
    const shard = freshShard();
    const id = await ledger(['CHF']);
    expect((await bookOne(shard, leg(id, 'CHF', 5n))).ok).toBe(true);
    const beyond = (money.INT64_MAX + 1n).toString();
    expect(await rolledBack(SET_LEDGER_BALANCE, [id, beyond])).toMatch(/account_ledger_balance_int64/);
    expect(await rolledBack(SET_SYSTEM_BALANCE, [shard, '1.5'])).toMatch(/account_balance_whole/);
    expect(await rolledBack(SET_SYSTEM_BALANCE, [shard, beyond])).toEqual([{ balance: beyond }]);
    expect(await rolledBack(FORGE_LEDGER_ENTRY, [id, beyond])).toMatch(/entry_balance_after_range/);
  });

  it('keep books the audit finds whole beyond int64: every system balance equals its entries', async () => {
    const shard = freshShard();
    const whales = [await ledger(['CHF']), await ledger(['CHF'])];
    for (const id of whales) expect((await bookOne(shard, leg(id, 'CHF', money.INT64_MAX))).ok).toBe(true);
    expect(await systemBalance(shard, 'EXTERNAL', 'CHF')).toBe(-2n * money.INT64_MAX);
    const findings = await auditBooks(db.em());
    // Other suites share this database: only what this test booked is its to judge.
    expect(findings.accountsNotMatchingEntries.filter((f) => f.includes(`shard ${shard} `) || whales.some((id) => f.includes(id)))).toEqual([]);
    expect(findings.currenciesNotZero.filter((f) => f.startsWith('CHF'))).toEqual([]);
  });
});
