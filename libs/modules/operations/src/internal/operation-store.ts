import type { EntityManager } from '@mikro-orm/postgresql';
import { Coalescer, statement, TallyError, type Sql } from '@tally/platform';
import { resultFromJson, stepsFromJson } from './json-forms.js';
import type { OperationRow } from './schema.js';
import type { Operation } from './types.js';

/** Turns a stored row into the module's domain Operation. */
export function toOperation(row: OperationRow): Operation {
  return {
    id: row.id,
    kind: row.kind,
    status: visibleStatus(row),
    ledgerId: row.ledgerId,
    toLedgerId: row.toLedgerId,
    tenant: row.tenant,
    transactionId: row.transactionId,
    version: row.version,
    steps: stepsFromJson(row.steps),
    result: row.result && resultFromJson(row.result),
    error: row.error,
    attempts: row.attempts,
    createTime: row.createTime,
    updateTime: row.updateTime,
    ...((row.requestId !== null || row.traceparent !== null) && { origin: { requestId: row.requestId, traceparent: row.traceparent } }),
  };
}

/** A later stage waiting for its partition is stored PENDING but is in flight: clients see it PROCESSING. */
function visibleStatus(row: OperationRow): OperationRow['status'] {
  return row.status === 'PENDING' && row.stage > 0 ? 'PROCESSING' : row.status;
}

/**
 * The columns the hot paths read of an operation: all but the request (large, and read only by
 * the worker, which asks for it) and its hash (read only when a transaction id is reused).
 */
export const OPERATION_COLUMNS =
  'id, seq, kind, status, ledger_id, transaction_id, partition, version, steps, result, error, attempts, create_time, update_time, pruned_time, stage, progress, to_ledger_id, tenant, request_id, traceparent';

/** `a, b` as `o.a, o.b`: the columns of one table in a statement that joins another. */
export function prefixed(alias: string, columns: string): string {
  return columns
    .split(',')
    .map((c) => `${alias}.${c.trim()}`)
    .join(', ');
}

/** Raw rows use column names; map them onto the row shape (absent columns read empty). */
export function fromColumns(r: Record<string, unknown>): OperationRow {
  return {
    id: r['id'] as string,
    seq: String(r['seq']),
    kind: r['kind'] as OperationRow['kind'],
    status: r['status'] as OperationRow['status'],
    ledgerId: r['ledger_id'] as string,
    transactionId: r['transaction_id'] as string,
    partition: Number(r['partition']),
    request: (r['request'] ?? {}) as OperationRow['request'],
    requestHash: (r['request_hash'] ?? '') as string,
    version: BigInt(r['version'] as string | number),
    steps: r['steps'] as OperationRow['steps'],
    result: (r['result'] ?? null) as OperationRow['result'],
    error: (r['error'] ?? null) as OperationRow['error'],
    attempts: Number(r['attempts']),
    createTime: asDate(r['create_time']),
    updateTime: asDate(r['update_time']),
    prunedTime: r['pruned_time'] == null ? null : asDate(r['pruned_time']),
    stage: Number(r['stage']),
    progress: (r['progress'] ?? {}) as OperationRow['progress'],
    toLedgerId: (r['to_ledger_id'] ?? null) as string | null,
    tenant: (r['tenant'] ?? null) as string | null,
    requestId: (r['request_id'] ?? null) as string | null,
    traceparent: (r['traceparent'] ?? null) as string | null,
  };
}

/** `pg` gives Date objects; MikroORM's raw execute gives strings. */
function asDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(value as string);
}

/** Runs `sql` (ending in `returning *`) in the unit of work's transaction, if it has one. */
export async function executeReturning(em: EntityManager, sql: string, params: unknown[]): Promise<OperationRow[]> {
  const rows = await em.execute<Record<string, unknown>[]>(sql, params);
  return rows.map(fromColumns);
}

const READ_OPERATIONS = statement(
  'operations_read',
  `select ${OPERATION_COLUMNS} from operations.operation where id = any($1::uuid[]) and pruned_time is null`,
);

/** The operations with these ids as they stand, pruned ones left out, in no particular order. */
export async function readOperations(sql: Sql, ids: readonly string[]): Promise<Operation[]> {
  if (ids.length === 0) return [];
  const rows = await sql.query<Record<string, unknown>>(READ_OPERATIONS, [ids]);
  return rows.map((row) => toOperation(fromColumns(row)));
}

/** Ids one read takes: keeps each statement and its result small. */
const MAX_IDS_PER_READ = 500;
/** Reads waiting for a connection; past this, reads are shed (RESOURCE_EXHAUSTED). */
const MAX_WAITING_READS = 50_000;
/** Reads running at once: a share of the pool, so reads never starve the writes. */
const MAX_CONCURRENT_READS = 3;

/**
 * Reads of single operations (GetOperation, a watch's first read and its resyncs) that arrive
 * together share one query: thousands of watches resyncing at once, after Redis reconnects,
 * take a few pooled connections, not one each. Answers `undefined` for no such operation.
 */
export type OperationReader = (operationId: string) => Promise<Operation | undefined>;

export function createOperationReader(sql: Sql): OperationReader {
  const reads = new Coalescer<string, Operation | undefined>({
    run: async (ids) => {
      const byId = new Map((await readOperations(sql, [...new Set(ids)])).map((op) => [op.id, op]));
      return ids.map((id) => byId.get(id));
    },
    maxBatchItems: MAX_IDS_PER_READ,
    maxWaitingItems: MAX_WAITING_READS,
    maxConcurrentBatches: MAX_CONCURRENT_READS,
    overloaded: () =>
      new TallyError('RESOURCE_EXHAUSTED', `more than ${MAX_WAITING_READS} operation reads are waiting; retry shortly`, {
        reason: 'READS_QUEUE_FULL',
      }),
  });
  return (id) => reads.submitOne(id);
}
