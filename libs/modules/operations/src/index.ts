/**
 * Operations: the tracked state of every async request (status, version, steps, result,
 * error, attempts), its state machine, the partition queues, the worker that applies
 * operations in per-ledger order, and the status feed watchers follow. Owns the PostgreSQL
 * schema `operations`. What an operation does to balances is not known here: other modules
 * provide an applier per kind.
 */
import type { ModuleSchema } from '@tally/platform';
import { operationsEntities, operationsMigrations } from './internal/schema.js';

export { createOperationsFacade } from './internal/facade.js';
export type { LocalWorker, OperationsFacade, OperationsDeps } from './internal/facade.js';
export type { AcceptOutcome, OperationSpec } from './internal/accept.js';
export { MAX_ACCEPT_BATCH } from './internal/accept.js';
export { MAX_AUDIT_PAGE } from './internal/audit-view.js';
export type { AuditedOperation } from './internal/audit-view.js';
export type {
  BalanceChange,
  LedgerEvent,
  ListOperationsInput,
  Operation,
  OperationError,
  OperationResult,
  OperationStep,
} from './internal/types.js';
export { OPERATION_KINDS, OPERATION_STATUSES, RETRIES_EXHAUSTED, canTransition, isTerminal } from './internal/status.js';
export type { OperationKind, OperationStatus } from './internal/status.js';
export { partitionOf } from './internal/partition.js';
export { createOperationWatcher, DEFAULT_WATCH_LIMITS } from './internal/feed/watch.js';
export { FeedHub } from './internal/feed/feed-hub.js';
export { createStatusFeed } from './internal/feed/status-feed.js';
export type { StatusFeed } from './internal/feed/status-feed.js';
export { createOperationReader } from './internal/operation-store.js';
export type { OperationReader } from './internal/operation-store.js';
export type { OperationWatcher, OperationWatcherOptions, WatchLimits, WatchOptions } from './internal/feed/watch.js';
export { PartitionQueues } from './internal/queue/partition-queues.js';
export { OperationsWorker, DEFAULT_WORKER_LIMITS } from './internal/worker/operations-worker.js';
export type { OperationsWorkerOptions, WorkerLimits } from './internal/worker/operations-worker.js';
export type { Appliers, Preparers } from './internal/worker/appliers.js';

export const operationsSchema: ModuleSchema = {
  name: 'operations',
  entities: operationsEntities,
  migrations: operationsMigrations,
};
