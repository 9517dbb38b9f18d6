import { describe, expect, it } from 'vitest';
import { HonestBooks } from './books.testing.js';
import type { SeenEntry, SeenOperation } from './seen.js';
import { judge } from './verdict.js';

const checksOf = (books: HonestBooks) => judge(books.records, books.seen()).violations.map((v) => v.check);

/** Books with every kind of operation, a failed debit among them. */
function mixedBooks(): HonestBooks {
  const books = new HonestBooks('A', 'B');
  books.credit('A', 1_000n);
  books.debit('A', 300n);
  books.transfer('A', 'B', 200n);
  books.debit('A', 5_000n); // fails: 500 left
  books.credit('B', 50n, 'EUR');
  books.exchange('A', 'USD', 'JPY', 100n, 15_000n, { id: 'q1', toAmount: 15_000n });
  books.transfer('B', 'A', 100n); // arrives on A between A's own operations
  books.debit('A', 450n); // fails: 400 + 100 = 500 is enough, so it completes
  return books;
}

function replaceOperation(books: HonestBooks, id: string, change: (op: SeenOperation) => SeenOperation): void {
  books.operations.set(id, change(books.operations.get(id)!));
}

describe('the verdict on honest books', () => {
  it('finds nothing wrong, and counts what happened', () => {
    const books = mixedBooks();
    const verdict = judge(books.records, books.seen());
    expect(verdict.violations).toEqual([]);
    expect(verdict).toMatchObject({ accepted: 8, completed: 7, acceptedAfterGivingUp: 0, gaveUpAbsent: 0 });
    expect(Object.fromEntries(verdict.failedByReason)).toEqual({ INSUFFICIENT_FUNDS: 1 });
    expect(verdict.failuresPlacedInOrder).toBe(1);
  });

  it('accepts a submit given up on, recorded or not, and an expired quote refused', () => {
    const books = mixedBooks();
    books.gaveUp('A', 10n, true);
    books.gaveUp('A', 20n, false);
    books.refused('A', 'FAILED_PRECONDITION', 'QUOTE_EXPIRED', { id: 'q2', toAmount: 1n });
    const verdict = judge(books.records, books.seen());
    expect(verdict.violations).toEqual([]);
    expect(verdict).toMatchObject({ acceptedAfterGivingUp: 1, gaveUpAbsent: 1 });
  });
});

describe('exactly once', () => {
  it('an acknowledged submit that does not exist', () => {
    const books = mixedBooks();
    books.operations.delete('op-1');
    books.entries.set('A', books.entries.get('A')!.filter((e) => e.operationId !== 'op-1'));
    expect(checksOf(books)).toContain('exactly-once');
  });

  it('an acknowledged submit recorded twice', () => {
    const books = mixedBooks();
    books.operations.set('op-1b', { ...books.operations.get('op-1')!, id: 'op-1b' });
    expect(checksOf(books)).toContain('exactly-once');
  });

  it('an acknowledgement naming another operation than the one its transaction id found', () => {
    const books = mixedBooks();
    const record = books.records[0]!;
    books.records[0] = { ...record, outcome: { kind: 'acknowledged', operationId: 'op-99', ledgerId: 'A', transactionId: record.transactionId } };
    expect(judge(books.records, books.seen()).violations.map((v) => v.message)).toEqual([expect.stringContaining('acknowledged as operation op-99')]);
  });

  it('an operation left PENDING, or CANCELLED by nobody', () => {
    for (const status of ['PENDING', 'CANCELLED'] as const) {
      const books = mixedBooks();
      replaceOperation(books, 'op-4', (op) => ({ ...op, status, errorCode: undefined, errorDetails: {} }));
      expect(checksOf(books)).toEqual(['exactly-once']);
    }
  });

  it('a refused submit that exists anyway', () => {
    const books = mixedBooks();
    const refused = books.refused('A', 'FAILED_PRECONDITION', 'QUOTE_EXPIRED', { id: 'q3', toAmount: 1n });
    books.operations.set('op-x', { ...books.operations.get('op-4')!, id: 'op-x', transactionId: refused.transactionId, kind: 'EXCHANGE' });
    expect(checksOf(books)).toContain('refusal');
  });

  it('a valid submit refused for another reason', () => {
    const books = mixedBooks();
    books.refused('A', 'NOT_FOUND', 'LEDGER_NOT_FOUND');
    expect(checksOf(books)).toEqual(['refusal']);
  });

  it('an operation nobody submitted', () => {
    const books = mixedBooks();
    books.operations.set('op-ghost', { ...books.operations.get('op-4')!, id: 'op-ghost', transactionId: 'ghost' });
    expect(checksOf(books)).toEqual(['phantom']);
  });
});

describe('effects and balances', () => {
  it('a credit applied with another amount', () => {
    const books = mixedBooks();
    books.records[0] = { ...books.records[0]!, amount: 999n };
    expect(checksOf(books)).toEqual(expect.arrayContaining(['effects', 'balance']));
  });

  it('an exchange credited other than its quote promised', () => {
    const books = mixedBooks();
    const i = books.records.findIndex((r) => r.kind === 'EXCHANGE');
    books.records[i] = { ...books.records[i]!, quote: { id: 'q1', toAmount: 14_999n } };
    expect(judge(books.records, books.seen()).violations.map((v) => v.message)).toEqual([expect.stringContaining('its quote q1 promised 14999')]);
  });

  it('a failed debit that wrote entries anyway', () => {
    const books = mixedBooks();
    const failed = [...books.operations.values()].find((op) => op.status === 'FAILED')!;
    books.entries.get('A')!.push({ id: 1_000n, ledgerId: 'A', operationId: failed.id, currency: 'USD', amount: -5_000n, balanceAfter: books.balance('A') - 5_000n });
    expect(checksOf(books)).toContain('effects');
  });

  it('a balance that is not the sum of what completed', () => {
    const books = mixedBooks();
    (books.seen().balances.get('B') as Map<string, bigint>).set('EUR', 51n);
    expect(checksOf(books)).toEqual(['balance']);
  });
});

describe('per-ledger order', () => {
  it('two operations of a ledger applied the other way round', () => {
    const books = mixedBooks();
    const entries = books.entries.get('A')!;
    // The first credit's entry written after the debit's.
    const [credit, debit] = [entries[0]!, entries[1]!];
    entries[0] = { ...debit, id: credit.id, balanceAfter: debit.amount };
    entries[1] = { ...credit, id: debit.id, balanceAfter: debit.amount + credit.amount };
    fixChangesFromEntries(books, entries);
    // Out of order, and overdrawn on the way (the debit went first).
    expect(new Set(checksOf(books))).toEqual(new Set(['order']));
  });

  it('an operation applied after several accepted later: each of those is named', () => {
    const books = new HonestBooks('A');
    books.credit('A', 100n);
    books.credit('A', 50n);
    books.credit('A', 25n);
    // The first credit written last, as if it had been held back while the others went ahead.
    const [first, second, third] = books.entries.get('A')!;
    books.entries.set('A', [
      { ...second!, balanceAfter: 50n },
      { ...third!, balanceAfter: 75n },
      { ...first!, id: 10n, balanceAfter: 175n },
    ]);
    fixChangesFromEntries(books, books.entries.get('A')!);
    const messages = judge(books.records, books.seen()).violations.map((v) => v.message);
    expect(messages).toEqual([expect.stringMatching(/t2 .* was applied before t1 /), expect.stringMatching(/t3 .* was applied before t1 /)]);
  });

  it('a debit failed on a balance the ledger did not hold at its turn', () => {
    const books = mixedBooks();
    const failed = [...books.operations.values()].find((op) => op.status === 'FAILED')!;
    // 500 at its turn; 800 was the balance two operations earlier.
    replaceOperation(books, failed.id, (op) => ({ ...op, errorDetails: { ...op.errorDetails, balance: '800' } }));
    expect(judge(books.records, books.seen()).violations.map((v) => v.message)).toEqual([expect.stringContaining('never held at its turn')]);
  });

  it('a debit that completed beyond the balance, on a ledger without overdraft', () => {
    const books = new HonestBooks('A');
    books.credit('A', 100n);
    const debit = books.debit('A', 150n);
    // Applied anyway: as if the funds check had not run.
    const op = books.operations.get(debit.outcome.kind === 'acknowledged' ? debit.outcome.operationId : '')!;
    books.entries.get('A')!.push({ id: 99n, ledgerId: 'A', operationId: op.id, currency: 'USD', amount: -150n, balanceAfter: -50n });
    books.operations.set(op.id, { ...op, status: 'COMPLETED', errorCode: undefined, errorDetails: {}, balanceChanges: [{ ledgerId: 'A', currency: 'USD', amount: -150n, balanceAfter: -50n }] });
    (books.seen().balances.get('A') as Map<string, bigint>).set('USD', -50n);
    expect(judge(books.records, books.seen()).violations.map((v) => v.message)).toEqual([expect.stringContaining('overdrew the ledger to -50')]);
  });

  it('a transfer refused at its target and restored is not placed by the balance its target had', () => {
    const books = mixedBooks();
    const transfer = books.transfer('A', 'B', 30n);
    const id = transfer.outcome.kind === 'acknowledged' ? transfer.outcome.operationId : '';
    // Its credit refused on B (say B's balance had gone below zero), its debit restored on A later.
    const [debit] = books.entries.get('A')!.filter((e) => e.operationId === id);
    books.entries.set('B', books.entries.get('B')!.filter((e) => e.operationId !== id));
    books.credit('A', 5n);
    const restore = { ...debit!, id: 1_000n, amount: 30n, balanceAfter: books.balance('A') + 30n };
    books.entries.get('A')!.push(restore);
    (books.seen().balances.get('A') as Map<string, bigint>).set('USD', restore.balanceAfter);
    (books.seen().balances.get('B') as Map<string, bigint>).set('USD', books.balance('B', 'USD') - 30n);
    books.operations.set(id, {
      ...books.operations.get(id)!,
      status: 'FAILED',
      errorCode: 'INSUFFICIENT_FUNDS',
      errorDetails: { ledger_id: 'B', currency: 'USD', balance: '-999', amount: '30' },
      balanceChanges: [debit!, restore].map((e) => ({ ledgerId: 'A', currency: 'USD', amount: e.amount, balanceAfter: e.balanceAfter })),
    });
    expect(judge(books.records, books.seen()).violations).toEqual([]);
  });

  it('a broken chain of balances', () => {
    const books = mixedBooks();
    const entries = books.entries.get('B')!;
    entries[0] = { ...entries[0]!, balanceAfter: entries[0]!.balanceAfter + 1n };
    fixChangesFromEntries(books, entries);
    expect(checksOf(books)).toContain('order');
  });
});

/** Keeps each operation's result in step with its (tampered) entries, so only the order is wrong. */
function fixChangesFromEntries(books: HonestBooks, entries: SeenEntry[]): void {
  for (const e of entries) {
    replaceOperation(books, e.operationId, (op) => ({
      ...op,
      balanceChanges: op.balanceChanges.map((c) => (c.ledgerId === e.ledgerId && c.currency === e.currency ? { ...c, balanceAfter: e.balanceAfter } : c)),
    }));
  }
}
