import { randomUUID } from 'node:crypto';
import type { ChannelHub, Database, Logger, PageTokens, Redis } from '@tally/platform';
import { createOperationsFacade, type LocalWorker, type OperationsFacade } from './facade.js';
import { FeedHub } from './feed/feed-hub.js';
import { observedFeed } from './feed/observed-feed.js';
import { createStatusFeed } from './feed/status-feed.js';
import { createOperationWatcher, type OperationWatcher } from './feed/watch.js';
import { createOperationReader } from './operation-store.js';
import { PartitionQueues } from './queue/partition-queues.js';
import { exportQueueStats } from './queue/queue-stats.js';
import type { Appliers, Preparers } from './worker/appliers.js';
import { OperationsWorker, type WorkerLimits } from './worker/operations-worker.js';

/**
 * The operations module as a process opens it: its facade, the partition queues behind it,
 * the status feed, the watches of an API process, and, when asked, the worker. The one door
 * through which the wiring reaches the module's machinery.
 */

export interface OperationsModuleDeps {
  readonly db: Database;
  /** Commands and feed messages; the queues and the worker's consumers open their own connections to `redisUrl`. */
  readonly redis: Redis;
  readonly redisUrl: string;
  readonly partitions: number;
  readonly logger: Logger;
  /** Signs ListOperations' page tokens. */
  readonly pageTokens: PageTokens;
  /**
   * An API process's subscriptions: given them, the module follows the status feed and serves
   * watches (`watcher`). Tools and worker-only processes leave it out.
   */
  readonly channels?: ChannelHub;
}

export interface WorkerOptions {
  /** Which module applies each kind (the wiring's). */
  readonly appliers: Appliers;
  /** What some kinds settle first (an exchange's rate). */
  readonly preparers?: Preparers;
  readonly limits?: Partial<WorkerLimits>;
  /** Milliseconds on a monotonic clock, for lease validity (tests move it on). */
  readonly clock?: () => number;
}

export interface OperationsModule {
  /** Every async use case's intake (`accept`), and the sync RPCs on operations. */
  readonly facade: OperationsFacade;
  /** The watches this process serves; undefined without `channels`. */
  readonly watcher: OperationWatcher | undefined;
  /**
   * Starts applying operations: takes this process's share of the partitions and keeps it.
   * Accepting in this process then wakes this worker at once and keeps pace with it.
   */
  startWorker(options: WorkerOptions): OperationsWorker;
  /** Stops the watches and closes the queues (stop the worker first). */
  close(): Promise<void>;
}

export function openOperations(deps: OperationsModuleDeps): OperationsModule {
  const { db, redis, redisUrl, partitions, logger } = deps;
  const queues = new PartitionQueues(redisUrl, logger);
  const feedHub = deps.channels && new FeedHub({ channels: deps.channels, origin: randomUUID(), logger });
  const feed = observedFeed(createStatusFeed({ redis, logger, ...(feedHub && { local: feedHub }) }), logger);
  let localWorker: LocalWorker | undefined;
  const facade = createOperationsFacade({ db, queues, feed, partitions, pageTokens: deps.pageTokens, localWorker: () => localWorker });
  const watcher = feedHub && createOperationWatcher({ feed: feedHub, read: createOperationReader(db.sql), logger });
  const unexport = exportQueueStats(db.sql, partitions);
  return {
    facade,
    watcher,
    startWorker(options) {
      const worker = new OperationsWorker({ db, redis, feed, redisUrl, queues, partitions, logger, ...options });
      worker.start();
      localWorker = worker;
      return worker;
    },
    async close() {
      unexport();
      await watcher?.close();
      feedHub?.close();
      await queues.close();
    },
  };
}
