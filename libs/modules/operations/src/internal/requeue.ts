import type { EntityManager } from '@mikro-orm/postgresql';
import { failedPrecondition, notFound } from '@tally/platform';
import { executeReturning, toOperation } from './operation-store.js';
import { validateOperationId } from './read-operations.js';
import { OperationEntity } from './schema.js';
import { assertTransition, RETRIES_EXHAUSTED, type OperationState } from './status.js';
import type { Operation } from './types.js';

/** What a requeue moves from, at any stage: the update's guard is built from it, so the two say the same. */
const REQUEUEABLE = { status: 'FAILED', error: { code: RETRIES_EXHAUSTED } } as const satisfies OperationState;

/**
 * Operators requeue an operation that failed only because it ran out of retries: it goes back
 * to PENDING and is applied again in its partition, from the stage that failed (nothing of that
 * stage was applied; a transfer's earlier debit waits in transit). Business failures are final
 * and refused here.
 */
export async function requeueOperation(
  em: EntityManager,
  operationId: string,
): Promise<{ operation: Operation; partition: number; seq: string; stage: number }> {
  validateOperationId(operationId);
  assertTransition(REQUEUEABLE, 'PENDING');
  const [requeued] = await executeReturning(
    em,
    `with requeued as (
       update operations.operation
          set status = 'PENDING', version = version + 1, error = null, update_time = now()
        where id = ? and status = '${REQUEUEABLE.status}' and error ->> 'code' = ? and pruned_time is null
        returning *
     ), queued as (
       insert into operations.queue (partition, seq, id) select partition, seq, id from requeued
     )
     select * from requeued`,
    [operationId, REQUEUEABLE.error.code],
  );
  if (requeued) return { operation: toOperation(requeued), partition: requeued.partition, seq: requeued.seq, stage: requeued.stage };
  const current = await em.findOne(OperationEntity, { id: operationId, prunedTime: null });
  if (!current) throw notFound('operation', operationId);
  throw failedPrecondition(
    'NOT_REQUEUEABLE',
    `operation ${operationId} is ${current.status}${current.error ? ` (${current.error.code})` : ''}: only operations FAILED ${RETRIES_EXHAUSTED} can be requeued`,
    { operation_id: operationId, status: current.status },
  );
}

/** Most operations one listing shows. */
export const MAX_REQUEUEABLE_LISTED = 1_000;

/** Operations waiting for an operator: FAILED only because retries ran out, oldest first. */
export async function listRequeueable(em: EntityManager, limit: number): Promise<Operation[]> {
  const rows = await executeReturning(
    em,
    `select * from operations.operation
      where status = 'FAILED' and error ->> 'code' = ? and pruned_time is null
      order by seq
      limit ?`,
    [RETRIES_EXHAUSTED, Math.min(Math.max(1, limit), MAX_REQUEUEABLE_LISTED)],
  );
  return rows.map(toOperation);
}
