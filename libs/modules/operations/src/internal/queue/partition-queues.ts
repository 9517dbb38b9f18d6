import BeeQueue from 'bee-queue';
import type { Logger } from '@tally/platform';

/**
 * The partition queues in Redis (bee-queue): `tally:partition-<n>`, one per partition. A job
 * is one accepted operation (or one later stage of it), with the operation id (and stage) as
 * job id, so enqueueing an operation that is already queued is a no-op (the recovery sweep
 * relies on it). A job is a wake-up for the
 * partition's worker: PostgreSQL says what is pending and in which order.
 */

export interface PartitionJob {
  readonly operationId: string;
  readonly ledgerId: string;
  /** The operation's acceptance sequence number, as a decimal string. */
  readonly seq: string;
  /**
   * When the job was queued (ms since the epoch), always after the operation committed: a
   * drain that started later saw the operation, so the job needs no drain of its own.
   */
  readonly queuedAtMs: number;
}

export interface QueuedOperation extends Omit<PartitionJob, 'queuedAtMs'> {
  readonly partition: number;
  /** The stage to run (a multi-stage operation is queued once per stage); 0 when absent. */
  readonly stage?: number;
}

/** One job per operation and stage, so queueing the same stage again is a no-op. */
const jobId = ({ operationId, stage = 0 }: QueuedOperation): string => (stage === 0 ? operationId : `${operationId}:${stage}`);

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

  /** Enqueues each operation on its partition's queue. Rejects if Redis cannot take them. */
  async enqueue(operations: readonly QueuedOperation[]): Promise<void> {
    const byPartition = new Map<number, QueuedOperation[]>();
    for (const op of operations) byPartition.set(op.partition, [...(byPartition.get(op.partition) ?? []), op]);
    await Promise.all(
      [...byPartition].map(async ([partition, ops]) => {
        const queue = this.queue(partition);
        const queuedAtMs = Date.now();
        const jobs = ops.map((op) => queue.createJob({ operationId: op.operationId, ledgerId: op.ledgerId, seq: op.seq, queuedAtMs }).setId(jobId(op)));
        const failures = await queue.saveAll(jobs);
        if (failures.size > 0) {
          const [first] = failures.values();
          throw new Error(`could not enqueue ${failures.size} operation(s) on partition ${partition}: ${first?.message}`);
        }
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
