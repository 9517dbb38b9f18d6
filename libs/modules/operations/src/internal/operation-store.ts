import type { EntityManager } from '@mikro-orm/postgresql';
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
    transactionId: row.transactionId,
    version: row.version,
    steps: stepsFromJson(row.steps),
    result: row.result && resultFromJson(row.result),
    error: row.error,
    attempts: row.attempts,
    createTime: row.createTime,
    updateTime: row.updateTime,
  };
}

/** A later stage waiting for its partition is stored PENDING but is in flight: clients see PROCESSING. */
function visibleStatus(row: OperationRow): OperationRow['status'] {
  return row.status === 'PENDING' && row.stage > 0 ? 'PROCESSING' : row.status;
}

/** Raw rows from `returning *` use column names; map them onto the row shape. */
export function fromColumns(r: Record<string, unknown>): OperationRow {
  return {
    id: r['id'] as string,
    seq: String(r['seq']),
    kind: r['kind'] as OperationRow['kind'],
    status: r['status'] as OperationRow['status'],
    ledgerId: r['ledger_id'] as string,
    transactionId: r['transaction_id'] as string,
    partition: Number(r['partition']),
    request: r['request'] as OperationRow['request'],
    requestHash: r['request_hash'] as string,
    version: BigInt(r['version'] as string | number),
    steps: r['steps'] as OperationRow['steps'],
    result: (r['result'] ?? null) as OperationRow['result'],
    error: (r['error'] ?? null) as OperationRow['error'],
    attempts: Number(r['attempts']),
    createTime: new Date(r['create_time'] as string),
    updateTime: new Date(r['update_time'] as string),
    prunedTime: r['pruned_time'] == null ? null : new Date(r['pruned_time'] as string),
    stage: Number(r['stage']),
    progress: (r['progress'] ?? {}) as OperationRow['progress'],
    toLedgerId: (r['to_ledger_id'] ?? null) as string | null,
  };
}

/** Runs `sql` (ending in `returning *`) in the unit of work's transaction, if it has one. */
export async function executeReturning(em: EntityManager, sql: string, params: unknown[]): Promise<OperationRow[]> {
  const rows = await em.execute<Record<string, unknown>[]>(sql, params);
  return rows.map(fromColumns);
}
