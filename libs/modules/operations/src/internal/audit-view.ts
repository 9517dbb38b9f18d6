import { statement, type Sql } from '@tally/platform';
import type { OperationKind, OperationStatus } from './status.js';

/**
 * What the audit needs of each ended operation, and nothing more: `npm run audit` walks every
 * operation ever accepted, so it reads them in large pages of a few columns, in acceptance order.
 */
export interface AuditedOperation {
  readonly id: string;
  readonly kind: OperationKind;
  readonly status: OperationStatus;
  /** The failure reason, or null. */
  readonly errorCode: string | null;
  /** How many balance changes its result lists (0 without a result). */
  readonly balanceChanges: number;
}

/** Operations one page of the audit reads. */
export const MAX_AUDIT_PAGE = 10_000;

const ENDED_AFTER = statement(
  'operations_audit_ended',
  `select id, seq, kind, status, error ->> 'code' as error_code,
          coalesce(jsonb_array_length(result -> 'balanceChanges'), 0) as balance_changes
     from operations.operation
    where seq > $1 and status in ('COMPLETED', 'FAILED', 'CANCELLED') and pruned_time is null
    order by seq
    limit $2`,
);

/** Ended (and not pruned) operations after `afterSeq`, in acceptance order; `next` is where the following page starts, or undefined at the end. */
export async function endedOperations(
  sql: Sql,
  afterSeq: string,
  limit: number,
): Promise<{ items: AuditedOperation[]; next: string | undefined }> {
  const rows = await sql.query<{ id: string; seq: string; kind: OperationKind; status: OperationStatus; error_code: string | null; balance_changes: number }>(
    ENDED_AFTER,
    [afterSeq, Math.min(Math.max(1, limit), MAX_AUDIT_PAGE)],
  );
  return {
    items: rows.map((r) => ({ id: r.id, kind: r.kind, status: r.status, errorCode: r.error_code, balanceChanges: Number(r.balance_changes) })),
    next: rows.length < limit ? undefined : rows.at(-1)?.seq,
  };
}

const IN_FLIGHT = statement(
  'operations_audit_in_flight',
  `select count(*)::int as in_flight, count(*) filter (where q.seq is null)::int as unqueued
     from operations.operation o
     left join operations.queue q on q.partition = o.partition and q.seq = o.seq
    where o.status in ('PENDING', 'PROCESSING')`,
);

/**
 * Operations accepted and not yet ended (PENDING or PROCESSING), read from the history itself;
 * and how many of them the work queue does not list (no worker would ever claim those).
 */
export async function inFlight(sql: Sql): Promise<{ inFlight: number; unqueued: number }> {
  const [row] = await sql.query<{ in_flight: number; unqueued: number }>(IN_FLIGHT);
  return { inFlight: row?.in_flight ?? 0, unqueued: row?.unqueued ?? 0 };
}
