import { createHash } from 'node:crypto';
import { statement, TallyError, type OperationRequest, type Sql } from '@tally/platform';
import { v7 as uuidv7 } from 'uuid';
import { fromColumns, OPERATION_COLUMNS, prefixed, toOperation } from './operation-store.js';
import { partitionOf } from './partition.js';
import type { OperationRow } from './schema.js';
import type { OperationKind } from './status.js';
import type { Operation } from './types.js';

/**
 * Accepting async requests: each validated request becomes a PENDING operation row, committed
 * before the client hears "accepted". A transaction id is unique per ledger: the same id with
 * the same request returns the existing operation (nothing new is applied); with a different
 * request it is refused ALREADY_EXISTS.
 *
 * Acceptance order is commit order: each ledger's advisory lock is held from the insert to
 * the commit, so a ledger's `seq` values are handed out in the order its operations commit,
 * and the worker, applying by `seq`, applies them in acceptance order. Many submits are
 * accepted by one statement (the facade groups the ones that arrive while one is in flight):
 * one round trip takes the locks, inserts every row and commits.
 */

/** What a module's use case asks to record (its intake port's request), with the RPC that asked. */
export type OperationSpec = OperationRequest<OperationKind>;

export type AcceptOutcome =
  | { readonly ok: true; readonly operation: Operation; readonly created: boolean; readonly partition: number; readonly seq: string }
  | { readonly ok: false; readonly error: TallyError };

/** Largest batch one submit may hold (SubmitTransactions' limit). */
export const MAX_ACCEPT_BATCH = 1_000;

interface NewRow {
  readonly ord: number;
  readonly id: string;
  readonly kind: OperationKind;
  readonly ledger_id: string;
  readonly to_ledger_id: string | null;
  readonly transaction_id: string;
  readonly partition: number;
  readonly request: Readonly<Record<string, unknown>>;
  readonly request_hash: string;
  readonly tenant: string | null;
  readonly request_id: string | null;
  readonly traceparent: string | null;
}

/**
 * The new operations, each listed in its partition's work queue, under the ledgers' advisory
 * locks, in one statement that commits on its own (operations-0006: `operations.accept`).
 */
const ACCEPT = statement('operations_accept', `select * from operations.accept($1::jsonb)`);

/** Rows that were there already (a transaction id used before), read after the accept committed. */
const EXISTING = statement(
  'operations_accept_existing',
  `select ${prefixed('o', OPERATION_COLUMNS)}, o.request_hash from operations.operation o
     join jsonb_to_recordset($1::jsonb) as x(ledger_id uuid, transaction_id text)
       on o.ledger_id = x.ledger_id and o.transaction_id = x.transaction_id`,
);

export async function acceptOperations(sql: Sql, specs: readonly OperationSpec[], partitions: number): Promise<AcceptOutcome[]> {
  if (specs.length === 0) return [];
  const rows: NewRow[] = specs.map((spec, ord) => ({
    ord,
    id: uuidv7(),
    kind: spec.kind,
    ledger_id: spec.ledgerId,
    to_ledger_id: spec.toLedgerId ?? null,
    transaction_id: spec.transactionId,
    partition: partitionOf(spec.ledgerId, partitions),
    request: spec.request,
    request_hash: requestHash(spec),
    tenant: spec.tenant,
    request_id: spec.origin?.requestId ?? null,
    traceparent: spec.origin?.traceparent ?? null,
  }));
  const inserted = await sql.query<{ accepted_id: string; accepted_seq: string; accepted_create_time: Date; accepted_update_time: Date }>(ACCEPT, [
    JSON.stringify(rows),
  ]);
  const created = new Map(inserted.map((r) => [r.accepted_id, { seq: r.accepted_seq, create_time: r.accepted_create_time, update_time: r.accepted_update_time }]));
  const others = rows.filter((r) => !created.has(r.id));
  const existing =
    others.length === 0
      ? []
      : (await sql.query<Record<string, unknown>>(EXISTING, [JSON.stringify(others.map((r) => ({ ledger_id: r.ledger_id, transaction_id: r.transaction_id })))])).map(
          fromColumns,
        );

  const byKey = new Map<string, OperationRow>();
  for (const row of existing) byKey.set(`${row.ledgerId}\n${row.transactionId}`, row);
  return rows.map((row): AcceptOutcome => {
    const mine = created.get(row.id);
    if (mine) return { ok: true, operation: pendingOperation(row, mine), created: true, partition: row.partition, seq: mine.seq };
    const stored = byKey.get(`${row.ledger_id}\n${row.transaction_id}`);
    // The insert either wrote the row or was blocked by one committed before the read.
    if (!stored) throw new Error(`operation for ${row.ledger_id}/${row.transaction_id} neither inserted nor found`);
    if (stored.requestHash !== row.request_hash) return { ok: false, error: reused(stored, 'with a different request') };
    if (stored.prunedTime !== null) return { ok: false, error: reused(stored, '(its result is past retention)') };
    return { ok: true, operation: toOperation(stored), created: false, partition: stored.partition, seq: stored.seq };
  });
}

/** The operation just accepted, as its row now reads (version 1, PENDING, nothing applied). */
function pendingOperation(row: NewRow, stored: { create_time: Date; update_time: Date }): Operation {
  return {
    id: row.id,
    kind: row.kind,
    status: 'PENDING',
    ledgerId: row.ledger_id,
    toLedgerId: row.to_ledger_id,
    tenant: row.tenant,
    transactionId: row.transaction_id,
    version: 1n,
    steps: [],
    result: null,
    error: null,
    attempts: 0,
    createTime: stored.create_time,
    updateTime: stored.update_time,
    ...((row.request_id !== null || row.traceparent !== null) && { origin: { requestId: row.request_id, traceparent: row.traceparent } }),
  };
}

function reused(stored: OperationRow, why: string): TallyError {
  return new TallyError(
    'ALREADY_EXISTS',
    `transaction_id ${stored.transactionId} was already used on ledger ${stored.ledgerId} by operation ${stored.id} ${why}`,
    {
      reason: 'TRANSACTION_ID_REUSED',
      resource: { type: 'operation', name: stored.id },
      metadata: { ledger_id: stored.ledgerId, transaction_id: stored.transactionId, operation_id: stored.id },
    },
  );
}

/** The identity of a request: its kind and canonical payload. */
function requestHash(spec: OperationSpec): string {
  return createHash('sha256').update(spec.kind).update('\n').update(JSON.stringify(spec.request)).digest('hex');
}
