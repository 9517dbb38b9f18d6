import type { EntityManager } from '@mikro-orm/postgresql';
import { RETRIES_EXHAUSTED, TERMINAL_STATUSES } from '../status.js';

/**
 * The worker's housekeeping, per owned partition:
 * - the recovery sweep finds partitions with PENDING operations that may have no queue job (a
 *   crash between commit and queueing, Redis restarted empty, a flushed queue) so a job can be
 *   queued again; a job only wakes the partition, so a sweep never causes a second application;
 * - retention drops the payload (request, result, error, steps) of operations that ended more
 *   than the retention period ago; the row stays, so a transaction id is never reused. A
 *   later stage that ran out of retries (money in transit) is kept until an operator requeues it.
 *   Pruning writes no status: the trigger refuses a pruning update that changes it.
 */

/** Rows one retention pass prunes per statement. */
export const PRUNE_BATCH_ROWS = 1_000;

/** The partitions (of `partitions`) with operations PENDING for longer than `olderThanMs`, and how many. */
export async function pendingForSweep(
  em: EntityManager,
  partitions: readonly number[],
  olderThanMs: number,
): Promise<Array<{ partition: number; count: number }>> {
  if (partitions.length === 0) return [];
  const rows = await em.execute<Array<{ partition: number; count: string }>>(
    // Each queued operation looked up by id (a lateral lookup the planner keeps): the queue is small, the history is not.
    `select q.partition, count(*) as count
       from operations.queue q
       cross join lateral (select status, update_time from operations.operation where id = q.id limit 1) as o
      where q.partition = any(?::int[]) and o.status = 'PENDING' and o.update_time < now() - make_interval(secs => ?)
      group by q.partition`,
    [`{${partitions.join(',')}}`, olderThanMs / 1000],
  );
  return rows.map((r) => ({ partition: Number(r.partition), count: Number(r.count) }));
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
           where pruned_time is null and create_time < now() - make_interval(secs => ?)
             and status = any(?::text[])
             and partition = any(?::int[]) and update_time < now() - make_interval(secs => ?)
             -- a later stage that ran out of retries has effects in flight: kept for an operator to requeue
             and not (stage > 0 and status = 'FAILED' and error ->> 'code' = '${RETRIES_EXHAUSTED}')
           limit ?)
        returning id`,
      [retentionMs / 1000, `{${TERMINAL_STATUSES.join(',')}}`, `{${partitions.join(',')}}`, retentionMs / 1000, PRUNE_BATCH_ROWS],
    );
    total += pruned.length;
    if (pruned.length < PRUNE_BATCH_ROWS) return total;
  }
}
