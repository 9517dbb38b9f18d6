import { statement, type ApplyOutcome, type OperationToApply, type Sql, type SqlPool, type SqlTransaction } from '@tally/platform';
import type { OperationChange } from '../feed/feed-events.js';
import { resultFromJson, resultToJson, stepsToJson } from '../json-forms.js';
import { fromColumns, OPERATION_COLUMNS, prefixed, toOperation } from '../operation-store.js';
import { partitionOf } from '../partition.js';
import type { QueuedOperation } from '../queue/partition-queues.js';
import { LOST_OPERATION_SQLSTATE, type OperationRow, type StoredError, type StoredResult, type StoredStep } from '../schema.js';
import { assertTransition } from '../status.js';
import type { BalanceChange, Operation } from '../types.js';
import type { Appliers, Preparers } from './appliers.js';
import { bySeq, claimRows, heldRows, LostOperationError, type Claim } from './held-operations.js';

/**
 * The worker's database steps for the operations it holds (held-operations.ts takes and gives
 * them up). Each is one transaction:
 *   prepare  what a kind settles before applying (an exchange's rate), as a version of each
 *   apply    effects + COMPLETED (or FAILED with a business reason, or handed to the next
 *            stage's partition as PENDING at that stage), all together, and, when asked, the
 *            claim of the next batch
 * Every status change is guarded by the status (and version) it expects: if anything else
 * changed the row, the guard matches nothing and the step fails loudly instead of applying twice.
 */

/** What an applier or preparer sees of a held row: the platform's OperationToApply (one name for one thing). */
function toApply(row: OperationRow): OperationToApply {
  return {
    id: row.id,
    ledgerId: row.ledgerId,
    toLedgerId: row.toLedgerId,
    transactionId: row.transactionId,
    request: row.request,
    stage: row.stage,
    progress: row.progress,
  };
}

/** What one applied batch committed: each operation's change, the operations handed to another stage, and the next batch claimed. */
export interface AppliedBatch {
  readonly changes: OperationChange[];
  readonly handedOff: QueuedOperation[];
  /** Claimed in the same transaction when asked (see ClaimAhead), oldest first. */
  readonly claimed: OperationRow[];
}

const PREPARE = statement(
  'operations_worker_prepare',
  `update operations.operation o
      set version = o.version + 1, steps = o.steps || x.steps, progress = x.progress, update_time = clock_timestamp()
     from jsonb_to_recordset($1::jsonb) as x(id uuid, version bigint, steps jsonb, progress jsonb)
    where o.id = x.id and o.status = 'PROCESSING' and o.version = x.version
    returning ${prefixed('o', OPERATION_COLUMNS)}, o.request`,
);

/**
 * Runs each kind's preparer over the held operations, in a transaction of its own, and records
 * what it prepared (steps appended, progress merged, a new version). Returns the batch as it
 * now stands (versions moved on) and the operations that changed.
 */
export async function prepareHeld(
  sql: SqlPool,
  batch: readonly OperationRow[],
  preparers: Preparers,
): Promise<{ batch: OperationRow[]; prepared: Operation[] }> {
  if (!batch.some((h) => preparers[h.kind])) return { batch: [...batch], prepared: [] };
  return sql.transaction(async (tx) => {
    const changes: Array<{ id: string; version: string; steps: unknown; progress: Record<string, unknown> }> = [];
    for (const [kind, preparer] of Object.entries(preparers)) {
      const mine = batch.filter((h) => h.kind === kind);
      if (!preparer || mine.length === 0) continue;
      const preparations = await preparer(tx, mine.map(toApply));
      if (preparations.length !== mine.length) throw new Error(`the ${kind} preparer answered ${preparations.length} times for ${mine.length} operations`);
      mine.forEach((row, i) => {
        const p = preparations[i];
        if (!p) return;
        assertTransition(row, 'PROCESSING');
        changes.push({ id: row.id, version: row.version.toString(), steps: stepsToJson(p.steps), progress: { ...row.progress, ...p.progress } });
      });
    }
    if (changes.length === 0) return { batch: [...batch], prepared: [] };
    const updated = (await tx.query<Record<string, unknown>>(PREPARE, [JSON.stringify(changes)])).map(fromColumns);
    if (updated.length !== changes.length) throw new LostOperationError(changes.find((c) => !updated.some((u) => u.id === c.id))?.id ?? '?');
    const byId = new Map(updated.map((row) => [row.id, row]));
    return {
      batch: batch.map((h) => {
        const row = byId.get(h.id);
        return row ?? h;
      }),
      prepared: updated.sort(bySeq).map(toOperation),
    };
  });
}

/** The next batch's claim, made in the same transaction (see applyHeld). */
export type ClaimAhead = Claim;

/**
 * Applies the held operations in order, in one transaction: runs of one kind go to that kind's
 * applier, then every operation's new status is written with one statement. With `claimAhead`
 * the same transaction claims the next batch: a busy loop then costs two round trips a batch
 * (the locks; the writes, the next claim and the commit) and one commit.
 * `extraAttempts` is how many times this batch was tried before (counted into attempts);
 * `partitions` places handed-off operations.
 */
export async function applyHeld(
  sql: SqlPool,
  batch: readonly OperationRow[],
  appliers: Appliers,
  shard: number,
  extraAttempts: number,
  partitions: number,
  claimAhead?: ClaimAhead,
): Promise<AppliedBatch> {
  const written = await sql.transaction(async (tx) => {
    const outcomes: ApplyOutcome[] = [];
    for (let start = 0; start < batch.length; ) {
      const kind = batch[start]!.kind;
      let end = start + 1;
      while (end < batch.length && batch[end]!.kind === kind) end++;
      const run = batch.slice(start, end).map(toApply);
      const applier = appliers[kind];
      const results = applier
        ? await applier({ tx, shard }, run)
        : run.map((): ApplyOutcome => ({ ok: false, error: { code: 'UNSUPPORTED_KIND', message: `no worker applies ${kind} operations`, details: {} } }));
      if (results.length !== run.length) throw new Error(`the ${kind} applier answered ${results.length} outcomes for ${run.length} operations`);
      outcomes.push(...results);
      start = end;
    }
    const finished = finish(tx, batch, outcomes, extraAttempts, partitions);
    // When the transaction fails, its own error is what the caller sees; this one is not awaited.
    finished.catch(() => undefined);
    const next = claimAhead && claimAhead.partitions.length > 0 ? claimRows(tx, claimAhead) : undefined;
    return { finished, next };
  }).catch((error: unknown) => {
    throw (error as { code?: unknown }).code === LOST_OPERATION_SQLSTATE ? new LostOperationError(String((error as Error).message)) : error;
  });
  const done = await written.finished;
  return { ...done, claimed: written.next ? heldRows(await written.next) : [] };
}

/**
 * Every operation's outcome, written only where the operation is still PROCESSING at the
 * version the worker holds; when one is not (another worker took it), the statement raises
 * (operations.expect_rows) and nothing of the batch commits.
 *
 * The check is the outer side of a left join, so PostgreSQL always evaluates it: joined the
 * other way round, an empty `updated` (every operation lost) would skip the check and the
 * batch's effects would commit without any of its status changes.
 */
const FINISH = statement(
  'operations_worker_finish',
  `with updated as (
     update operations.operation o
        set status = x.status, version = o.version + 1, attempts = o.attempts + $1, result = x.result, error = x.error,
            steps = o.steps || x.steps, stage = x.stage, partition = x.partition, progress = x.progress, update_time = clock_timestamp()
       from jsonb_to_recordset($2::jsonb) as x(id uuid, version bigint, status text, result jsonb, error jsonb, steps jsonb,
                                             stage smallint, partition int, progress jsonb)
      where o.id = x.id and o.status = 'PROCESSING' and o.version = x.version
      returning o.id, o.update_time
   )
   select u.id, u.update_time
     from (select operations.expect_rows((select count(*) from updated), $3, 'finishing a batch')) as checked
     left join updated u on true`,
);

/**
 * Ended operations leave the work queue; handed-off ones move to their next partition's. Rows
 * are found by seq through its own index (`= any`): joined on a list, the planner would take
 * the queue's statistics (often stale, the table churns) and might scan the whole queue.
 */
const SETTLE_QUEUE = statement(
  'operations_worker_settle_queue',
  `with ended as (
     delete from operations.queue where seq = any($1::bigint[])
   )
   update operations.queue q set partition = x.to_partition
     from jsonb_to_recordset($3::jsonb) as x(seq bigint, to_partition int)
    where q.seq = any($2::bigint[]) and q.seq = x.seq`,
);

/**
 * Writes each operation's outcome: COMPLETED, FAILED, or (a hand-off) PENDING at its next stage
 * in the next ledger's partition. Steps are appended; the result gathers the balance changes of
 * every stage so far. The rows are not read back: their new state is what was written. The
 * writes are deferred (they go with the commit); the promise settles once they are confirmed.
 */
function finish(
  sql: SqlTransaction,
  batch: readonly OperationRow[],
  outcomes: readonly ApplyOutcome[],
  extraAttempts: number,
  partitions: number,
): Promise<Omit<AppliedBatch, 'claimed'>> {
  const rows = batch.map((row, i): { before: OperationRow; after: OperationRow; made: readonly BalanceChange[] } => {
    const outcome = outcomes[i]!;
    const handOff = outcome.ok ? outcome.handOff : undefined;
    if (handOff && handOff.stage <= row.stage) throw new Error(`operation ${row.id}: stage ${row.stage} handed off to stage ${handOff.stage}`);
    const made = outcome.balanceChanges ?? [];
    const all = [...(row.result ? resultFromJson(row.result).balanceChanges : []), ...made];
    const result: StoredResult | null = outcome.ok || all.length > 0 ? resultToJson({ balanceChanges: all }) : null;
    const error: StoredError | null = outcome.ok ? null : { code: outcome.error.code, message: outcome.error.message, details: { ...outcome.error.details } };
    const steps: StoredStep[] = stepsToJson(outcome.steps ?? []);
    const after: OperationRow = {
      ...row,
      status: !outcome.ok ? 'FAILED' : handOff ? 'PENDING' : 'COMPLETED',
      version: row.version + 1n,
      attempts: row.attempts + extraAttempts,
      result,
      error,
      steps: [...row.steps, ...steps],
      stage: handOff?.stage ?? row.stage,
      partition: handOff ? partitionOf(handOff.ledgerId, partitions) : row.partition,
      progress: handOff ? { ...handOff.progress } : row.progress,
    };
    assertTransition(row, after.status);
    return { before: row, after, made };
  });
  const changes = rows.map(({ before, after }) => ({
    id: after.id,
    version: before.version.toString(),
    status: after.status,
    result: after.result,
    error: after.error,
    steps: after.steps.slice(before.steps.length),
    stage: after.stage,
    partition: after.partition,
    progress: after.progress,
  }));
  const ended = rows.filter(({ after }) => after.status !== 'PENDING').map(({ before }) => before.seq);
  const moved = rows.filter(({ after }) => after.status === 'PENDING').map(({ before, after }) => ({ seq: before.seq, to_partition: after.partition }));
  void sql.defer(SETTLE_QUEUE, [ended, moved.map((m) => m.seq), JSON.stringify(moved)]);
  const updated = sql.defer<{ id: string | null; update_time: Date }>(FINISH, [extraAttempts, JSON.stringify(changes), batch.length]);
  return updated.then((confirmed) => {
    const updateTimes = new Map(confirmed.filter((u) => u.id !== null).map((u) => [u.id, u.update_time]));
    const written = rows.map(({ after, made }) => ({ row: { ...after, updateTime: updateTimes.get(after.id)! }, made }));
    return {
      changes: written.map(({ row, made }) => ({ operation: toOperation(row), balanceChanges: made })),
      handedOff: written
        .filter(({ row }) => row.status === 'PENDING')
        .map(({ row }) => ({ operationId: row.id, ledgerId: row.ledgerId, seq: row.seq, partition: row.partition, stage: row.stage })),
    };
  });
}

/**
 * The work queue sheds a row per operation applied: at thousands a second, its dead rows would
 * pile up between two runs of autovacuum (a minute apart by default) and every claim would wade
 * through them. The worker that empties it vacuums it, after this many operations ended.
 */
export const VACUUM_QUEUE_EVERY_OPS = 20_000;

const QUEUE_DEPTH = statement('operations_worker_queue_depth', `select count(*)::int as n from operations.queue where partition = any($1::int[])`);

/** How many operations wait (or are in hand) in these partitions. */
export async function queueDepth(sql: Sql, partitions: readonly number[]): Promise<number> {
  if (partitions.length === 0) return 0;
  const [row] = await sql.query<{ n: number }>(QUEUE_DEPTH, [partitions]);
  return row?.n ?? 0;
}

/** Removes the work queue's dead rows (skipped, not waited for, when something holds a lock on it). */
export async function vacuumQueue(sql: SqlPool): Promise<void> {
  await sql.maintain('vacuum (skip_locked) operations.queue');
}
