import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { WatchLedgerResponseSchema, WatchOperationResponseSchema, type OperationService } from '@tally/contracts';
import type { LedgerEvent, Operation } from '@tally/operations';
import { operationMetrics, type TenantScope } from '@tally/platform';
import { callerOf } from '../access/caller.js';
import { balanceChangeToProto, operationToProto } from './mapping.js';
import type { RequireLedger } from './operation-service.js';

/** What the handlers need of the operations module's watcher (`OperationWatcher` has it). */
export interface OperationWatches {
  watchOperation(operationId: string, options: WatchOptions): AsyncIterable<Operation>;
  watchLedger(ledgerId: string, options: WatchOptions): AsyncIterable<LedgerEvent>;
}

interface WatchOptions {
  readonly signal: AbortSignal;
  readonly clientId: string;
}

export interface WatchHandlerDeps {
  readonly watcher: OperationWatches;
  readonly requireLedger: RequireLedger;
  /** Throws NOT_FOUND (or INVALID_ARGUMENT) unless the operation exists and the caller may see it. */
  requireOperation(operationId: string, scope: TenantScope): Promise<void>;
}

/** OperationService's server streams. Each ends when the client leaves or the server stops (ctx.signal). */
export function watchHandlers(deps: WatchHandlerDeps): Pick<ServiceImpl<typeof OperationService>, 'watchOperation' | 'watchLedger'> {
  return {
    async *watchOperation(req, ctx) {
      const caller = callerOf(ctx);
      // With tenants, checked before streaming: another tenant's operation is not there at all.
      if (caller.scope.tenant !== null) await deps.requireOperation(req.operationId, caller.scope);
      // Each caller's watches count against its own share of this process's (the name the gate knows it by).
      const watch = { signal: ctx.signal, clientId: caller.id };
      const open = operationMetrics.watches.labels('operation');
      open.inc();
      try {
        for await (const operation of deps.watcher.watchOperation(req.operationId, watch)) {
          yield create(WatchOperationResponseSchema, { operation: operationToProto(operation) });
        }
      } finally {
        open.dec();
      }
    },

    async *watchLedger(req, ctx) {
      const caller = callerOf(ctx);
      // Checked before streaming: a watch on a ledger that does not exist would wait for ever.
      await deps.requireLedger(req.ledgerId, caller.scope);
      const watch = { signal: ctx.signal, clientId: caller.id };
      const open = operationMetrics.watches.labels('ledger');
      open.inc();
      try {
        for await (const event of deps.watcher.watchLedger(req.ledgerId, watch)) {
          yield create(WatchLedgerResponseSchema, {
            event:
              event.kind === 'operation'
                ? { case: 'operation', value: operationToProto(event.operation) }
                : { case: 'balanceChange', value: balanceChangeToProto(event.change) },
          });
        }
      } finally {
        open.dec();
      }
    },
  };
}
