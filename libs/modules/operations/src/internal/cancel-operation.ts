import type { EntityManager } from '@mikro-orm/postgresql';
import { failedPrecondition, notFound } from '@tally/platform';
import { executeReturning, toOperation } from './operation-store.js';
import { OperationEntity } from './schema.js';
import { assertTransition, type OperationState } from './status.js';
import type { Operation } from './types.js';
import { validateOperationId } from './read-operations.js';

/** What a cancel moves from: the update's guard is built from it, so the two say the same. */
const CANCELLABLE = { status: 'PENDING', stage: 0 } as const satisfies OperationState;

/**
 * Cancels a PENDING operation. The status guard is in the UPDATE itself, so a worker taking
 * the operation at the same moment and this cancel cannot both win. A later stage waiting for
 * its partition (a transfer whose debit is done) is in flight, not PENDING: never cancelled.
 */
export async function cancelOperation(em: EntityManager, operationId: string): Promise<Operation> {
  validateOperationId(operationId);
  assertTransition(CANCELLABLE, 'CANCELLED');
  const [cancelled] = await executeReturning(
    em,
    `with cancelled as (
       update operations.operation
          set status = 'CANCELLED', version = version + 1, update_time = now()
        where id = ? and status = '${CANCELLABLE.status}' and stage = ${CANCELLABLE.stage}
        returning *
     ), dequeued as (
       delete from operations.queue q using cancelled where q.partition = cancelled.partition and q.seq = cancelled.seq
     )
     select * from cancelled`,
    [operationId],
  );
  if (cancelled) return toOperation(cancelled);
  const current = await em.findOne(OperationEntity, { id: operationId });
  if (!current) throw notFound('operation', operationId);
  const { status } = toOperation(current);
  throw failedPrecondition('OPERATION_NOT_PENDING', `operation ${operationId} is ${status}: only a PENDING operation can be cancelled`, {
    operation_id: operationId,
    status,
  });
}
