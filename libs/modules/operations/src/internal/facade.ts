import type { Database, Logger, Redis } from '@tally/platform';
import { acceptOperations, type AcceptOutcome, type OperationSpec } from './accept.js';
import { cancelOperation } from './cancel-operation.js';
import { publishOperations } from './feed/feed-events.js';
import type { PartitionQueues } from './queue/partition-queues.js';
import { getOperation, listOperations } from './read-operations.js';
import { listRequeueable, requeueOperation } from './requeue.js';
import type { ListOperationsInput, Operation } from './types.js';

export interface OperationsFacade {
  getOperation(operationId: string): Promise<Operation>;
  listOperations(input: ListOperationsInput): Promise<{ items: Operation[]; nextPageToken: string }>;
  cancelOperation(operationId: string): Promise<Operation>;
  /**
   * Records validated requests as PENDING operations (committed before this resolves) and
   * queues them; one outcome per spec, in order.
   */
  accept(specs: readonly OperationSpec[]): Promise<AcceptOutcome[]>;
  /** Puts an operation that FAILED RETRIES_EXHAUSTED back to PENDING and queues it. */
  requeue(operationId: string): Promise<Operation>;
  /** Operations FAILED RETRIES_EXHAUSTED, oldest first: what operators may requeue. */
  listRequeueable(limit: number): Promise<Operation[]>;
}

export interface OperationsDeps {
  readonly db: Database;
  /** Publishing status changes for watchers. */
  readonly redis: Redis;
  readonly queues: PartitionQueues;
  readonly partitions: number;
  readonly logger: Logger;
}

/** How long an accept waits for Redis before answering anyway; the sweep queues what is missing. */
export const ENQUEUE_TIMEOUT_MS = 1_000;

interface Queueable {
  readonly operation: Operation;
  readonly partition: number;
  readonly seq: string;
  readonly stage?: number;
}

export function createOperationsFacade(deps: OperationsDeps): OperationsFacade {
  const log = deps.logger.child({ component: 'operations' });

  /** Queues PENDING operations; never fails the request, which is already committed. */
  async function enqueue(items: readonly Queueable[]): Promise<void> {
    // A later stage in flight shows PROCESSING but waits in its partition like a PENDING one.
    const pending = items.filter((i) => i.operation.status === 'PENDING' || (i.stage ?? 0) > 0);
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        deps.queues.enqueue(
          pending.map(({ operation, partition, seq, stage }) => ({ operationId: operation.id, ledgerId: operation.ledgerId, partition, seq, stage })),
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Redis took over ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      log.warn({ err: String(error), count: pending.length }, 'accepted operations not queued yet; the recovery sweep will queue them');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Tells watchers; pub/sub is best effort, watchers resync from PostgreSQL. */
  function announce(operations: readonly Operation[]): void {
    if (operations.length === 0) return;
    publishOperations(deps.redis, operations.map((operation) => ({ operation }))).catch(
      (error: unknown) => log.debug({ err: String(error) }, 'could not publish operation changes'),
    );
  }

  return {
    getOperation: (id) => getOperation(deps.db.em(), id),
    listOperations: (input) => listOperations(deps.db.em(), input),
    async cancelOperation(id) {
      const cancelled = await cancelOperation(deps.db.em(), id);
      announce([cancelled]);
      return cancelled;
    },
    async accept(specs) {
      const outcomes = await acceptOperations(deps.db.em(), specs, deps.partitions);
      const accepted = outcomes.flatMap((o) => (o.ok ? [o] : []));
      // A resubmission of an operation still PENDING queues it again too: harmless (queueing
      // is idempotent by operation id), and a client's retry then also heals a lost queue entry.
      await enqueue(accepted);
      announce(accepted.filter((o) => o.created).map((o) => o.operation));
      return outcomes;
    },
    async requeue(id) {
      const requeued = await requeueOperation(deps.db.em(), id);
      await enqueue([requeued]);
      announce([requeued.operation]);
      return requeued.operation;
    },
    listRequeueable: (limit) => listRequeueable(deps.db.em(), limit),
  };
}
