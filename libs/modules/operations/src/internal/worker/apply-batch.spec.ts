import { randomUUID } from 'node:crypto';
import { createLogger, Database, statement } from '@tally/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { operationsSchema } from '../../index.js';
import type { ApplyOutcome } from '@tally/platform';
import type { Appliers } from './appliers.js';
import type { OperationRow } from '../schema.js';
import { applyHeld } from './apply-batch.js';
import { claimNext, LostOperationError, takePartition } from './held-operations.js';

/**
 * The guard that keeps two workers from applying one operation twice, against the real
 * database: a batch whose operations changed under the worker commits none of its effects.
 * This suite owns partition 1020, which no test worker serves.
 */
const PARTITION = 1020;
const PARTITIONS = 1_024;
const OWNER = 'apply-batch-spec';
let db: Database;
/** The next operations of the suite's partition, claimed as its owner. */
const claim = (limit: number) => claimNext(db.sql, { owner: OWNER, partitions: [PARTITION], limit });

beforeAll(async () => {
  db = await Database.open({ url: process.env['DATABASE_URL']!, modules: [operationsSchema], logger: createLogger('warn') });
  // What the applier does stands for a ledger's balances: a row per operation applied.
  await db.em().getConnection().execute(`create table if not exists public.apply_batch_spec_effect (operation_id uuid not null)`);
  await takePartition(db.sql, PARTITION, OWNER);
});
beforeEach(async () => {
  await db.em().getConnection().execute(`delete from operations.queue where partition = ${PARTITION}`);
  await db.em().getConnection().execute(`delete from operations.operation where partition = ${PARTITION}`);
  await db.em().getConnection().execute(`delete from public.apply_batch_spec_effect`);
});
afterAll(() => db.close());

async function accepted(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    await db.em().getConnection().execute(
      `with op as (
         insert into operations.operation (id, kind, status, ledger_id, transaction_id, partition, request, request_hash)
         values (?, 'TRANSACTION', 'PENDING', ?, ?, ?, '{}', 'h') returning partition, seq, id
       )
       insert into operations.queue (partition, seq, id) select partition, seq, id from op`,
      [id, randomUUID(), `tx-${id}`, PARTITION],
    );
  }
}

const EFFECT = statement('apply_batch_spec_effect', `insert into public.apply_batch_spec_effect (operation_id) select unnest($1::uuid[])`);

/** Records an effect per operation in the batch's transaction, as the ledgers' applier books postings. */
const recording: Appliers = {
  TRANSACTION: async ({ tx }, ops) => {
    void tx.defer(EFFECT, [ops.map((op) => op.id)]);
    return ops.map((): ApplyOutcome => ({ ok: true, balanceChanges: [] }));
  },
};

/** Another worker finishes the operation first (it held it by mistake too). */
async function finishedElsewhere(held: OperationRow): Promise<void> {
  await db
    .em()
    .getConnection()
    .execute(`update operations.operation set status = 'COMPLETED', version = version + 1, result = '{}' where id = ?`, [held.id]);
}

async function effects(): Promise<string[]> {
  const rows = await db.em().getConnection().execute<Array<{ operation_id: string }>>(`select operation_id from public.apply_batch_spec_effect`);
  return rows.map((r) => r.operation_id);
}

async function statuses(): Promise<string[]> {
  const rows = await db
    .em()
    .getConnection()
    .execute<Array<{ status: string }>>(`select status from operations.operation where partition = ? order by seq`, [PARTITION]);
  return rows.map((r) => r.status);
}

describe('a batch applied by a worker that no longer holds its operations', () => {
  it('commits its effects and its statuses together when every operation is still held', async () => {
    await accepted(2);
    const batch = await claim(10);
    const applied = await applyHeld(db.sql, batch, recording, 0, 0, PARTITIONS);
    expect(applied.changes.map((c) => c.operation.status)).toEqual(['COMPLETED', 'COMPLETED']);
    expect((await effects()).sort()).toEqual(batch.map((h) => h.id).sort());
    expect(await statuses()).toEqual(['COMPLETED', 'COMPLETED']);
  });

  it('commits nothing when another worker finished every one of them first', async () => {
    await accepted(2);
    const batch = await claim(10);
    for (const held of batch) await finishedElsewhere(held);
    await expect(applyHeld(db.sql, batch, recording, 0, 0, PARTITIONS)).rejects.toBeInstanceOf(LostOperationError);
    expect(await effects()).toEqual([]);
  });

  it('commits nothing when another worker finished one of them first', async () => {
    await accepted(3);
    const batch = await claim(10);
    await finishedElsewhere(batch[1]!);
    await expect(applyHeld(db.sql, batch, recording, 0, 0, PARTITIONS)).rejects.toBeInstanceOf(LostOperationError);
    expect(await effects()).toEqual([]);
    expect(await statuses()).toEqual(['PROCESSING', 'COMPLETED', 'PROCESSING']);
  });
});
