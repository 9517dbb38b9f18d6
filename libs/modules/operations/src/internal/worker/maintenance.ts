import type { EntityManager } from '@mikro-orm/postgresql';
import type { QueuedOperation } from '../queue/partition-queues.js';
import { RETRIES_EXHAUSTED } from '../status.js';

/**
 * The worker's housekeeping, per owned partition:
 * - the recovery sweep finds PENDING operations that may have no queue entry (a crash between
 *   commit and enqueue, Redis restarted empty, a flushed queue) so they can be enqueued again;
 *   enqueueing is idempotent by operation id, so a sweep never causes a second application;
 * - retention drops the payload (request, result, error, steps) of operations that ended more
 *   than the retention period ago; the row stays, so a transaction id is never reused. A
 *   later stage that ran out of retries (money in transit) is kept until an operator requeues it.
 */

/** Most operations one sweep re-enqueues per partition; the next sweep takes the rest. */
export const MAX_SWEEP_OPS = 10_000;
/** Rows one retention pass prunes per statement. */
export const PRUNE_BATCH_ROWS = 1_000;

export async function pendingForSweep(em: EntityManager, partitions: readonly number[], olderThanMs: number): Promise<QueuedOperation[]> {
  if (partitions.length === 0) return [];
  const rows = await em.execute<Array<{ id: string; ledger_id: string; seq: string; partition: number; stage: number }>>(
    `select id, ledger_id, seq, partition, stage from operations.operation
      where status = 'PENDING' and partition = any(?::int[]) and update_time < now() - make_interval(secs => ?)
      order by seq
      limit ?`,
    [`{${partitions.join(',')}}`, olderThanMs / 1000, MAX_SWEEP_OPS],
  );
  return rows.map((r) => ({ operationId: r.id, ledgerId: r.ledger_id, seq: String(r.seq), partition: Number(r.partition), stage: Number(r.stage) }));
}

/** Prunes ended operations older than `retentionMs` in `partitions`; returns how many. */
export async function pruneEnded(em: EntityManager, partitions: readonly number[], retentionMs: number): Promise<number> {
  if (partitions.length === 0) return 0;
  let total = 0;
  for (;;) {
    const pruned = await em.execute<Array<{ id: string }>>(
      `update operations.operation
          set pruned_time = now(), request = '{}'::jsonb, result = null, error = null, steps = '[]'::jsonb, progress = '{}'::jsonb
        where id in (
          select id from operations.operation
           where pruned_time is null and status in ('COMPLETED', 'FAILED', 'CANCELLED')
             and partition = any(?::int[]) and update_time < now() - make_interval(secs => ?)
             -- a later stage that ran out of retries has effects in flight: kept for an operator to requeue
             and not (stage > 0 and status = 'FAILED' and error ->> 'code' = '${RETRIES_EXHAUSTED}')
           limit ?)
        returning id`,
      [`{${partitions.join(',')}}`, retentionMs / 1000, PRUNE_BATCH_ROWS],
    );
    total += pruned.length;
    if (pruned.length < PRUNE_BATCH_ROWS) return total;
  }
}
