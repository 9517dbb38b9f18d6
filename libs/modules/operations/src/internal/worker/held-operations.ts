import { statement, type Sql, type SqlTransaction } from '@tally/platform';
import { fromColumns, OPERATION_COLUMNS, prefixed, toOperation } from '../operation-store.js';
import type { OperationRow } from '../schema.js';
import { assertTransition, RETRIES_EXHAUSTED, type OperationState } from '../status.js';
import type { Operation, OperationError } from '../types.js';

/**
 * Taking operations and giving them up, each its own statement, guarded by the status (and
 * version) it expects:
 *   claim    PENDING -> PROCESSING for the next operations, in acceptance order
 *   resume   what a previous holder left PROCESSING, each resume counted as a try
 *   release  PROCESSING -> PENDING for what a stopping worker will not apply
 *   exhaust  PROCESSING -> FAILED RETRIES_EXHAUSTED
 * What is done with them in between is apply-batch.ts.
 */

export const bySeq = (a: OperationRow, b: OperationRow): number => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1);
export const heldRows = (rows: ReadonlyArray<Record<string, unknown>>): OperationRow[] => rows.map(fromColumns).sort(bySeq);

/**
 * A subquery for statements whose placeholders `partitions` (an int array) and `owner` (a worker
 * id) are given: those of the partitions PostgreSQL says the worker owns
 * (operations.partition_owner), their rows locked FOR SHARE until the statement's transaction
 * ends: a takeover (TAKE_PARTITION) waits for it, so whatever a claim or
 * resume takes is committed before another worker starts on the partition. A worker that lost a
 * partition it still believes it holds takes nothing from it, and resumes nothing of it.
 */
const OWNED = (partitions: string, owner: string): string =>
  `select partition from operations.partition_owner where partition = any(${partitions}::int[]) and owner = ${owner} for share`;

/** Makes worker $2 the owner of partition $1 (see OWNED); done when its lease was taken, before it applies anything. */
const TAKE_PARTITION = statement(
  'operations_worker_take_partition',
  `insert into operations.partition_owner (partition, owner) values ($1, $2)
   on conflict (partition) do update set owner = excluded.owner, taken_time = now()`,
);

export async function takePartition(sql: Sql, partition: number, owner: string): Promise<void> {
  await sql.query(TAKE_PARTITION, [partition, owner]);
}

/** Each queued operation looked up by id (a lateral lookup the planner keeps): the queue is small, the history is not. */
const HELD = statement(
  'operations_worker_held',
  `with owned as (${OWNED('$1', '$3')})
   select ${prefixed('o', OPERATION_COLUMNS)}, o.request
     from operations.queue q
     cross join lateral (select * from operations.operation where id = q.id limit 1) as o
    where q.partition in (select partition from owned) and o.status = 'PROCESSING'
    order by q.seq
    limit $2`,
);

/**
 * A resume is a try, counted before it is made (a version of its own, still PROCESSING), as a
 * claim counts the first: an operation that brings its worker down every time it is applied
 * (a crash, not an error, which is retried in process) then runs out of tries instead of being
 * resumed forever at the head of its partition. Rows changed meanwhile by someone else are
 * left out (the next drain reads them again).
 */
const COUNT_RESUME = statement(
  'operations_worker_count_resume',
  `with owned as (${OWNED('$2', '$3')})
   update operations.operation o set version = o.version + 1, attempts = o.attempts + 1, update_time = now()
     from jsonb_to_recordset($1::jsonb) as x(id uuid, version bigint)
    where o.id = x.id and o.version = x.version and o.status = 'PROCESSING' and o.partition in (select partition from owned)
    returning ${prefixed('o', OPERATION_COLUMNS)}, o.request`,
);

/** Counts the resume of `rows` (read by heldByPartitions), those of partitions `owner` still owns. */
export async function countResumes(sql: Sql, owner: string, rows: readonly OperationRow[]): Promise<OperationRow[]> {
  if (rows.length === 0) return [];
  for (const row of rows) assertTransition(row, 'PROCESSING');
  const partitions = [...new Set(rows.map((r) => r.partition))];
  return heldRows(await sql.query(COUNT_RESUME, [JSON.stringify(rows.map((r) => ({ id: r.id, version: r.version.toString() }))), partitions, owner]));
}

/** Operations these partitions (those `owner` owns) left PROCESSING (a worker died or lost its lease mid-batch): they go first. */
export async function heldByPartitions(sql: Sql, owner: string, partitions: readonly number[], limit: number): Promise<OperationRow[]> {
  if (partitions.length === 0) return [];
  return heldRows(await sql.query(HELD, [partitions, limit, owner]));
}

/**
 * The oldest PENDING operations of these partitions, at most $2, from the work queue: each
 * partition's share is a prefix of its own acceptance order (each partition's queue is walked
 * from its oldest), so per-ledger order holds however the partitions interleave. The status is
 * checked on the row being updated: two workers racing for one partition by mistake cannot
 * both claim an operation (the second one's update finds it PROCESSING and skips it).
 */
/**
 * What a claim moves from. Its rows are not known before the statement, which guards on this
 * itself; the move is checked against the state machine once, when the module loads.
 */
const CLAIMABLE = { status: 'PENDING' } as const satisfies OperationState;
assertTransition(CLAIMABLE, 'PROCESSING');

const CLAIM = statement(
  'operations_worker_claim',
  `with owned as (${OWNED('$1', '$4')})
   update operations.operation o
      set status = 'PROCESSING', version = o.version + 1, attempts = o.attempts + 1, update_time = now()
    where o.status = '${CLAIMABLE.status}' and o.id in (
      select next.id
        from owned
        cross join lateral (select id, seq from operations.queue where partition = owned.partition order by seq limit $3) as next
       order by next.seq
       limit $2)
    returning ${prefixed('o', OPERATION_COLUMNS)}, o.request`,
);

/** Least each partition may bring to a claim, however many partitions share it. */
const MIN_CLAIM_PER_PARTITION = 64;

/**
 * Takes the next PENDING operations of these partitions, oldest first, at most `limit`. Each
 * partition is read for twice its even share (at least MIN_CLAIM_PER_PARTITION): enough for
 * the busiest of a few to fill a batch, without reading `limit` rows of every partition.
 */
export async function claimNext(sql: Sql, claim: Claim): Promise<OperationRow[]> {
  if (claim.partitions.length === 0) return [];
  return heldRows(await claimRows(sql, claim));
}

/** What a claim takes: up to `limit` operations of those `partitions` that PostgreSQL says `owner` owns. */
export interface Claim {
  readonly owner: string;
  readonly partitions: readonly number[];
  readonly limit: number;
}

/** The claim, on its own (committing at once) or deferred in a transaction (see applyHeld). */
export function claimRows(sql: Sql | SqlTransaction, { owner, partitions, limit }: Claim): Promise<Array<Record<string, unknown>>> {
  const perPartition = Math.min(limit, Math.max(MIN_CLAIM_PER_PARTITION, Math.ceil((2 * limit) / partitions.length)));
  const values = [partitions, limit, perPartition, owner];
  return 'defer' in sql ? sql.defer(CLAIM, values) : sql.query(CLAIM, values);
}


/** The operation changed under the worker (another worker held it): abort, apply nothing. */
export class LostOperationError extends Error {
  override readonly name = 'LostOperationError';
  constructor(readonly detail: string) {
    super(`an operation is no longer PROCESSING at the version this worker claimed (${detail})`);
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
export async function releaseHeld(sql: Sql, batch: readonly OperationRow[]): Promise<Operation[]> {
  if (batch.length === 0) return [];
  for (const row of batch) assertTransition(row, 'PENDING');
  const rows = (await sql.query<Record<string, unknown>>(RELEASE, [batch.map((h) => h.id)])).map(fromColumns);
  return rows.sort(bySeq).map(toOperation);
}

const EXHAUST = statement(
  'operations_worker_exhaust',
  `with failed as (
     update operations.operation
        set status = 'FAILED', version = version + 1, attempts = attempts + $1, error = $2::jsonb, update_time = now()
      where id = $3 and status = 'PROCESSING' and version = $4
      returning ${OPERATION_COLUMNS}
   ), dequeued as (
     delete from operations.queue q using failed where q.partition = failed.partition and q.seq = failed.seq
   )
   select * from failed`,
);

/**
 * Ends an operation FAILED because every try failed; operators may requeue it. `tries` is how
 * often this process tried it (its claim or resume already counted the first in `attempts`).
 */
export async function exhaust(sql: Sql, op: OperationRow, tries: number, lastError: unknown): Promise<Operation> {
  assertTransition(op, 'FAILED');
  const attempts = op.attempts + Math.max(0, tries - 1);
  const error: OperationError = {
    code: RETRIES_EXHAUSTED,
    message: `gave up after ${attempts} attempts; an operator may requeue it`,
    details: { last_error: String(lastError instanceof Error ? lastError.message : lastError).slice(0, 500), attempts: String(attempts) },
  };
  const [updated] = await sql.query<Record<string, unknown>>(EXHAUST, [
    Math.max(0, tries - 1),
    JSON.stringify(error),
    op.id,
    op.version.toString(),
  ]);
  if (!updated) throw new LostOperationError(op.id);
  return toOperation(fromColumns(updated));
}
