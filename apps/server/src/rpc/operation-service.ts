import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  CancelOperationResponseSchema,
  GetOperationResponseSchema,
  ListOperationsResponseSchema,
  type OperationService,
} from '@tally/contracts';
import type { OperationsFacade } from '@tally/operations';
import { Violations, type TenantScope } from '@tally/platform';
import { scopeOf } from '../access/caller.js';
import { kindFromProto, operationToProto, statusFromProto } from './mapping.js';

/** Throws NOT_FOUND (or INVALID_ARGUMENT) unless the ledger exists and the caller may see it. */
export type RequireLedger = (ledgerId: string, scope: TenantScope) => Promise<void>;

/** OperationService's sync RPCs. Its server streams, WatchOperation and WatchLedger, are in watch-handlers.ts. */
export function operationServiceHandlers(operations: OperationsFacade, requireLedger: RequireLedger): Partial<ServiceImpl<typeof OperationService>> {
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
      const scope = scopeOf(ctx);
      // A ledger named in the filter must be one the caller may see, as on every RPC naming one:
      // another tenant's ledger is NOT_FOUND, not an empty list that says it exists.
      if (req.ledgerId !== '') await requireLedger(req.ledgerId, scope);
      const page = await operations.listOperations({
        ledgerId: req.ledgerId,
        scope,
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
