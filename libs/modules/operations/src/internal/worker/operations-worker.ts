import { randomUUID } from 'node:crypto';
import { scraped, type Database, type Logger, type Redis } from '@tally/platform';
import type { OperationChange } from '../feed/feed-events.js';
import type { StatusFeed } from '../feed/status-feed.js';
import type { PartitionQueues, QueuedOperation } from '../queue/partition-queues.js';
import type { Appliers, Preparers } from './appliers.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { pendingForSweep, pruneEnded } from './maintenance.js';
import BeeQueue from 'bee-queue';
import { queueName, queueSettings, type PartitionJob } from '../queue/partition-queues.js';
import type { LocalWorker } from '../facade.js';
import { ApplyLoop } from './apply-loop.js';
import { takePartition } from './held-operations.js';
import { DEFAULT_LEASE_POLICY, PartitionLease, type LeasePolicy } from './partition-lease.js';

/**
 * A worker process's share of the partitions. Every worker heartbeats into a registry in
 * Redis; each takes leases on up to its fair share (partitions / live workers), renews them,
 * and hands back what it holds beyond its share when workers join. It consumes the queue of
 * each partition it holds (a job wakes it up), applies them all in one loop (see ApplyLoop),
 * and sweeps and prunes them.
 */

export interface WorkerLimits {
  /** Operations applied per database transaction (by one apply loop, its partitions together). */
  readonly maxBatchOps: number;
  /**
   * Apply loops of one worker, each over its share of the held partitions (partition mod
   * loops): two keep PostgreSQL busy while the worker works out the next batch.
   */
  readonly applyLoops: number;
  /** Operations waiting in one loop's partitions past which accepting waits for it (see ApplyLoop). */
  readonly maxBacklogOps: number;
  readonly lease: LeasePolicy;
  readonly backoff: BackoffPolicy;
  /** How often the recovery sweep runs. */
  readonly sweepIntervalMs: number;
  /** A PENDING operation this old is assumed to have lost its queue entry. */
  readonly sweepAfterMs: number;
  /** Results and failure reasons are kept this long after an operation ends. */
  readonly retentionMs: number;
  readonly pruneIntervalMs: number;
  /** How long stop() waits for batches in hand. */
  readonly stopGraceMs: number;
}

export const DEFAULT_WORKER_LIMITS: WorkerLimits = {
  maxBatchOps: 500,
  applyLoops: 2,
  maxBacklogOps: 10_000,
  lease: DEFAULT_LEASE_POLICY,
  backoff: DEFAULT_BACKOFF,
  sweepIntervalMs: 5_000,
  sweepAfterMs: 1_000,
  retentionMs: 7 * 24 * 3_600_000,
  pruneIntervalMs: 3_600_000,
  stopGraceMs: 10_000,
};

export interface OperationsWorkerOptions {
  readonly db: Database;
  /** For leases and the registry. */
  readonly redis: Redis;
  /** Where committed changes go for watchers. */
  readonly feed: StatusFeed;
  /** For the bee-queue consumers (they open their own connections). */
  readonly redisUrl: string;
  readonly queues: PartitionQueues;
  readonly partitions: number;
  readonly appliers: Appliers;
  /** What some kinds settle before they are applied (an exchange's rate); none by default. */
  readonly preparers?: Preparers;
  readonly logger: Logger;
  readonly limits?: Partial<WorkerLimits>;
  /** Milliseconds on a monotonic clock, for lease validity (tests move it on). */
  readonly clock?: () => number;
}

const REGISTRY_KEY = 'tally:workers';
/** Jobs queued this close to a drain's start still get a drain of their own. */
const CLOCK_SKEW_MARGIN_MS = 50;

export class OperationsWorker implements LocalWorker {
  readonly workerId = `worker-${randomUUID()}`;
  private readonly limits: WorkerLimits;
  private readonly lease: PartitionLease;
  /** The partitions held, each with the consumer of its queue. */
  private readonly held = new Map<number, BeeQueue<PartitionJob>>();
  /** Stops reporting tally_partitions_held (set by start). */
  private unexport: () => void = () => undefined;
  /**
   * Until when (on `clock`) each held lease is surely still ours: the time its last acquire or
   * renewal was sent, plus the lease's TTL, minus one renewal interval. Redis cannot expire it
   * before then, so no other worker can have taken the partition. A worker stalled past it (a
   * starved process, a Redis that does not answer) stops claiming the partition until a renewal
   * succeeds, instead of applying it beside the worker that took it over, out of order.
   */
  private readonly leaseSureUntil = new Map<number, number>();
  private readonly clock: () => number;
  private readonly loops: ApplyLoop[];
  private readonly log: Logger;
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private rebalancing: Promise<void> | undefined;

  constructor(private readonly options: OperationsWorkerOptions) {
    this.limits = { ...DEFAULT_WORKER_LIMITS, ...options.limits };
    this.clock = options.clock ?? (() => performance.now());
    this.lease = new PartitionLease(options.redis, this.workerId, this.limits.lease);
    this.log = options.logger.child({ component: 'worker', workerId: this.workerId });
    const loops = this.limits.applyLoops;
    if (!Number.isSafeInteger(loops) || loops < 1) throw new Error(`applyLoops must be a positive integer, got ${loops}`);
    const { leaseTtlMs, renewIntervalMs } = this.limits.lease;
    if (!(renewIntervalMs > 0 && renewIntervalMs < leaseTtlMs)) {
      throw new Error(`a lease must be renewed within its TTL (renewIntervalMs ${renewIntervalMs}, leaseTtlMs ${leaseTtlMs})`);
    }
    this.loops = Array.from(
      { length: loops },
      (_, i) =>
        new ApplyLoop({
          db: options.db,
          appliers: options.appliers,
          preparers: options.preparers ?? {},
          logger: this.log,
          owner: this.workerId,
          held: () => this.heldPartitions.filter((p) => p % loops === i && this.leaseSure(p)),
          publish: (changes) => this.publish(changes),
          handOff: (handed) => this.handOff(handed),
          partitions: options.partitions,
          maxBatchOps: this.limits.maxBatchOps,
          maxBacklogOps: this.limits.maxBacklogOps,
          backoff: this.limits.backoff,
        }),
    );
  }

  /** The loop applying `partition`. */
  private loopOf(partition: number): ApplyLoop {
    return this.loops[partition % this.loops.length]!;
  }

  /** Drains the loops of these partitions. */
  private drainPartitions(partitions: Iterable<number>): void {
    for (const loop of new Set([...partitions].map((p) => this.loopOf(p)))) void loop.drain();
  }

  /** The partitions this worker holds (it claims from those whose lease is sure, see leaseSureUntil). */
  get heldPartitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  private leaseSure(partition: number): boolean {
    return this.clock() < (this.leaseSureUntil.get(partition) ?? Number.NEGATIVE_INFINITY);
  }

  private leaseSent(partition: number, sentAt: number): void {
    const { leaseTtlMs, renewIntervalMs } = this.limits.lease;
    this.leaseSureUntil.set(partition, sentAt + leaseTtlMs - renewIntervalMs);
  }

  start(): void {
    const every = (ms: number, task: () => Promise<unknown>, what: string) => {
      const run = () => void task().catch((error: unknown) => this.log.warn({ err: String(error) }, `${what} failed; will retry`));
      this.timers.push(setInterval(run, ms));
      run();
    };
    every(this.limits.lease.renewIntervalMs, () => this.rebalance(), 'lease round');
    every(this.limits.sweepIntervalMs, () => this.sweep(), 'recovery sweep');
    every(this.limits.pruneIntervalMs, () => this.prune(), 'retention');
    this.unexport = scraped.partitionsHeld.onScrape(() => [[{}, this.held.size]]);
    this.log.info({ partitions: this.options.partitions }, 'worker started');
  }

  /** Publishes committed operation states for watchers; a lost message is recovered by their resync. */
  private readonly publish = (changes: readonly OperationChange[]): void => this.options.feed.publish(changes);

  /**
   * Wakes the partitions that operations were handed to (a transfer's credit, in its target
   * ledger's partition): directly when this worker holds it, through its queue otherwise. Best
   * effort: the recovery sweep queues whatever this misses.
   */
  private readonly handOff = (handed: readonly QueuedOperation[]): void => {
    if (handed.length === 0) return;
    const partitions = new Set(handed.map((h) => h.partition));
    this.options.queues.announce(partitions, new Set(this.wakePartitions([...partitions])));
  };

  /** One lease round: heartbeat, renew what is held, take or give back to reach the fair share. */
  rebalance(): Promise<void> {
    this.rebalancing ??= this.leaseRound().finally(() => {
      this.rebalancing = undefined;
    });
    return this.rebalancing;
  }

  private async leaseRound(): Promise<void> {
    if (this.stopped) return;
    const { redis, partitions } = this.options;
    const now = Date.now();
    const ttl = this.limits.lease.leaseTtlMs;
    await redis
      .multi()
      .zadd(REGISTRY_KEY, now, this.workerId)
      .zremrangebyscore(REGISTRY_KEY, '-inf', now - ttl)
      .pexpire(REGISTRY_KEY, ttl * 10)
      .exec();
    const live = Math.max(1, await redis.zcount(REGISTRY_KEY, now - ttl, '+inf'));
    const share = Math.ceil(partitions / live);

    for (const partition of [...this.held.keys()]) {
      const sentAt = this.clock();
      if (!(await this.lease.renew(partition).catch(() => false))) {
        this.log.warn({ partition }, 'lease lost; stopping the partition');
        await this.drop(partition, false);
        continue;
      }
      const lapsed = !this.leaseSure(partition);
      this.leaseSent(partition, sentAt);
      if (lapsed) {
        // Claims stopped while the lease was unsure; what was left PROCESSING goes first.
        this.log.warn({ partition }, 'lease renewed late; applying the partition again');
        this.loopOf(partition).resume();
        void this.loopOf(partition).drain();
      }
    }
    // Give back beyond the fair share, highest first, so joining workers find partitions free.
    for (const partition of this.heldPartitions.reverse().slice(0, Math.max(0, this.held.size - share))) {
      this.log.info({ partition, share }, 'handing the partition back');
      await this.drop(partition, true);
    }
    // Start looking at a worker-specific offset so workers do not all race for partition 0.
    const offset = Number.parseInt(this.workerId.slice(-4), 16) % partitions;
    for (let i = 0; i < partitions && this.held.size < share && !this.stopped; i++) {
      const partition = (offset + i) % partitions;
      const sentAt = this.clock();
      if (this.held.has(partition) || !(await this.lease.acquire(partition))) continue;
      // The fence in PostgreSQL (operations-0011): from here on the previous holder's claims
      // take nothing, and what its claims in flight took is PROCESSING, resumed first below.
      const taken = await takePartition(this.options.db.sql, partition, this.workerId).then(
        () => true,
        (error: unknown) => {
          this.log.warn({ partition, err: String(error) }, 'could not record the partition as ours; giving its lease back');
          return false;
        },
      );
      if (!taken) {
        await this.lease.release(partition).catch(() => undefined);
        continue;
      }
      this.leaseSent(partition, sentAt);
      this.held.set(partition, this.consume(partition));
      this.loopOf(partition).resume();
      void this.loopOf(partition).drain();
      this.log.info({ partition }, 'partition taken');
    }
  }

  /** One job at a time per partition: each wakes the loop, unless a drain that started after it was queued already took its operations. */
  private consume(partition: number): BeeQueue<PartitionJob> {
    const queue = new BeeQueue<PartitionJob>(queueName(partition), queueSettings(this.options.redisUrl, true));
    queue.on('error', (error) => this.log.debug({ err: error.message, partition }, 'queue connection error'));
    const loop = this.loopOf(partition);
    queue.process(1, (job) => (job.data.queuedAtMs < loop.drainedAsOfMs - CLOCK_SKEW_MARGIN_MS ? Promise.resolve() : loop.drain()));
    return queue;
  }

  /** Stops applying the partition; with `release`, once nothing of it is in flight, gives its lease back. */
  private async drop(partition: number, release: boolean): Promise<void> {
    const queue = this.held.get(partition);
    this.held.delete(partition);
    this.leaseSureUntil.delete(partition);
    await Promise.allSettled([queue?.close(this.limits.stopGraceMs), this.loopOf(partition).batchDone()]);
    if (release) await this.lease.release(partition).catch(() => undefined);
  }

  /** Re-enqueues PENDING operations of held partitions whose queue entry may be gone. */
  async sweep(): Promise<number> {
    const held = this.heldPartitions;
    // Also look again for operations left PROCESSING (a worker that shared a partition by mistake, and died).
    for (const loop of this.loops) loop.resume();
    const pending = await pendingForSweep(this.options.db.em(), held, this.limits.sweepAfterMs);
    if (pending.length === 0) return 0;
    await this.options.queues.enqueue(pending.map((p) => p.partition));
    const count = pending.reduce((sum, p) => sum + p.count, 0);
    this.log.info({ count, partitions: pending.map((p) => p.partition) }, 'recovery sweep queued partitions with waiting operations');
    return count;
  }

  async prune(): Promise<number> {
    const count = await pruneEnded(this.options.db.em(), this.heldPartitions, this.limits.retentionMs);
    if (count > 0) this.log.info({ count }, 'retention pruned ended operations');
    return count;
  }

  /**
   * Drains every held partition now, without waiting for a job or the sweep (tests use it to race
   * workers); resolves once a drain that started after the call has run.
   */
  async wake(): Promise<void> {
    await Promise.all(this.loops.map((loop) => loop.drain()));
  }

  /** The held partitions this worker claims from now: those whose lease is sure (see leaseSureUntil). */
  get applyingPartitions(): number[] {
    return this.heldPartitions.filter((p) => this.leaseSure(p));
  }

  /** Resolves when this worker's backlog is within bounds (see ApplyLoop.caughtUp). */
  caughtUp(): Promise<void> {
    return Promise.all(this.loops.map((loop) => loop.caughtUp())).then(() => undefined);
  }

  /** Drains now if this worker holds any of these partitions (work accepted by this very process); answers those it holds. */
  wakePartitions(partitions: readonly number[]): number[] {
    const held = partitions.filter((p) => this.held.has(p));
    this.drainPartitions(held);
    return held;
  }

  /** Stops taking work, finishes or gives back what is in hand, releases every lease. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unexport();
    for (const timer of this.timers) clearInterval(timer);
    await this.rebalancing;
    await Promise.all(this.loops.map((loop) => loop.stop()));
    await Promise.allSettled(this.heldPartitions.map((p) => this.drop(p, true)));
    await this.options.redis.zrem(REGISTRY_KEY, this.workerId).catch(() => undefined);
    this.log.info('worker stopped');
  }
}
