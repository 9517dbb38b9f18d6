import type { Database } from '@tally/platform';
import { cancelOperation } from './cancel-operation.js';
import { getOperation, listOperations } from './read-operations.js';
import type { ListOperationsInput, Operation } from './types.js';

export interface OperationsFacade {
  getOperation(operationId: string): Promise<Operation>;
  listOperations(input: ListOperationsInput): Promise<{ items: Operation[]; nextPageToken: string }>;
  cancelOperation(operationId: string): Promise<Operation>;
}

export function createOperationsFacade(db: Database): OperationsFacade {
  return {
    getOperation: (id) => getOperation(db.em(), id),
    listOperations: (input) => listOperations(db.em(), input),
    cancelOperation: (id) => cancelOperation(db.em(), id),
  };
}
