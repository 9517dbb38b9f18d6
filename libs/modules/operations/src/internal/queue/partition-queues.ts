import BeeQueue from 'bee-queue';
import type { Logger } from '@tally/platform';

/**
 * The partition queues in Redis (bee-queue): `tally:partition-<n>`, one per partition. A job
 * tells whoever holds the partition that it has work: PostgreSQL says what is pending and in
 * which order, so a job names no operation, and one job covers every operation committed
 * before it was queued. Producers therefore queue at most one job per partition per window
 * (`wake`): a busy server does not queue a job per commit, and the worker does not consume one.
 */

/**
 * At most one job per partition per this long from one process, for partitions another
 * process's worker holds: it is woken within this bound, and does not consume a job per commit.
 */
export const WAKE_WINDOW_MS = 25;
/**
 * The same, for partitions this process's own worker holds: it was woken directly; the job only
 * records that the partition has work, for whoever holds it next.
 */
export const LOCAL_WAKE_WINDOW_MS = 1_000;

export interface PartitionJob {
  /**
   * When the job was queued (ms since the epoch), always after the operations it covers
   * committed: a drain that started later saw them, so the job needs no drain of its own.
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

/** How long queueing a job may take before it counts as failed (the sweep queues it later). */
export const ENQUEUE_TIMEOUT_MS = 1_000;

/**
 * When a partition last got a job from this process, the job that will end its window, and the
 * job being queued: at most one at a time per partition, so that while Redis is away wake-ups
 * do not pile up unanswered (one more is queued when it settles, covering the calls meanwhile).
 */
interface WakeWindow {
  lastQueuedMs: number;
  trailing?: { readonly dueMs: number; readonly timer: NodeJS.Timeout };
  queueing: boolean;
  queueAgain: boolean;
}

/** Producer side: the API queues what it accepted; the sweep re-queues what went missing. */
export class PartitionQueues {
  private readonly queues = new Map<number, BeeQueue<PartitionJob>>();
  private readonly windows = new Map<number, WakeWindow>();

  constructor(
    private readonly redisUrl: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Queues a job on each partition: at once, or, when this process queued one for it less than
   * `windowMs` ago, once that window ends; one job then covers every call made in the window.
   * Best effort: a job Redis cannot take is logged, and the recovery sweep queues it again.
   */
  wake(partitions: Iterable<number>, windowMs: number): void {
    const now = Date.now();
    for (const partition of partitions) {
      let window = this.windows.get(partition);
      if (window === undefined) this.windows.set(partition, (window = { lastQueuedMs: Number.NEGATIVE_INFINITY, queueing: false, queueAgain: false }));
      if (now - window.lastQueuedMs >= windowMs) {
        window.lastQueuedMs = now;
        this.queueNow(partition, window);
        continue;
      }
      const dueMs = window.lastQueuedMs + windowMs;
      if (window.trailing !== undefined && window.trailing.dueMs <= dueMs) continue;
      if (window.trailing !== undefined) clearTimeout(window.trailing.timer);
      const ending = window;
      const timer = setTimeout(() => {
        ending.trailing = undefined;
        ending.lastQueuedMs = Date.now();
        this.queueNow(partition, ending);
      }, dueMs - now);
      window.trailing = { dueMs, timer };
    }
  }

  /**
   * Records that these partitions have work: `wokenHere` are the ones a worker of this process
   * was just told directly (their job only matters to whoever holds them next), the others are
   * woken through their queue within WAKE_WINDOW_MS.
   */
  announce(partitions: Iterable<number>, wokenHere: ReadonlySet<number>): void {
    const all = [...partitions];
    this.wake(all.filter((p) => wokenHere.has(p)), LOCAL_WAKE_WINDOW_MS);
    this.wake(all.filter((p) => !wokenHere.has(p)), WAKE_WINDOW_MS);
  }

  /** Queues a job on each partition now. Rejects if Redis cannot take them within ENQUEUE_TIMEOUT_MS. */
  async enqueue(partitions: Iterable<number>): Promise<void> {
    const queuedAtMs = Date.now();
    const saved = Promise.all([...new Set(partitions)].map(async (partition) => void (await this.queue(partition).createJob({ queuedAtMs }).save())));
    saved.catch(() => undefined); // after a timeout, nobody awaits it
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        saved,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Redis did not take the job within ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    for (const window of this.windows.values()) if (window.trailing) clearTimeout(window.trailing.timer);
    this.windows.clear();
    await Promise.allSettled([...this.queues.values()].map((q) => q.close(1_000)));
    this.queues.clear();
  }

  private queueNow(partition: number, window: WakeWindow): void {
    if (window.queueing) {
      window.queueAgain = true;
      return;
    }
    window.queueing = true;
    this.enqueue([partition])
      .catch((error: unknown) => this.logger.warn({ err: String(error), partition }, 'could not queue a wake-up; the recovery sweep will queue it'))
      .finally(() => {
        window.queueing = false;
        if (!window.queueAgain) return;
        window.queueAgain = false;
        window.lastQueuedMs = Date.now();
        this.queueNow(partition, window);
      });
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
