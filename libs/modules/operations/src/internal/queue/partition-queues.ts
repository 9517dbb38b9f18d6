import BeeQueue from 'bee-queue';
import type { Logger } from '@tally/platform';

/**
 * The partition queues in Redis (bee-queue): `tally:partition-<n>`, one per partition. A job
 * wakes the partition's worker for the operations one commit accepted there (their count and
 * `seq` range): PostgreSQL says what is pending and in which order, so one job per commit and
 * partition is enough, however many operations the commit holds. Queueing the same range again
 * (the recovery sweep, a client retrying) is a no-op: the job id is the range.
 */

export interface PartitionJob {
  /** How many operations the job is for, and the `seq` range they lie in (decimal strings). */
  readonly count: number;
  readonly firstSeq: string;
  readonly lastSeq: string;
  /**
   * When the job was queued (ms since the epoch), always after the operations committed: a
   * drain that started later saw them, so the job needs no drain of its own.
   */
  readonly queuedAtMs: number;
}

/** An operation committed to a partition, waiting to be applied there. */
export interface QueuedOperation {
  readonly operationId: string;
  readonly ledgerId: string;
  readonly partition: number;
  /** The operation's acceptance sequence number, as a decimal string. */
  readonly seq: string;
  /** The stage to run (a multi-stage operation is queued once per stage); 0 when absent. */
  readonly stage?: number;
}

const bySeq = (a: QueuedOperation, b: QueuedOperation): number => (BigInt(a.seq) < BigInt(b.seq) ? -1 : BigInt(a.seq) > BigInt(b.seq) ? 1 : 0);

/** One job per partition: the operations queued there, as a range. */
export function jobsFor(operations: readonly QueuedOperation[], queuedAtMs: number): Map<number, { id: string; job: PartitionJob }> {
  const byPartition = new Map<number, QueuedOperation[]>();
  for (const op of operations) {
    const list = byPartition.get(op.partition);
    if (list) list.push(op);
    else byPartition.set(op.partition, [op]);
  }
  const jobs = new Map<number, { id: string; job: PartitionJob }>();
  for (const [partition, ops] of byPartition) {
    const sorted = ops.length === 1 ? ops : [...ops].sort(bySeq);
    const first = sorted[0]!;
    const last = sorted.at(-1)!;
    // Stages of one operation share its seq: the stage is part of what the job is for.
    const stages = [...new Set(sorted.map((op) => op.stage ?? 0))].join('.');
    jobs.set(partition, {
      id: `${first.seq}-${last.seq}-${sorted.length}-s${stages}`,
      job: { count: sorted.length, firstSeq: first.seq, lastSeq: last.seq, queuedAtMs },
    });
  }
  return jobs;
}

export const QUEUE_PREFIX = 'tally';
export const queueName = (partition: number): string => `partition-${partition}`;

/** Settings shared by producers and consumers. Jobs are not kept once done: PostgreSQL keeps the history. */
export function queueSettings(redisUrl: string, isWorker: boolean): BeeQueue.QueueSettings {
  return {
    prefix: QUEUE_PREFIX,
    isWorker,
    getEvents: false,
    sendEvents: false,
    storeJobs: false,
    activateDelayedJobs: false,
    removeOnSuccess: true,
    removeOnFailure: true,
    // A worker that died holding a job: the job goes back to waiting after this long.
    stallInterval: 5_000,
    redis: {
      url: redisUrl,
      // Fail fast while Redis is down rather than queueing commands without bound; the
      // recovery sweep re-enqueues whatever could not be queued.
      enable_offline_queue: false,
      retry_strategy: (options: { attempt: number }) => Math.min(options.attempt * 200, 2_000),
    } as BeeQueue.QueueSettings['redis'],
  };
}

/** Producer side: the API enqueues what it accepted; the sweep re-enqueues what went missing. */
export class PartitionQueues {
  private readonly queues = new Map<number, BeeQueue<PartitionJob>>();

  constructor(
    private readonly redisUrl: string,
    private readonly logger: Logger,
  ) {}

  /** Wakes each operation's partition with one job per partition. Rejects if Redis cannot take them. */
  async enqueue(operations: readonly QueuedOperation[]): Promise<void> {
    if (operations.length === 0) return;
    await Promise.all(
      [...jobsFor(operations, Date.now())].map(async ([partition, { id, job }]) => {
        await this.queue(partition).createJob(job).setId(id).save();
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close(1_000)));
    this.queues.clear();
  }

  private queue(partition: number): BeeQueue<PartitionJob> {
    let queue = this.queues.get(partition);
    if (!queue) {
      queue = new BeeQueue<PartitionJob>(queueName(partition), queueSettings(this.redisUrl, false));
      queue.on('error', (error) => this.logger.debug({ err: error.message, partition }, 'queue connection error'));
      this.queues.set(partition, queue);
    }
    return queue;
  }
}
