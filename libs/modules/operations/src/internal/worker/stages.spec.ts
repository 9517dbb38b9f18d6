import { randomUUID } from 'node:crypto';
import { createLogger, Database, EVERY_TENANT, PageTokens, TallyError } from '@tally/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { operationsSchema } from '../../index.js';
import { cancelOperation } from '../cancel-operation.js';
import { partitionOf } from '../partition.js';
import { readOperations } from '../operation-store.js';
import { listOperations } from '../read-operations.js';
import type { ApplyOutcome, OperationToApply } from '@tally/platform';
import type { Appliers, Preparers } from './appliers.js';
import { applyHeld, prepareHeld } from './apply-batch.js';
import { claimNext, takePartition } from './held-operations.js';

const TOKENS = new PageTokens('a test page token secret');

/**
 * A multi-stage operation handed from one ledger's partition to another's, against the real
 * database. This suite owns partitions 900 to 998: out of reach of the workers other suites run
 * on the same database (they serve 0 to TALLY_PARTITIONS - 1) and of their parked operations.
 */
const PARTITIONS = 1_000;
const SOURCE_PARTITION = 998;
let db: Database;
/** The next operations of one partition, claimed as the suite's worker (recorded as the partition's owner first). */
async function claim(partition: number) {
  await takePartition(db.sql, partition, 'stages-spec');
  return claimNext(db.sql, { owner: 'stages-spec', partitions: [partition], limit: 10 });
}

beforeAll(async () => {
  db = await Database.open({ url: process.env['DATABASE_URL']!, modules: [operationsSchema], logger: createLogger('warn') });
});
beforeEach(async () => {
  await db.em().getConnection().execute(`delete from operations.queue where partition between 900 and ${SOURCE_PARTITION}`);
  await db.em().getConnection().execute(`delete from operations.operation where partition between 900 and ${SOURCE_PARTITION}`);
});
afterAll(() => db.close());

/** A ledger id whose partition no test worker serves. */
function unservedLedger(): string {
  for (;;) {
    const id = randomUUID();
    const partition = partitionOf(id, PARTITIONS);
    if (partition >= 900 && partition !== SOURCE_PARTITION) return id;
  }
}

async function accepted(kind: 'TRANSFER' | 'EXCHANGE', toLedgerId: string | null): Promise<string> {
  const id = randomUUID();
  // As accepting records it: the operation, and its place in its partition's work queue.
  await db.orm.em.getConnection().execute(
    `with op as (
       insert into operations.operation (id, kind, status, ledger_id, to_ledger_id, transaction_id, partition, request, request_hash)
       values (?, ?, 'PENDING', ?, ?, ?, ?, '{}', 'h') returning partition, seq, id
     )
     insert into operations.queue (partition, seq, id) select partition, seq, id from op`,
    [id, kind, randomUUID(), toLedgerId, `tx-${id}`, SOURCE_PARTITION],
  );
  return id;
}
const acceptedTransfer = (toLedgerId: string) => accepted('TRANSFER', toLedgerId);

/** The partitions whose work queue lists the operation. */
async function queuedIn(id: string): Promise<number[]> {
  const rows = await db.em().getConnection().execute<Array<{ partition: number }>>(`select partition from operations.queue where id = ?`, [id]);
  return rows.map((r) => Number(r.partition));
}

const at = new Date('2026-11-25T12:00:00Z');
const change = (ledgerId: string, amount: bigint) => ({ ledgerId, currency: 'EUR', amount, balanceAfter: amount });

/** Stage 0 hands off to the target ledger; stage 1 completes there. */
function twoStages(seen: OperationToApply[]): Appliers {
  return {
    TRANSFER: (_context, ops) =>
      Promise.resolve(
        ops.map((op): ApplyOutcome => {
          seen.push(op);
          return op.stage === 0
            ? {
                ok: true,
                balanceChanges: [change(op.ledgerId, -5n)],
                steps: [{ name: 'SOURCE_DEBITED', status: 'COMPLETED', time: at }],
                handOff: { stage: 1, ledgerId: op.toLedgerId!, progress: { carried: 'yes' } },
              }
            : { ok: true, balanceChanges: [change(op.toLedgerId!, 5n)], steps: [{ name: 'TARGET_CREDITED', status: 'COMPLETED', time: at }] };
        }),
      ),
  };
}

async function refusal(promise: Promise<unknown>): Promise<TallyError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TallyError);
  return error as TallyError;
}

describe('handing an operation to another ledger between stages', () => {
  it('commits the first stage and moves the operation, in flight, to the target ledger partition', async () => {
    const target = unservedLedger();
    const id = await acceptedTransfer(target);
    const seen: OperationToApply[] = [];

    const first = await applyHeld(db.sql, await claim(SOURCE_PARTITION), twoStages(seen), SOURCE_PARTITION, 0, PARTITIONS);
    expect(first.handedOff).toEqual([expect.objectContaining({ operationId: id, partition: partitionOf(target, PARTITIONS), stage: 1 })]);
    const [handed] = first.changes;
    expect(handed?.operation).toMatchObject({ status: 'PROCESSING', version: 3n, toLedgerId: target, steps: [{ name: 'SOURCE_DEBITED' }] });
    expect(handed?.balanceChanges).toHaveLength(1);
    expect(handed?.operation.result?.balanceChanges).toHaveLength(1);

    // Its place in the work queue moved with it, to the target ledger's partition.
    expect(await queuedIn(id)).toEqual([partitionOf(target, PARTITIONS)]);
    // In flight: shown PROCESSING, listed on the target ledger too, never cancelled.
    expect((await readOperations(db.sql, [id]))[0]?.status).toBe('PROCESSING');
    const onTarget = await listOperations(db.em(), TOKENS, { ledgerId: target, scope: EVERY_TENANT, status: 'PROCESSING', kind: null, pageSize: 10, pageToken: '' });
    expect(onTarget.items.map((o) => o.id)).toEqual([id]);
    expect((await listOperations(db.em(), TOKENS, { ledgerId: target, scope: EVERY_TENANT, status: 'PENDING', kind: null, pageSize: 10, pageToken: '' })).items).toEqual([]);
    const refused = await refusal(cancelOperation(db.em(), id));
    expect(refused).toMatchObject({ code: 'FAILED_PRECONDITION', details: { metadata: { status: 'PROCESSING' } } });
    await expect(
      db.em().getConnection().execute(`update operations.operation set status = 'CANCELLED', version = version + 1 where id = ?`, [id]),
    ).rejects.toThrow(/cannot move from PENDING to CANCELLED/);

    // The target partition picks it up at the next stage, with what the first stage carried.
    const second = await applyHeld(db.sql, await claim(partitionOf(target, PARTITIONS)), twoStages(seen), 0, 0, PARTITIONS);
    expect(seen.map((op) => [op.stage, op.progress])).toEqual([
      [0, {}],
      [1, { carried: 'yes' }],
    ]);
    expect(second.handedOff).toEqual([]);
    const done = second.changes[0]!.operation;
    expect(done).toMatchObject({ status: 'COMPLETED', version: 5n, steps: [{ name: 'SOURCE_DEBITED' }, { name: 'TARGET_CREDITED' }] });
    expect(await queuedIn(id)).toEqual([]); // ended: out of every work queue
    expect(done.result?.balanceChanges.map((c) => c.amount)).toEqual([-5n, 5n]);
    expect(second.changes[0]!.balanceChanges).toEqual([change(target, 5n)]);
  });

  it('refuses to move a stage backwards', async () => {
    const id = await acceptedTransfer(unservedLedger());
    await applyHeld(db.sql, await claim(SOURCE_PARTITION), twoStages([]), SOURCE_PARTITION, 0, PARTITIONS);
    await expect(
      db.em().getConnection().execute(`update operations.operation set stage = 0, version = version + 1 where id = ?`, [id]),
    ).rejects.toThrow(/stage cannot go back/);
  });
});

describe('preparing operations before they are applied', () => {
  it('records a preparation as a version of its own, once, and hands it to the applier', async () => {
    const id = await accepted('EXCHANGE', null);
    let prepared = 0;
    const preparers: Preparers = {
      EXCHANGE: (_tx, ops) => {
        prepared += ops.length;
        return Promise.resolve(ops.map((op) => ('rate' in op.progress ? null : { steps: [{ name: 'RATE_LOCKED', status: 'COMPLETED' as const, time: at }], progress: { rate: '1.5' } })));
      },
    };
    const claimed = await claim(SOURCE_PARTITION);
    const first = await prepareHeld(db.sql, claimed, preparers);
    expect(first.prepared).toEqual([expect.objectContaining({ id, status: 'PROCESSING', version: 3n, steps: [expect.objectContaining({ name: 'RATE_LOCKED' })] })]);

    // A retry of the batch asks again; nothing already prepared is written twice.
    const again = await prepareHeld(db.sql, first.batch, preparers);
    expect([prepared, again.prepared]).toEqual([2, []]);

    const seen: OperationToApply[] = [];
    const appliers: Appliers = {
      EXCHANGE: (_context, ops) => {
        seen.push(...ops);
        return Promise.resolve(ops.map((): ApplyOutcome => ({ ok: true, balanceChanges: [], steps: [{ name: 'COMPLETED', status: 'COMPLETED', time: at }] })));
      },
    };
    const done = await applyHeld(db.sql, again.batch, appliers, SOURCE_PARTITION, 0, PARTITIONS);
    expect(seen.map((op) => op.progress)).toEqual([{ rate: '1.5' }]);
    expect(done.changes[0]?.operation).toMatchObject({ status: 'COMPLETED', version: 4n, steps: [{ name: 'RATE_LOCKED' }, { name: 'COMPLETED' }] });
  });
});
