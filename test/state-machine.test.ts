import { canTransition, isTerminal, OPERATION_STATUSES, RETRIES_EXHAUSTED, type OperationStatus } from '@tally/operations';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from './support/test-env.js';

/**
 * The operation state machine is one table (canTransition, in @tally/operations) and PostgreSQL
 * enforces it with a trigger of its own (operations.check_operation_change). Here every move
 * between the five statuses, in every case a condition reads (first or later stage; failed for
 * lack of retries or for a business reason), is tried on the real trigger, and must be allowed
 * or refused exactly as the table says. Each row lives in one transaction that is rolled back:
 * nothing is left for the other suites sharing the database.
 */

/** No worker serves this partition (workers serve 0 to TALLY_PARTITIONS - 1). */
const PARKED_PARTITION = 999;
const BUSINESS_FAILURE = 'INSUFFICIENT_FUNDS';

interface Case {
  readonly from: OperationStatus;
  readonly stage: number;
  /** The code it FAILED with; null unless FAILED. */
  readonly errorCode: string | null;
}

/** Every status, at the first stage and a later one, and a FAILED one for each kind of failure. */
const CASES: readonly Case[] = OPERATION_STATUSES.flatMap((from) =>
  [0, 1].flatMap((stage) => (from === 'FAILED' ? [RETRIES_EXHAUSTED, BUSINESS_FAILURE] : [null]).map((errorCode) => ({ from, stage, errorCode }))),
);

const storedError = (code: string): string => JSON.stringify({ code, message: 'state machine test', details: {} });
const describeCase = (c: Case): string => `${c.from} (stage ${c.stage}${c.errorCode ? `, ${c.errorCode}` : ''})`;

let db: pg.Client;
beforeAll(async () => {
  db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  await db.query('begin');
});
afterAll(async () => {
  await db.query('rollback');
  await db.end();
});

/** An operation in the case's state, as the worker leaves it (a result when COMPLETED, an error when FAILED). */
async function operationIn(c: Case): Promise<string> {
  const id = randomUUID();
  await db.query(
    `insert into operations.operation (id, kind, status, ledger_id, to_ledger_id, transaction_id, partition, request, request_hash, stage, result, error)
     values ($1, 'TRANSFER', $2, $3, $4, 'state-machine', $5, '{}', 'h', $6, $7, $8)`,
    [
      id,
      c.from,
      randomUUID(),
      randomUUID(),
      PARKED_PARTITION,
      c.stage,
      c.from === 'COMPLETED' ? '{"balanceChanges": []}' : null,
      c.errorCode === null ? null : storedError(c.errorCode),
    ],
  );
  return id;
}

/**
 * Runs one update in a savepoint, undone whatever happens. Resolves to the message of the
 * error PostgreSQL raised, or null when it took the update.
 */
async function attempt(sql: string, values: unknown[]): Promise<string | null> {
  await db.query('savepoint attempt');
  try {
    await db.query(sql, values);
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await db.query('rollback to savepoint attempt');
  }
}

describe('the operation state machine', () => {
  it('is the same in the TypeScript table and in the trigger, for every move and every condition', async () => {
    const disagreements: string[] = [];
    let tried = 0;
    for (const c of CASES) {
      const id = await operationIn(c);
      for (const to of OPERATION_STATUSES) {
        // Everything but the status is written as the worker writes it, so only the state machine can refuse.
        const refusal = await attempt(
          `update operations.operation set status = $2, version = version + 1, result = $3, error = $4, update_time = now() where id = $1`,
          [id, to, to === 'COMPLETED' ? '{"balanceChanges": []}' : null, to === 'FAILED' ? storedError(BUSINESS_FAILURE) : null],
        );
        // Any other refusal (a constraint, a typo) is a broken test, not a refused move.
        if (refusal !== null) expect(refusal).toContain(`status cannot move from ${c.from} to ${to}`);
        const table = canTransition({ status: c.from, stage: c.stage, error: c.errorCode === null ? null : { code: c.errorCode } }, to);
        const trigger = refusal === null;
        if (table !== trigger) {
          disagreements.push(`${describeCase(c)} -> ${to}: the table ${table ? 'allows' : 'refuses'} it, the trigger ${trigger ? 'allows' : 'refuses'} it`);
        }
        tried++;
      }
    }
    expect(disagreements).toEqual([]);
    // 5 statuses x 2 stages x (1, or 2 kinds of failure for FAILED) x 5 targets.
    expect(tried).toBe(60);
  });

  it('lets retention prune an ended operation, keeping its status, and nothing else', async () => {
    for (const from of OPERATION_STATUSES) {
      const id = await operationIn({ from, stage: 0, errorCode: from === 'FAILED' ? RETRIES_EXHAUSTED : null });
      for (const to of OPERATION_STATUSES) {
        // As retention prunes: the payload dropped, the version kept.
        const refusal = await attempt(
          `update operations.operation
              set pruned_time = now(), status = $2, request = '{}', result = null, error = null, steps = '[]', progress = '{}'
            where id = $1`,
          [id, to],
        );
        const label = `pruning ${from} as ${to}`;
        if (to !== from) expect(refusal, label).toContain('pruning keeps status and version');
        else if (!isTerminal(from)) expect(refusal, label).toContain('operation_pruned_only_terminal');
        else expect(refusal, label).toBeNull();
      }
    }
    const ended = await operationIn({ from: 'COMPLETED', stage: 0, errorCode: null });
    expect(await attempt(`update operations.operation set pruned_time = now(), result = null, version = version + 1 where id = $1`, [ended])).toContain(
      'pruning keeps status and version',
    );
  });
});
