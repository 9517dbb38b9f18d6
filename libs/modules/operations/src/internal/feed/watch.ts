import { checkUuid, TallyError, Violations, type Database, type Logger, type Redis } from '@tally/platform';
import { getOperation, validateOperationId } from '../read-operations.js';
import type { LedgerEvent, Operation } from '../types.js';
import { ChannelHub } from './channel-hub.js';
import { balanceFromEvent, ledgerChannel, operationChannel, operationFromJson, parseFeedEvent } from './feed-events.js';
import { followLedger } from './follow-ledger.js';
import { followOperation } from './follow-operation.js';
import { ResyncReader } from './resync-reader.js';
import { resolveWatchLimits, WatchSlots, type WatchLimits } from './watch-limits.js';
import { WatchSession } from './watch-session.js';

export { DEFAULT_WATCH_LIMITS } from './watch-limits.js';
export type { WatchLimits } from './watch-limits.js';

/**
 * The watch side of the status feed: what WatchOperation and WatchLedger stream. One process
 * shares one Redis subscriber connection among all its watches (see ChannelHub); PostgreSQL
 * stays the truth that a watch starts from and falls back to (see followOperation).
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
  /**
   * A connection for subscribing only, connected by the caller, who also disconnects it after
   * `close`. Redis allows no other commands on it while it is subscribed.
   */
  readonly subscriber: Redis;
  readonly db: Database;
  readonly logger: Logger;
  readonly limits?: Partial<WatchLimits>;
}

export function createOperationWatcher(options: OperationWatcherOptions): OperationWatcher {
  const limits = resolveWatchLimits(options.limits);
  const logger = options.logger.child({ component: 'operation-watcher' });
  const hub = new ChannelHub<LedgerEvent>({ subscriber: options.subscriber, logger, decode: decodeFeedMessage });
  const reader = ResyncReader.forDatabase(options.db, logger);
  const slots = new WatchSlots(limits);
  const sessions = new Set<WatchSession>();
  let closed = false;

  /** Opens a session, or undefined when the signal has already aborted. */
  function open(channel: string, watch: WatchOptions, accepts: (event: LedgerEvent) => boolean): WatchSession | undefined {
    if (closed) throw new TallyError('UNAVAILABLE', 'the server is shutting down; watch again', { reason: 'SHUTTING_DOWN' });
    if (watch.signal.aborted) return undefined;
    const session = new WatchSession({
      hub,
      slots,
      channel,
      clientId: watch.clientId,
      signal: watch.signal,
      maxBufferedEvents: limits.maxBufferedEvents,
      accepts,
      onEnd: (ended) => sessions.delete(ended),
    });
    if (!session.ended) sessions.add(session);
    return session;
  }

  async function* operationWatch(operationId: string, watch: WatchOptions): AsyncGenerator<Operation, void, undefined> {
    const session = open(operationChannel(operationId), watch, (e) => e.kind === 'operation' && e.operation.id === operationId);
    if (session === undefined) return;
    try {
      yield* followOperation({
        session,
        operationId,
        readSnapshot: () => getOperation(options.db.em(), operationId),
        readLatest: () => reader.latest(operationId),
        resyncIntervalMs: limits.resyncIntervalMs,
        logger,
      });
    } finally {
      session.end();
    }
  }

  async function* ledgerWatch(ledgerId: string, watch: WatchOptions): AsyncGenerator<LedgerEvent, void, undefined> {
    const session = open(ledgerChannel(ledgerId), watch, (e) => e.kind === 'operation' || e.change.ledgerId === ledgerId);
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
      await hub.close();
    },
  };
}

/** A feed message as the watch's domain event; throws or answers undefined for a malformed one. */
function decodeFeedMessage(message: string): LedgerEvent | undefined {
  const event = parseFeedEvent(message);
  if (event === undefined) return undefined;
  return event.type === 'operation'
    ? { kind: 'operation', operation: operationFromJson(event.operation) }
    : { kind: 'balance', change: balanceFromEvent(event) };
}
