import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  CancelOperationResponseSchema,
  GetOperationResponseSchema,
  ListOperationsResponseSchema,
  type OperationService,
} from '@tally/contracts';
import type { OperationsFacade } from '@tally/operations';
import { Violations } from '@tally/platform';
import { scopeOf } from '../access/caller.js';
import { kindFromProto, operationToProto, statusFromProto } from './mapping.js';

/** OperationService's sync RPCs. Its server streams, WatchOperation and WatchLedger, are in watch-handlers.ts. */
export function operationServiceHandlers(operations: OperationsFacade): Partial<ServiceImpl<typeof OperationService>> {
  return {
    async getOperation(req, ctx) {
      const operation = await operations.getOperation(req.operationId, scopeOf(ctx));
      return create(GetOperationResponseSchema, { operation: operationToProto(operation) });
    },

    async listOperations(req, ctx) {
      const v = new Violations();
      const status = statusFromProto(req.status);
      const kind = kindFromProto(req.kind);
      v.check(status !== undefined, 'status', `${req.status} is not an OperationStatus`);
      v.check(kind !== undefined, 'kind', `${req.kind} is not an OperationKind`);
      v.throwIfAny();
      const page = await operations.listOperations({
        ledgerId: req.ledgerId,
        scope: scopeOf(ctx),
        status: status ?? null,
        kind: kind ?? null,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
      return create(ListOperationsResponseSchema, {
        operations: page.items.map(operationToProto),
        nextPageToken: page.nextPageToken,
      });
    },

    async cancelOperation(req, ctx) {
      const operation = await operations.cancelOperation(req.operationId, scopeOf(ctx));
      return create(CancelOperationResponseSchema, { operation: operationToProto(operation) });
    },
  };
}
