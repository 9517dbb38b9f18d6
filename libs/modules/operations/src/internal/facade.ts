import { Coalescer, isVisibleTo, notFound, TallyError, transientKind, type Database, type PageTokens, type TenantScope } from '@tally/platform';
import { endedOperations, inFlight, type AuditedOperation } from './audit-view.js';
import { acceptOperations, MAX_ACCEPT_BATCH, type AcceptOutcome, type OperationSpec } from './accept.js';
import { cancelOperation } from './cancel-operation.js';
import type { StatusFeed } from './feed/status-feed.js';
import { createOperationReader } from './operation-store.js';
import type { PartitionQueues } from './queue/partition-queues.js';
import { listOperations, validateOperationId } from './read-operations.js';
import { listRequeueable, requeueOperation } from './requeue.js';
import type { ListOperationsInput, Operation } from './types.js';

export interface OperationsFacade {
  /** Throws NOT_FOUND for an unknown operation and for another tenant's. */
  getOperation(operationId: string, scope: TenantScope): Promise<Operation>;
  listOperations(input: ListOperationsInput): Promise<{ items: Operation[]; nextPageToken: string }>;
  /** Cancels a PENDING operation; NOT_FOUND as getOperation. */
  cancelOperation(operationId: string, scope: TenantScope): Promise<Operation>;
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
  /** For `npm run audit`: ended operations after `afterSeq` ('0' first), a page at a time, in acceptance order. */
  endedOperations(afterSeq: string, limit: number): Promise<{ items: AuditedOperation[]; next: string | undefined }>;
  /** For `npm run audit`: operations in flight, and those of them no work queue lists. */
  inFlight(): Promise<{ inFlight: number; unqueued: number }>;
}

export interface OperationsDeps {
  readonly db: Database;
  readonly queues: PartitionQueues;
  /** Where committed changes go for watchers. */
  readonly feed: StatusFeed;
  readonly partitions: number;
  readonly pageTokens: PageTokens;
  /** This process's own worker (TALLY_ROLE=all), once it runs. */
  readonly localWorker?: () => LocalWorker | undefined;
}

/** What accepting asks of a worker in the same process. */
export interface LocalWorker {
  /** Drains these partitions now if it holds them; answers those it holds. */
  wakePartitions(partitions: readonly number[]): readonly number[];
  /**
   * Resolves when its backlog is within bounds (or after a while regardless): accepting waits
   * for the worker rather than piling up work it cannot apply (see ApplyLoop.caughtUp).
   */
  caughtUp(): Promise<void>;
}

/** Most operations one accepting transaction records (several submits' worth). */
export const MAX_ACCEPT_GROUP_OPS = 2_000;
/** Most operations waiting for the next accepting transaction; past it submits are shed. */
export const MAX_ACCEPT_WAITING_OPS = 20_000;

export function createOperationsFacade(deps: OperationsDeps): OperationsFacade {
  /**
   * Tells the partitions they have work: this process's worker at once when it holds them, and
   * the partition queues (see PartitionQueues.wake). Never fails the request, which is already
   * committed: what Redis does not take, the recovery sweep queues.
   */
  function wake(partitions: ReadonlySet<number>): void {
    if (partitions.size === 0) return;
    deps.queues.announce(partitions, new Set(deps.localWorker?.()?.wakePartitions([...partitions]) ?? []));
  }

  /** One transaction for the group, then its wake-ups and one feed message. */
  async function acceptGroup(specs: readonly OperationSpec[]): Promise<AcceptOutcome[]> {
    await deps.localWorker?.()?.caughtUp();
    const outcomes = await acceptOperations(deps.db.sql, specs, deps.partitions);
    const waiting = new Set<number>();
    const created: Operation[] = [];
    for (const o of outcomes) {
      if (!o.ok) continue;
      // A resubmission of an operation still PENDING wakes its partition again: harmless, and a
      // client's retry then also heals a lost wake-up.
      if (o.operation.status === 'PENDING') waiting.add(o.partition);
      if (o.created) created.push(o.operation);
    }
    wake(waiting);
    deps.feed.publish(created.map((operation) => ({ operation })));
    return outcomes;
  }

  const accepting = new Coalescer<OperationSpec, AcceptOutcome>({
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

  async function getOperation(id: string, scope: TenantScope): Promise<Operation> {
    const operation = await read(validateOperationId(id));
    if (!operation || !isVisibleTo(scope, operation.tenant)) throw notFound('operation', id);
    return operation;
  }

  return {
    getOperation,
    listOperations: (input) => listOperations(deps.db.em(), deps.pageTokens, input),
    async cancelOperation(id, scope) {
      // The tenant never changes: checked before, it holds when the cancel commits.
      if (scope.tenant !== null) await getOperation(id, scope);
      const cancelled = await cancelOperation(deps.db.em(), id);
      deps.feed.publish([{ operation: cancelled }]);
      return cancelled;
    },
    async accept(specs) {
      if (specs.length > MAX_ACCEPT_BATCH) throw new Error(`accept batch of ${specs.length} exceeds ${MAX_ACCEPT_BATCH}`);
      return accepting.submit(specs);
    },
    async requeue(id) {
      const requeued = await requeueOperation(deps.db.em(), id);
      wake(new Set([requeued.partition]));
      deps.feed.publish([{ operation: requeued.operation }]);
      return requeued.operation;
    },
    listRequeueable: (limit) => listRequeueable(deps.db.em(), limit),
    endedOperations: (afterSeq, limit) => endedOperations(deps.db.sql, afterSeq, limit),
    inFlight: () => inFlight(deps.db.sql),
  };
}
