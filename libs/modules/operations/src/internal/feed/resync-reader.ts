import type { Database, Logger } from '@tally/platform';
import { toOperation } from '../operation-store.js';
import { OperationEntity } from '../schema.js';
import type { Operation } from '../types.js';

/**
 * Reads the current state of operations for watches that must catch up. Thousands of watches
 * resync on the same interval, and all of them at once after Redis reconnects: requests that
 * arrive within a few milliseconds share one query (`id in (...)`) instead of taking one
 * pooled connection each, which would starve the requests that move money.
 */

/** How long the first request of a batch waits for others to join it. */
const RESYNC_BATCH_WINDOW_MS = 5;
/** Ids per query: keeps each statement and its result small. */
const MAX_IDS_PER_RESYNC_QUERY = 500;

type Load = (ids: readonly string[]) => Promise<readonly Operation[]>;

interface Waiter {
  resolve(operation: Operation | undefined): void;
  reject(error: unknown): void;
}

export class ResyncReader {
  #waiting = new Map<string, Waiter[]>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly load: Load,
    private readonly logger: Logger,
  ) {}

  static forDatabase(db: Database, logger: Logger): ResyncReader {
    return new ResyncReader(async (ids) => {
      // Pruned operations are gone, as getOperation sees them.
      const rows = await db.em().find(OperationEntity, { id: { $in: [...ids] }, prunedTime: null });
      return rows.map(toOperation);
    }, logger);
  }

  /** The operation as PostgreSQL has it now; `undefined` when there is no such operation. */
  latest(operationId: string): Promise<Operation | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.#waiting.get(operationId);
      if (waiters === undefined) this.#waiting.set(operationId, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
      if (this.#timer === undefined) this.#timer = setTimeout(() => this.#flush(), RESYNC_BATCH_WINDOW_MS);
    });
  }

  #flush(): void {
    this.#timer = undefined;
    const batch = this.#waiting;
    this.#waiting = new Map();
    const ids = [...batch.keys()];
    for (let start = 0; start < ids.length; start += MAX_IDS_PER_RESYNC_QUERY) {
      const chunk = ids.slice(start, start + MAX_IDS_PER_RESYNC_QUERY);
      this.load(chunk).then(
        (operations) => {
          const byId = new Map(operations.map((op) => [op.id, op]));
          for (const id of chunk) for (const waiter of batch.get(id) ?? []) waiter.resolve(byId.get(id));
        },
        (error: unknown) => {
          // Logged once per query, not once per watch: during an outage that is thousands.
          this.logger.warn({ err: String(error), operations: chunk.length }, 'resync read failed; watches retry later');
          for (const id of chunk) for (const waiter of batch.get(id) ?? []) waiter.reject(error);
        },
      );
    }
  }
}
