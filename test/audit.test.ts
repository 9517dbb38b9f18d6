import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVERY_TENANT } from '@tally/platform';
import { openStack, type Stack } from './support/stack.js';

/**
 * The books audit finds what is wrong. This suite breaks the books on purpose, in a database of
 * its own; entries are append-only, so each run adds its own broken posting and looks for it.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await openStack('audit', 9);
});
afterAll(() => stack.close());

describe('auditBooks', () => {
  it('reports an entry written outside a balanced posting, the currency it unbalances and the account it disagrees with', async () => {
    const ledgerId = (await stack.ledgers.createLedger({ name: 'tampered', currencies: ['CHF'], overdraftAllowed: false, requestId: '' }, EVERY_TENANT)).id;
    const [account] = await stack.db.em().execute<Array<{ id: string }>>(`select id from ledgers.account where ledger_id = ?`, [ledgerId]);
    const [posting] = await stack.db.em().execute<Array<{ id: string }>>(`select nextval('ledgers.posting_id_seq')::text as id`);
    await stack.db.em().transactional(async (em) => {
      // The database refuses an unbalanced posting (ledgers-0003): forged with triggers off, as
      // a superuser's restore could write it. The audit must still see it.
      await em.execute(`set local session_replication_role = replica`);
      await em.execute(
        `insert into ledgers.entry (posting_id, account_id, ledger_id, operation_id, transaction_id, currency, amount, balance_after)
         values (?, ?, ?, ?, 'forged', 'CHF', 500, 500)`,
        [posting!.id, account!.id, ledgerId, randomUUID()],
      );
    });
    const findings = await stack.ledgers.auditBooks();
    expect(findings.unbalancedPostings.join('\n')).toContain(`posting ${posting!.id} sums to 500`);
    expect(findings.accountsNotMatchingEntries.join('\n')).toContain(`account ${account!.id} (${ledgerId} CHF) holds 0`);
    expect(findings.currenciesNotZero.join('\n')).toMatch(/CHF sums to \d+/);
  });

  it('finds nothing wrong in books kept by the worker', async () => {
    const before = await stack.ledgers.auditBooks();
    const ledgerId = (await stack.ledgers.createLedger({ name: 'kept', currencies: ['SEK'], overdraftAllowed: false, requestId: '' }, EVERY_TENANT)).id;
    const worker = await stack.startWorker();
    try {
      const [outcome] = await stack.operations.accept([
        { kind: 'TRANSACTION', ledgerId, tenant: null, transactionId: 'ok', request: { type: 'CREDIT', amount: '70', currency: 'SEK', metadata: {} } },
      ]);
      if (!outcome?.ok) throw new Error('not accepted');
      for (let i = 0; i < 200 && (await stack.operations.getOperation(outcome.operation.id, EVERY_TENANT)).status !== 'COMPLETED'; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await worker.stop();
    }
    const after = await stack.ledgers.auditBooks();
    // Only what the first test forged, never anything about SEK or this ledger.
    expect(after.unbalancedPostings).toEqual(before.unbalancedPostings);
    expect([...after.currenciesNotZero, ...after.accountsNotMatchingEntries].join('\n')).not.toMatch(/SEK|kept/);
    expect(after.transactionIdsBookedTwice).toEqual([]);
  });
});

describe('the operations audit', () => {
  it('reports an operation in flight that no work queue lists (no worker would ever apply it)', async () => {
    const ledgerId = (await stack.ledgers.createLedger({ name: 'unqueued', currencies: ['NOK'], overdraftAllowed: false, requestId: '' }, EVERY_TENANT)).id;
    const before = await stack.operations.inFlight();
    const [outcome] = await stack.operations.accept([
      { kind: 'TRANSACTION', ledgerId, tenant: null, transactionId: 'lost-in-queue', request: { type: 'CREDIT', amount: '5', currency: 'NOK', metadata: {} } },
    ]);
    if (!outcome?.ok) throw new Error('not accepted');
    // Accepted, so queued: the audit counts it in flight and finds nothing wrong with it.
    expect(await stack.operations.inFlight()).toEqual({ inFlight: before.inFlight + 1, unqueued: before.unqueued });
    await stack.db.em().execute(`delete from operations.queue where id = ?`, [outcome.operation.id]);
    expect(await stack.operations.inFlight()).toEqual({ inFlight: before.inFlight + 1, unqueued: before.unqueued + 1 });
    // Cancelled, it is no longer in flight: nothing is missing any more.
    await stack.operations.cancelOperation(outcome.operation.id, EVERY_TENANT);
    expect(await stack.operations.inFlight()).toEqual(before);
  });
});
