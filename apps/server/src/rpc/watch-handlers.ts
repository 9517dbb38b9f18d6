import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { WatchLedgerResponseSchema, WatchOperationResponseSchema, type OperationService } from '@tally/contracts';
import type { LedgerEvent, Operation } from '@tally/operations';
import { balanceChangeToProto, operationToProto } from './mapping.js';

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
  /** Throws NOT_FOUND (or INVALID_ARGUMENT) unless the ledger exists. */
  requireLedger(ledgerId: string): Promise<void>;
}

/** Header naming the client whose watches count against `maxWatchesPerClient`. */
export const CLIENT_ID_HEADER = 'x-client-id';
export const ANONYMOUS_CLIENT_ID = 'anonymous';
export const MAX_CLIENT_ID_CHARS = 64;

/** OperationService's server streams. Each ends when the client leaves or the server stops (ctx.signal). */
export function watchHandlers(deps: WatchHandlerDeps): Pick<ServiceImpl<typeof OperationService>, 'watchOperation' | 'watchLedger'> {
  return {
    async *watchOperation(req, ctx) {
      const watch = { signal: ctx.signal, clientId: clientIdOf(ctx) };
      for await (const operation of deps.watcher.watchOperation(req.operationId, watch)) {
        yield create(WatchOperationResponseSchema, { operation: operationToProto(operation) });
      }
    },

    async *watchLedger(req, ctx) {
      // Checked before streaming: a watch on a ledger that does not exist would wait for ever.
      await deps.requireLedger(req.ledgerId);
      const watch = { signal: ctx.signal, clientId: clientIdOf(ctx) };
      for await (const event of deps.watcher.watchLedger(req.ledgerId, watch)) {
        yield create(WatchLedgerResponseSchema, {
          event:
            event.kind === 'operation'
              ? { case: 'operation', value: operationToProto(event.operation) }
              : { case: 'balanceChange', value: balanceChangeToProto(event.change) },
        });
      }
    },
  };
}

/**
 * The caller's own name for itself, or `anonymous`. It only shares out the watch limit between
 * well-behaved clients; it is not authentication. Cut to MAX_CLIENT_ID_CHARS code points so
 * that a long header cannot bloat the per-client counts or the logs.
 */
export function clientIdOf(ctx: Pick<HandlerContext, 'requestHeader'>): string {
  const header = ctx.requestHeader.get(CLIENT_ID_HEADER)?.trim() ?? '';
  if (header === '') return ANONYMOUS_CLIENT_ID;
  return [...header].slice(0, MAX_CLIENT_ID_CHARS).join('');
}
