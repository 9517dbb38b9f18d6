import { operationMetrics, transientKind, type Database, type Logger } from '@tally/platform';
import type { OperationChange } from '../feed/feed-events.js';
import { toOperation } from '../operation-store.js';
import type { OperationRow } from '../schema.js';
import type { QueuedOperation } from '../queue/partition-queues.js';
import { recordApplySpans } from './apply-spans.js';
import { applyHeld, prepareHeld, queueDepth, VACUUM_QUEUE_EVERY_OPS, vacuumQueue } from './apply-batch.js';
import type { Appliers, Preparers } from './appliers.js';
import { claimNext, countResumes, exhaust, heldByPartitions, LostOperationError, releaseHeld } from './held-operations.js';
import { backoffDelayMs, sleep, type BackoffPolicy } from './backoff.js';

/**
 * Applies the partitions a worker holds, in one loop: it drains them from PostgreSQL, oldest
 * operation first (each partition in its own acceptance order), a batch per transaction, so
 * per-ledger order holds however the queue delivered (or lost) its wake-ups. One loop for all
 * the partitions of a process, not one per partition: on a busy server its batches are large
 * and few, and each costs a handful of round trips whatever its size. A batch that fails
 * transiently is retried, with backoff, before anything later is touched.
 */

/** The longest one accept waits for the worker, whatever its backlog: flow control slows, never stops. */
export const MAX_ADMIT_WAIT_MS = 2_000;
/** While its claims come back full, the worker counts its backlog at most this often. */
const BACKLOG_CHECK_INTERVAL_MS = 250;

export interface ApplyLoopOptions {
  readonly db: Database;
  readonly appliers: Appliers;
  readonly preparers: Preparers;
  readonly logger: Logger;
  /** The worker's id: it claims only from partitions PostgreSQL says it owns (operations.partition_owner). */
  readonly owner: string;
  /** The partitions this worker holds right now. */
  readonly held: () => readonly number[];
  /** Publishes new operation states (and the balance changes they made) after they commit. */
  readonly publish: (changes: readonly OperationChange[]) => void;
  /** Wakes the partitions operations were handed to, after the hand-off committed. */
  readonly handOff: (handed: readonly QueuedOperation[]) => void;
  /** How many partitions there are: where a handed-off operation goes. */
  readonly partitions: number;
  readonly maxBatchOps: number;
  /**
   * Flow control: past this many operations waiting in the held partitions, accepting waits
   * for the worker (see caughtUp), so that under sustained overload the time from accepted to
   * applied stays bounded instead of growing with a backlog.
   */
  readonly maxBacklogOps: number;
  readonly backoff: BackoffPolicy;
}

export class ApplyLoop {
  private readonly log: Logger;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private again = false;
  private inFlight: Promise<unknown> | undefined;
  /**
   * Whether the held partitions may hold operations left PROCESSING (a previous holder died, a
   * batch of ours rolled back): looked for when partitions are taken, after a failure, and on
   * every sweep; not on every batch, when nothing can have left any.
   */
  private resumeNeeded = true;
  /** The next batch, claimed by the transaction that applied the previous one (see ClaimAhead). */
  private next: OperationRow[] = [];
  /** Operations waiting in the held partitions, as last counted; and accepts waiting for it to fall. */
  private backlog = 0;
  private backlogCheckedMs = 0;
  private backlogCounting = false;
  private admitWaiters: Array<() => void> = [];
  /** Operations ended since the work queue was last vacuumed, and the vacuum under way. */
  private endedSinceVacuum = 0;
  private vacuuming: Promise<void> | undefined;
  /**
   * Start time of the latest claim that took every PENDING operation it could see. A job queued
   * before that (so committed before it) was taken by that claim: it needs no drain. Clock skew
   * between processes can only make a job skip wrongly; the recovery sweep queues it again.
   */
  private drained = 0;

  constructor(private readonly options: ApplyLoopOptions) {
    this.log = options.logger.child({ component: 'worker' });
  }

  /** See `drained`: when the last claim that emptied the held partitions started (ms since the epoch). */
  get drainedAsOfMs(): number {
    return this.drained;
  }

  /**
   * Drains the held partitions; calls made while a drain runs make it go round once more, so
   * no wake-up is lost and concurrent wake-ups cost one drain.
   */
  drain(): Promise<void> {
    if (this.stopping.signal.aborted) return Promise.resolve();
    this.again = true;
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Resolves once the batch in hand (if any) has committed or rolled back: after a partition is
   * no longer listed by `held`, nothing of it is in flight any more.
   */
  async batchDone(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
  }

  /** Operations waiting in the held partitions, as last counted (0 when the last claim took them all). */
  get backlogOps(): number {
    return this.backlog;
  }

  /**
   * Resolves at once while the backlog is within `maxBacklogOps`, else once it falls back
   * within it, or after MAX_ADMIT_WAIT_MS.
   */
  caughtUp(): Promise<void> {
    if (this.backlog <= this.options.maxBacklogOps || this.stopping.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(admit, MAX_ADMIT_WAIT_MS);
      function admit(): void {
        clearTimeout(timer);
        resolve();
      }
      this.admitWaiters.push(admit);
    });
  }

  /** The backlog after a claim of `claimed` operations: all there was, or, when the claim was full, counted now and then. */
  private noteClaimed(claimed: number): void {
    if (claimed < this.options.maxBatchOps) return this.setBacklog(claimed);
    if (this.backlogCounting || Date.now() - this.backlogCheckedMs < BACKLOG_CHECK_INTERVAL_MS) return;
    this.backlogCounting = true;
    this.backlogCheckedMs = Date.now();
    queueDepth(this.options.db.sql, this.options.held())
      .then(
        (depth) => this.setBacklog(depth),
        (error: unknown) => this.log.debug({ err: String(error) }, 'could not count the backlog'),
      )
      .finally(() => {
        this.backlogCounting = false;
      });
  }

  private setBacklog(depth: number): void {
    this.backlog = depth;
    if (depth > this.options.maxBacklogOps) return;
    const waiters = this.admitWaiters;
    this.admitWaiters = [];
    for (const admit of waiters) admit();
  }

  /** The next drain first resumes what the held partitions left PROCESSING (a partition was taken, or may have been shared). */
  resume(): void {
    this.resumeNeeded = true;
  }

  /** Stops taking work, finishes the batch in hand (a retrying one, and one claimed ahead, are given back as PENDING). */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.setBacklog(0); // nobody waits for a worker that stops
    await this.running;
    const next = this.next;
    this.next = [];
    await this.giveBack(next);
    await this.vacuuming;
  }

  private async loop(): Promise<void> {
    while (this.again && !this.stopping.signal.aborted) {
      this.again = false;
      try {
        for (;;) {
          if (this.stopping.signal.aborted) return;
          const applied = await this.applyNextBatch();
          if (applied === 0) break;
        }
      } catch (error) {
        // Only an unexpected bug gets here (transient failures are retried below): log it loudly
        // and let the next wake-up (job or sweep) try again, from what was left PROCESSING.
        this.log.error({ err: error }, 'drain failed');
        this.resumeNeeded = true;
        await sleep(this.options.backoff.maxDelayMs, this.stopping.signal);
      }
    }
  }

  /** Applies the next batch; returns how many operations it finished. */
  private async applyNextBatch(): Promise<number> {
    const work = this.claimAndApply();
    this.inFlight = work;
    try {
      return await work;
    } finally {
      this.inFlight = undefined;
    }
  }

  private async claimAndApply(): Promise<number> {
    const { db, maxBatchOps } = this.options;
    const held = this.options.held();
    let batch = await this.takeClaimedAhead(held);
    if (held.length === 0) return 0;
    for (let outage = 1; batch.length === 0; outage++) {
      // Operations already PROCESSING in these partitions come first: a previous holder died, a
      // batch of ours rolled back, or a claim of ours committed with its answer lost; either way
      // they are older than anything still PENDING.
      if (this.resumeNeeded) {
        this.resumeNeeded = false;
        const left = await this.withConnectionRetry(() => heldByPartitions(db.sql, this.options.owner, held, maxBatchOps));
        if (left.length === maxBatchOps) this.resumeNeeded = true; // more may be left
        if (left.length > 0) this.log.info({ count: left.length }, 'resuming operations left PROCESSING');
        batch = await this.resumeLeft(left);
        if (batch.length > 0) break;
      }
      const startedMs = Date.now();
      try {
        batch = await claimNext(db.sql, { owner: this.options.owner, partitions: held, limit: maxBatchOps });
      } catch (error) {
        if (transientKind(error) === undefined || this.stopping.signal.aborted) throw error;
        // The claim may have committed and only its answer been lost (PostgreSQL went away
        // between the two): what it took is PROCESSING now. Claiming again would skip those and
        // take later ones, out of their ledgers' order: resume first (found by the chaos run).
        this.resumeNeeded = true;
        this.log.warn({ err: String(error), outage }, 'database unavailable while claiming; resuming what the claim may have taken first');
        await sleep(backoffDelayMs(Math.min(outage, 8), this.options.backoff), this.stopping.signal);
        continue;
      }
      if (batch.length < maxBatchOps) this.drained = startedMs;
      this.noteClaimed(batch.length);
      this.options.publish(batch.map((h) => ({ operation: toOperation(h) })));
      break;
    }
    if (batch.length === 0) return 0;
    // The system accounts this worker books against: a partition it holds, so no other worker
    // books on the same rows at the same time.
    await this.applyWithRetries(batch, Math.min(...held), 0, true);
    this.noteEnded(batch.length);
    return batch.length;
  }

  /**
   * What is left PROCESSING, resumed: each resume counts as a try (countResumes); an operation
   * already tried as often as the backoff policy allows ends FAILED RETRIES_EXHAUSTED instead.
   */
  private async resumeLeft(left: readonly OperationRow[]): Promise<OperationRow[]> {
    const { db, backoff } = this.options;
    const spent = left.filter((row) => row.attempts >= backoff.maxAttempts);
    for (const row of spent) {
      const failed = await this.withConnectionRetry(() => exhaust(db.sql, row, 1, `its worker stopped while applying it, ${row.attempts} times`));
      this.log.error({ operationId: row.id, attempts: row.attempts }, 'operation failed: every worker applying it stopped before it ended');
      this.options.publish([{ operation: failed }]);
    }
    const counted = await this.withConnectionRetry(() => countResumes(db.sql, this.options.owner, left.filter((row) => !spent.includes(row))));
    this.options.publish(counted.map((row) => ({ operation: toOperation(row) })));
    return counted;
  }

  /**
   * The batch the previous transaction claimed, but only for partitions still held: operations
   * of a partition given up since are handed back (PENDING) for its next holder.
   */
  private async takeClaimedAhead(held: readonly number[]): Promise<OperationRow[]> {
    const next = this.next;
    this.next = [];
    if (next.length === 0) return next;
    const holding = new Set(held);
    const mine = next.filter((h) => holding.has(h.partition));
    if (mine.length < next.length) await this.giveBack(next.filter((h) => !holding.has(h.partition)));
    return mine;
  }

  /** Vacuums the work queue now and then, beside the loop (see VACUUM_QUEUE_EVERY_OPS). */
  private noteEnded(count: number): void {
    this.endedSinceVacuum += count;
    if (this.endedSinceVacuum < VACUUM_QUEUE_EVERY_OPS || this.vacuuming !== undefined) return;
    this.endedSinceVacuum = 0;
    this.vacuuming = vacuumQueue(this.options.db.sql)
      .catch((error: unknown) => this.log.warn({ err: String(error) }, 'could not vacuum the work queue; autovacuum will'))
      .finally(() => {
        this.vacuuming = undefined;
      });
  }

  /** With `claimAhead`, the transaction also claims the next batch (not when the batch is retried alone, nor when stopping). */
  private async applyWithRetries(held: readonly OperationRow[], shard: number, earlierTries: number, claimAhead = false): Promise<void> {
    const { db, appliers, preparers, backoff, partitions } = this.options;
    // Preparing moves versions on: the batch is always the operations as last written.
    let batch = held;
    let tries = 0;
    let outages = 0;
    for (;;) {
      if (this.stopping.signal.aborted) return this.giveBack(batch);
      try {
        const prepared = await prepareHeld(db.sql, batch, preparers);
        batch = prepared.batch;
        this.options.publish(prepared.prepared.map((operation) => ({ operation })));
        // Not while a partition may hold operations left PROCESSING (one was just taken): those
        // go first, or a ledger's later operation could be applied before its earlier one.
        const ahead =
          claimAhead && !this.resumeNeeded && !this.stopping.signal.aborted ? { owner: this.options.owner, partitions: this.options.held(), limit: this.options.maxBatchOps } : undefined;
        const sentMs = Date.now();
        const done = await applyHeld(db.sql, batch, appliers, shard, earlierTries + tries, partitions, ahead);
        operationMetrics.applyBatchSize.observe(batch.length);
        recordApplySpans(batch, done.changes, sentMs);
        this.options.publish(done.changes);
        this.options.handOff(done.handedOff);
        if (ahead) {
          this.next = done.claimed;
          if (done.claimed.length < ahead.limit) this.drained = sentMs;
          this.noteClaimed(done.claimed.length);
          this.options.publish(done.claimed.map((h) => ({ operation: toOperation(h) })));
        }
        return;
      } catch (error) {
        if (error instanceof LostOperationError) {
          // Someone else changed an operation we held: never apply over them. The rollback undid
          // this batch; the next drain re-reads the truth.
          this.log.error({ err: error.message }, 'lost an operation while applying; batch rolled back');
          this.resumeNeeded = true;
          return;
        }
        if (transientKind(error) === 'CONNECTION') {
          // PostgreSQL is away: nothing can progress or be recorded; wait, without spending retries.
          outages++;
          this.log.warn({ err: String(error), outages }, 'database unavailable; retrying the batch');
          await sleep(backoffDelayMs(Math.min(outages, 8), backoff), this.stopping.signal);
          continue;
        }
        tries++;
        const conflict = transientKind(error) === 'CONFLICT';
        this.log.warn({ err: String(error), tries, ops: batch.length, conflict }, 'batch failed; retrying');
        // A conflict is the batch's bad luck: retry it whole. Anything else is likely one
        // operation's fault: find it by applying one at a time, each with its own retries.
        if (batch.length > 1 && (!conflict || tries >= backoff.maxAttempts)) {
          for (const one of batch) await this.applyWithRetries([one], shard, earlierTries + tries);
          return;
        }
        if (tries >= backoff.maxAttempts) {
          const [only] = batch as [OperationRow];
          const failed = await this.withConnectionRetry(() => exhaust(db.sql, only, earlierTries + tries, error));
          this.log.error({ operationId: only.id, err: String(error) }, 'operation failed: retries exhausted');
          this.options.publish([{ operation: failed }]);
          return;
        }
        await sleep(backoffDelayMs(tries, backoff), this.stopping.signal);
      }
    }
  }

  /** On stop: hand the batch back as PENDING for the next holder (best effort; if the database is away, the next holder resumes them). */
  private async giveBack(batch: readonly OperationRow[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      const released = await releaseHeld(this.options.db.sql, batch);
      this.options.publish(released.map((operation) => ({ operation })));
    } catch (error) {
      this.log.warn({ err: String(error), ops: batch.length }, 'could not release operations on stop; the next holder resumes them');
    }
  }

  /** Retries `step` while PostgreSQL is unreachable (until stopping); other errors propagate. */
  private async withConnectionRetry<T>(step: () => Promise<T>): Promise<T> {
    for (let outage = 1; ; outage++) {
      try {
        return await step();
      } catch (error) {
        if (transientKind(error) === undefined || this.stopping.signal.aborted) throw error;
        this.log.warn({ err: String(error), outage }, 'database unavailable; retrying');
        await sleep(backoffDelayMs(Math.min(outage, 8), this.options.backoff), this.stopping.signal);
      }
    }
  }
}
