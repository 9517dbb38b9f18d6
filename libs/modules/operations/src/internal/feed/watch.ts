import { checkUuid, notFound, TallyError, Violations, type Logger } from '@tally/platform';
import type { OperationReader } from '../operation-store.js';
import { validateOperationId } from '../read-operations.js';
import type { LedgerEvent, Operation } from '../types.js';
import { ledgerKey, operationKey } from './feed-events.js';
import type { FeedHub } from './feed-hub.js';
import { followLedger } from './follow-ledger.js';
import { followOperation } from './follow-operation.js';
import { resolveWatchLimits, WatchSlots, type WatchLimits } from './watch-limits.js';
import { WatchSession } from './watch-session.js';

export { DEFAULT_WATCH_LIMITS } from './watch-limits.js';
export type { WatchLimits } from './watch-limits.js';

/**
 * The watch side of the status feed: what WatchOperation and WatchLedger stream. One process
 * follows the feed once for all its watches (see FeedHub); PostgreSQL stays the truth that a
 * watch starts from and falls back to (see followOperation), read in shared queries (see
 * createOperationReader) so that thousands of watches opening at once take few connections.
 */

export interface WatchOptions {
  /** Ends the watch: the iterator then finishes at once and gives its resources back. */
  readonly signal: AbortSignal;
  /** Whose watch this is, for `maxWatchesPerClient`. */
  readonly clientId: string;
}

export interface OperationWatcher {
  /**
   * The operation's current state, then every later version, ending after a terminal one.
   * Throws INVALID_ARGUMENT at once for a malformed id; the iteration fails NOT_FOUND for an
   * unknown operation and RESOURCE_EXHAUSTED when a watch limit is reached.
   */
  watchOperation(operationId: string, options: WatchOptions): AsyncIterable<Operation>;
  /**
   * Every operation change and balance change of the ledger from now on, until the signal
   * aborts. No snapshot, and no check that the ledger exists (the caller's, through the
   * ledgers facade). Fails UNAVAILABLE / RESOURCE_EXHAUSTED when changes may have been lost.
   */
  watchLedger(ledgerId: string, options: WatchOptions): AsyncIterable<LedgerEvent>;
  /** Watches holding a slot now. */
  readonly openWatches: number;
  /** Ends every open watch and leaves every channel; later watches fail UNAVAILABLE. */
  close(): Promise<void>;
}

export interface OperationWatcherOptions {
  /** The feed of this process (closed by the caller after `close`). */
  readonly feed: FeedHub;
  /** Reads an operation as it stands (undefined when there is none). */
  readonly read: OperationReader;
  readonly logger: Logger;
  readonly limits?: Partial<WatchLimits>;
}

export function createOperationWatcher(options: OperationWatcherOptions): OperationWatcher {
  const limits = resolveWatchLimits(options.limits);
  const logger = options.logger.child({ component: 'operation-watcher' });
  const { feed, read } = options;
  const slots = new WatchSlots(limits);
  const sessions = new Set<WatchSession>();
  let closed = false;

  /** Opens a session, or undefined when the signal has already aborted. */
  function open(key: string, watch: WatchOptions): WatchSession | undefined {
    if (closed) throw new TallyError('UNAVAILABLE', 'the server is shutting down; watch again', { reason: 'SHUTTING_DOWN' });
    if (watch.signal.aborted) return undefined;
    const session = new WatchSession({
      feed,
      slots,
      key,
      clientId: watch.clientId,
      signal: watch.signal,
      maxBufferedEvents: limits.maxBufferedEvents,
      onEnd: (ended) => sessions.delete(ended),
    });
    if (!session.ended) sessions.add(session);
    return session;
  }

  async function* operationWatch(operationId: string, watch: WatchOptions): AsyncGenerator<Operation, void, undefined> {
    const session = open(operationKey(operationId), watch);
    if (session === undefined) return;
    try {
      yield* followOperation({
        session,
        operationId,
        readSnapshot: async () => {
          const operation = await read(operationId);
          if (operation === undefined) throw notFound('operation', operationId);
          return operation;
        },
        readLatest: () => read(operationId),
        resyncIntervalMs: limits.resyncIntervalMs,
        logger,
      });
    } finally {
      session.end();
    }
  }

  async function* ledgerWatch(ledgerId: string, watch: WatchOptions): AsyncGenerator<LedgerEvent, void, undefined> {
    const session = open(ledgerKey(ledgerId), watch);
    if (session === undefined) return;
    try {
      yield* followLedger(session);
    } finally {
      session.end();
    }
  }

  return {
    watchOperation(operationId, watch) {
      validateOperationId(operationId);
      return operationWatch(operationId, watch);
    },
    watchLedger(ledgerId, watch) {
      const v = new Violations();
      checkUuid(v, 'ledger_id', ledgerId);
      v.throwIfAny();
      return ledgerWatch(ledgerId, watch);
    },
    get openWatches() {
      return slots.open;
    },
    async close() {
      closed = true;
      for (const session of [...sessions]) session.end();
    },
  };
}
