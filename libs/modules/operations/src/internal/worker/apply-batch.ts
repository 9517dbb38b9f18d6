import { statement, type Sql, type SqlPool } from '@tally/platform';
import type { OperationChange } from '../feed/feed-events.js';
import { resultFromJson, resultToJson, stepsToJson } from '../json-forms.js';
import { fromColumns, OPERATION_COLUMNS, prefixed, toOperation } from '../operation-store.js';
import { partitionOf } from '../partition.js';
import type { QueuedOperation } from '../queue/partition-queues.js';
import type { OperationRow, StoredError, StoredResult, StoredStep } from '../schema.js';
import { RETRIES_EXHAUSTED } from '../status.js';
import type { BalanceChange, Operation, OperationError } from '../types.js';
import type { ApplyOutcome, Appliers, ClaimedOperation, Preparers } from './appliers.js';

/**
 * The worker's database steps for one partition. Each is one transaction:
 *   claim    PENDING -> PROCESSING for the next operations, in acceptance order
 *   prepare  what a kind settles before applying (an exchange's rate), as a version of each
 *   apply    effects + COMPLETED (or FAILED with a business reason, or handed to the next
 *            stage's partition as PENDING at that stage), all together
 *   release  PROCESSING -> PENDING for what a stopping worker will not apply
 *   exhaust  PROCESSING -> FAILED RETRIES_EXHAUSTED
 * Every status change is guarded by the status (and version) it expects: if anything else
 * changed the row, the guard matches nothing and the step fails loudly instead of applying twice.
 */

export interface HeldOperation {
  readonly row: OperationRow;
  readonly claimed: ClaimedOperation;
}

function held(row: OperationRow): HeldOperation {
  return {
    row,
    claimed: {
      id: row.id,
      kind: row.kind,
      ledgerId: row.ledgerId,
      transactionId: row.transactionId,
      request: row.request,
      partition: row.partition,
      toLedgerId: row.toLedgerId,
      stage: row.stage,
      progress: row.progress,
    },
  };
}

const bySeq = (a: OperationRow, b: OperationRow): number => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1);
const heldRows = (rows: ReadonlyArray<Record<string, unknown>>): HeldOperation[] => rows.map(fromColumns).sort(bySeq).map(held);

const HELD = statement(
  'operations_worker_held',
  `select ${OPERATION_COLUMNS}, request from operations.operation
    where partition = any($1::int[]) and status = 'PROCESSING'
    order by seq
    limit $2`,
);

/** Operations these partitions left PROCESSING (a worker died or lost its lease mid-batch): they go first. */
export async function heldByPartitions(sql: Sql, partitions: readonly number[], limit: number): Promise<HeldOperation[]> {
  if (partitions.length === 0) return [];
  return heldRows(await sql.query(HELD, [partitions, limit]));
}

/**
 * The oldest PENDING operations of these partitions, at most $2: each partition's share is a
 * prefix of its own acceptance order (each partition's index is walked from its oldest), so
 * per-ledger order holds however the partitions interleave. The status is checked again on
 * the row being updated: two workers racing for one partition by mistake cannot both claim
 * an operation (the second one's update finds it PROCESSING and skips it).
 */
const CLAIM = statement(
  'operations_worker_claim',
  `update operations.operation o
      set status = 'PROCESSING', version = o.version + 1, attempts = o.attempts + 1, update_time = now()
    where o.status = 'PENDING' and o.id in (
      select next.id
        from unnest($1::int[]) as p(partition)
        cross join lateral (
          select id, seq from operations.operation
           where partition = p.partition and status = 'PENDING'
           order by seq
           limit $2) as next
       order by next.seq
       limit $2)
    returning ${prefixed('o', OPERATION_COLUMNS)}, o.request`,
);

/** Takes the next PENDING operations of these partitions, oldest first. */
export async function claimNext(sql: Sql, partitions: readonly number[], limit: number): Promise<HeldOperation[]> {
  if (partitions.length === 0) return [];
  return heldRows(await sql.query(CLAIM, [partitions, limit]));
}

/** What one applied batch committed: each operation's change, and the operations handed to another stage. */
export interface AppliedBatch {
  readonly changes: OperationChange[];
  readonly handedOff: QueuedOperation[];
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
  batch: readonly HeldOperation[],
  preparers: Preparers,
): Promise<{ batch: HeldOperation[]; prepared: Operation[] }> {
  if (!batch.some((h) => preparers[h.claimed.kind])) return { batch: [...batch], prepared: [] };
  return sql.transaction(async (tx) => {
    const changes: Array<{ id: string; version: string; steps: unknown; progress: Record<string, unknown> }> = [];
    for (const [kind, preparer] of Object.entries(preparers)) {
      const mine = batch.filter((h) => h.claimed.kind === kind);
      if (!preparer || mine.length === 0) continue;
      const preparations = await preparer(tx, mine.map((h) => h.claimed));
      if (preparations.length !== mine.length) throw new Error(`the ${kind} preparer answered ${preparations.length} times for ${mine.length} operations`);
      mine.forEach(({ row }, i) => {
        const p = preparations[i];
        if (p) changes.push({ id: row.id, version: row.version.toString(), steps: stepsToJson(p.steps), progress: { ...row.progress, ...p.progress } });
      });
    }
    if (changes.length === 0) return { batch: [...batch], prepared: [] };
    const updated = (await tx.query<Record<string, unknown>>(PREPARE, [JSON.stringify(changes)])).map(fromColumns);
    if (updated.length !== changes.length) throw new LostOperationError(changes.find((c) => !updated.some((u) => u.id === c.id))?.id ?? '?');
    const byId = new Map(updated.map((row) => [row.id, row]));
    return {
      batch: batch.map((h) => {
        const row = byId.get(h.row.id);
        return row ? held(row) : h;
      }),
      prepared: updated.sort(bySeq).map(toOperation),
    };
  });
}

/**
 * Applies the held operations in order, in one transaction: runs of one kind go to that kind's
 * applier, then every operation's new status is written with one statement.
 * `extraAttempts` is how many times this batch was tried before (counted into attempts);
 * `partitions` places handed-off operations.
 */
export async function applyHeld(
  sql: SqlPool,
  batch: readonly HeldOperation[],
  appliers: Appliers,
  shard: number,
  extraAttempts: number,
  partitions: number,
): Promise<AppliedBatch> {
  return sql.transaction(async (tx) => {
    const outcomes: ApplyOutcome[] = [];
    for (let start = 0; start < batch.length; ) {
      const kind = batch[start]!.claimed.kind;
      let end = start + 1;
      while (end < batch.length && batch[end]!.claimed.kind === kind) end++;
      const run = batch.slice(start, end).map((h) => h.claimed);
      const applier = appliers[kind];
      const results = applier
        ? await applier({ tx, shard }, run)
        : run.map((): ApplyOutcome => ({ ok: false, error: { code: 'UNSUPPORTED_KIND', message: `no worker applies ${kind} operations`, details: {} } }));
      if (results.length !== run.length) throw new Error(`the ${kind} applier answered ${results.length} outcomes for ${run.length} operations`);
      outcomes.push(...results);
      start = end;
    }
    return finish(tx, batch, outcomes, extraAttempts, partitions);
  });
}

const FINISH = statement(
  'operations_worker_finish',
  `update operations.operation o
      set status = x.status, version = o.version + 1, attempts = o.attempts + $1, result = x.result, error = x.error,
          steps = o.steps || x.steps, stage = x.stage, partition = x.partition, progress = x.progress, update_time = clock_timestamp()
     from jsonb_to_recordset($2::jsonb) as x(id uuid, version bigint, status text, result jsonb, error jsonb, steps jsonb,
                                           stage smallint, partition int, progress jsonb)
    where o.id = x.id and o.status = 'PROCESSING' and o.version = x.version
    returning o.id, o.update_time`,
);

/**
 * Writes each operation's outcome: COMPLETED, FAILED, or (a hand-off) PENDING at its next stage
 * in the next ledger's partition. Steps are appended; the result gathers the balance changes of
 * every stage so far. The rows are not read back: their new state is what was written.
 */
async function finish(
  sql: Sql,
  batch: readonly HeldOperation[],
  outcomes: readonly ApplyOutcome[],
  extraAttempts: number,
  partitions: number,
): Promise<AppliedBatch> {
  const rows = batch.map(({ row }, i): { before: OperationRow; after: OperationRow; made: readonly BalanceChange[] } => {
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
  const updated = await sql.query<{ id: string; update_time: Date }>(FINISH, [extraAttempts, JSON.stringify(changes)]);
  if (updated.length !== batch.length) {
    const missing = batch.find(({ row }) => !updated.some((u) => u.id === row.id));
    throw new LostOperationError(missing?.row.id ?? '?');
  }
  const updateTimes = new Map(updated.map((u) => [u.id, u.update_time]));
  const written = rows.map(({ after, made }) => ({ row: { ...after, updateTime: updateTimes.get(after.id)! }, made }));
  return {
    changes: written.map(({ row, made }) => ({ operation: toOperation(row), balanceChanges: made })),
    handedOff: written
      .filter(({ row }) => row.status === 'PENDING')
      .map(({ row }) => ({ operationId: row.id, ledgerId: row.ledgerId, seq: row.seq, partition: row.partition, stage: row.stage })),
  };
}

/** The operation changed under the worker (another worker held it): abort, apply nothing. */
export class LostOperationError extends Error {
  override readonly name = 'LostOperationError';
  constructor(readonly operationId: string) {
    super(`operation ${operationId} is no longer PROCESSING at the version this worker claimed`);
  }
}

const RELEASE = statement(
  'operations_worker_release',
  `update operations.operation
      set status = 'PENDING', version = version + 1, update_time = now()
    where status = 'PROCESSING' and id = any($1::uuid[])
    returning ${OPERATION_COLUMNS}`,
);

/** Gives held operations back (PROCESSING -> PENDING) so the partition's next owner applies them in order. */
export async function releaseHeld(sql: Sql, batch: readonly HeldOperation[]): Promise<Operation[]> {
  if (batch.length === 0) return [];
  const rows = (await sql.query<Record<string, unknown>>(RELEASE, [batch.map((h) => h.row.id)])).map(fromColumns);
  return rows.sort(bySeq).map(toOperation);
}

const EXHAUST = statement(
  'operations_worker_exhaust',
  `update operations.operation
      set status = 'FAILED', version = version + 1, attempts = attempts + $1, error = $2::jsonb, update_time = now()
    where id = $3 and status = 'PROCESSING' and version = $4
    returning ${OPERATION_COLUMNS}`,
);

/** Ends an operation FAILED because every retry failed; operators may requeue it. */
export async function exhaust(sql: Sql, op: HeldOperation, attempts: number, lastError: unknown): Promise<Operation> {
  const error: OperationError = {
    code: RETRIES_EXHAUSTED,
    message: `gave up after ${attempts} attempts; an operator may requeue it`,
    details: { last_error: String(lastError instanceof Error ? lastError.message : lastError).slice(0, 500), attempts: String(attempts) },
  };
  const [updated] = await sql.query<Record<string, unknown>>(EXHAUST, [
    Math.max(0, attempts - 1),
    JSON.stringify(error),
    op.row.id,
    op.row.version.toString(),
  ]);
  if (!updated) throw new LostOperationError(op.row.id);
  return toOperation(fromColumns(updated));
}
