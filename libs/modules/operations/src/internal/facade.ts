import { Coalescer, notFound, TallyError, transientKind, type Database, type Logger } from '@tally/platform';
import { acceptOperations, MAX_ACCEPT_BATCH, type AcceptOutcome, type OperationSpec } from './accept.js';
import { cancelOperation } from './cancel-operation.js';
import type { StatusFeed } from './feed/status-feed.js';
import { createOperationReader } from './operation-store.js';
import type { PartitionQueues, QueuedOperation } from './queue/partition-queues.js';
import { listOperations, validateOperationId } from './read-operations.js';
import { listRequeueable, requeueOperation } from './requeue.js';
import type { ListOperationsInput, Operation } from './types.js';

export interface OperationsFacade {
  getOperation(operationId: string): Promise<Operation>;
  listOperations(input: ListOperationsInput): Promise<{ items: Operation[]; nextPageToken: string }>;
  cancelOperation(operationId: string): Promise<Operation>;
  /**
   * Records validated requests as PENDING operations (committed before this resolves) and
   * queues them; one outcome per spec, in order. Submits that arrive while a commit is in
   * flight go together in the next one (group commit).
   */
  accept(specs: readonly OperationSpec[]): Promise<AcceptOutcome[]>;
  /** Puts an operation that FAILED RETRIES_EXHAUSTED back to PENDING and queues it. */
  requeue(operationId: string): Promise<Operation>;
  /** Operations FAILED RETRIES_EXHAUSTED, oldest first: what operators may requeue. */
  listRequeueable(limit: number): Promise<Operation[]>;
}

export interface OperationsDeps {
  readonly db: Database;
  readonly queues: PartitionQueues;
  /** Where committed changes go for watchers. */
  readonly feed: StatusFeed;
  readonly partitions: number;
  readonly logger: Logger;
  /** Wakes this process's own worker for the partitions that just got work (TALLY_ROLE=all). */
  readonly wake?: (partitions: readonly number[]) => void;
}

/** How long an accept waits for Redis before answering anyway; the sweep queues what is missing. */
export const ENQUEUE_TIMEOUT_MS = 1_000;
/** Most operations one accepting transaction records (several submits' worth). */
export const MAX_ACCEPT_GROUP_OPS = 2_000;
/** Most operations waiting for the next accepting transaction; past it submits are shed. */
export const MAX_ACCEPT_WAITING_OPS = 20_000;

/** An accepted group's outcomes, and its queueing in Redis (which never fails the submit). */
interface Accepted {
  readonly outcome: AcceptOutcome;
  readonly queued: Promise<void>;
}

export function createOperationsFacade(deps: OperationsDeps): OperationsFacade {
  const log = deps.logger.child({ component: 'operations' });

  /** Queues PENDING operations; never fails the request, which is already committed. */
  async function enqueue(items: readonly QueuedOperation[]): Promise<void> {
    if (items.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        deps.queues.enqueue(items),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Redis took over ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      log.warn({ err: String(error), count: items.length }, 'accepted operations not queued yet; the recovery sweep will queue them');
    } finally {
      clearTimeout(timer);
    }
  }

  /** One transaction for the group, then one wake-up per partition and one feed message. */
  async function acceptGroup(specs: readonly OperationSpec[]): Promise<Accepted[]> {
    const outcomes = await acceptOperations(deps.db.sql, specs, deps.partitions);
    const waiting: QueuedOperation[] = [];
    const created: Operation[] = [];
    for (const o of outcomes) {
      if (!o.ok) continue;
      // A resubmission of an operation still PENDING queues it again too: harmless (a queue
      // entry only wakes the partition), and a client's retry then also heals a lost entry.
      if (o.operation.status === 'PENDING') waiting.push({ operationId: o.operation.id, ledgerId: o.operation.ledgerId, partition: o.partition, seq: o.seq });
      if (o.created) created.push(o.operation);
    }
    deps.wake?.([...new Set(waiting.map((w) => w.partition))]);
    deps.feed.publish(created.map((operation) => ({ operation })));
    const queued = enqueue(waiting);
    return outcomes.map((outcome) => ({ outcome, queued }));
  }

  const accepting = new Coalescer<OperationSpec, Accepted>({
    run: acceptGroup,
    maxBatchItems: MAX_ACCEPT_GROUP_OPS,
    maxWaitingItems: MAX_ACCEPT_WAITING_OPS,
    overloaded: () =>
      new TallyError('RESOURCE_EXHAUSTED', `the server has ${MAX_ACCEPT_WAITING_OPS} operations waiting to be recorded; retry shortly`, {
        reason: 'ACCEPT_QUEUE_FULL',
        metadata: { max_waiting_ops: String(MAX_ACCEPT_WAITING_OPS) },
      }),
    // One submit's bad row (a bug: requests are checked before) must not fail the others with it.
    retryAlone: (error) => transientKind(error) === undefined,
  });

  const read = createOperationReader(deps.db.sql);

  return {
    async getOperation(id) {
      const operation = await read(validateOperationId(id));
      if (!operation) throw notFound('operation', id);
      return operation;
    },
    listOperations: (input) => listOperations(deps.db.em(), input),
    async cancelOperation(id) {
      const cancelled = await cancelOperation(deps.db.em(), id);
      deps.feed.publish([{ operation: cancelled }]);
      return cancelled;
    },
    async accept(specs) {
      if (specs.length > MAX_ACCEPT_BATCH) throw new Error(`accept batch of ${specs.length} exceeds ${MAX_ACCEPT_BATCH}`);
      const accepted = await accepting.submit(specs);
      await accepted[0]?.queued;
      return accepted.map((a) => a.outcome);
    },
    async requeue(id) {
      const requeued = await requeueOperation(deps.db.em(), id);
      await enqueue([{ operationId: requeued.operation.id, ledgerId: requeued.operation.ledgerId, partition: requeued.partition, seq: requeued.seq, stage: requeued.stage }]);
      deps.feed.publish([{ operation: requeued.operation }]);
      return requeued.operation;
    },
    listRequeueable: (limit) => listRequeueable(deps.db.em(), limit),
  };
}
