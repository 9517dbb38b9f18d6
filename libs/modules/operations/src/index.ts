/**
 * Operations: the tracked state of every async request (status, version, steps, result,
 * error, attempts) and its state machine. Owns the PostgreSQL schema `operations`.
 */
import type { ModuleSchema } from '@tally/platform';
import { operationsEntities, operationsMigrations } from './internal/schema.js';

export { createOperationsFacade } from './internal/facade.js';
export type { OperationsFacade } from './internal/facade.js';
export type {
  BalanceChange,
  ListOperationsInput,
  Operation,
  OperationError,
  OperationResult,
  OperationStep,
} from './internal/types.js';
export { OPERATION_KINDS, OPERATION_STATUSES, canTransition, isTerminal } from './internal/status.js';
export type { OperationKind, OperationStatus } from './internal/status.js';

export const operationsSchema: ModuleSchema = {
  name: 'operations',
  entities: operationsEntities,
  migrations: operationsMigrations,
};
