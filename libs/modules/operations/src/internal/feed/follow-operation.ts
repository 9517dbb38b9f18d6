import { notFound, type Logger } from '@tally/platform';
import { isTerminal } from '../status.js';
import type { Operation } from '../types.js';
import { ENDED, type WatchSession } from './watch-session.js';

export interface FollowOperationOptions {
  readonly session: WatchSession;
  readonly operationId: string;
  /** The operation now; throws NOT_FOUND when there is none. */
  readSnapshot(): Promise<Operation>;
  /** The operation now, for a resync; `undefined` when there is none. */
  readLatest(): Promise<Operation | undefined>;
  readonly resyncIntervalMs: number;
  readonly logger: Logger;
}

/**
 * One operation's versions, current state first, ending after a terminal one.
 *
 * Messages are only hints; PostgreSQL is the truth. The watch subscribes before it reads the
 * snapshot (a change committed after the read is then on the channel), yields only versions
 * newer than the last it yielded, and re-reads the row whenever the messages may not tell
 * the whole story: a version was skipped, the buffer overflowed, the subscription dropped,
 * or nothing arrived for `resyncIntervalMs` (a publisher that died between commit and
 * publish). So a lost message delays a watcher, but never leaves it short of the end.
 */
export async function* followOperation(options: FollowOperationOptions): AsyncGenerator<Operation, void, undefined> {
  const { session, operationId, resyncIntervalMs, logger } = options;
  // Not live means Redis is down: the watch goes on from PostgreSQL alone, resyncing on every
  // interval, and again as soon as the hub has resubscribed.
  if ((await session.race(session.live)) === ENDED) return;
  const snapshot = await session.race(options.readSnapshot());
  if (snapshot === ENDED) return;
  let last = snapshot;
  yield last;

  let resyncDueAtMs = Date.now() + resyncIntervalMs;
  /** The row as PostgreSQL has it now; `undefined` when the read failed (retried next interval) or the watch ended. */
  const resync = async (): Promise<Operation | undefined> => {
    resyncDueAtMs = Date.now() + resyncIntervalMs;
    let latest: Operation | undefined | typeof ENDED;
    try {
      latest = await session.race(options.readLatest());
    } catch (error) {
      // The reader logs the failed query once for all the watches in it.
      logger.debug({ operationId, err: String(error) }, 'resync failed; retrying at the next interval');
      return undefined;
    }
    if (latest === ENDED) return undefined;
    // Deleted under the watcher (retention): say so rather than wait for ever.
    if (latest === undefined) throw notFound('operation', operationId);
    return latest;
  };

  while (!isTerminal(last.status)) {
    const delivery = await session.inbox.next(resyncDueAtMs - Date.now());
    let candidate: Operation | undefined;
    if (delivery.kind === 'ended') return;
    if (delivery.kind === 'event') {
      if (delivery.event.kind !== 'operation') continue;
      const received = delivery.event.operation;
      if (received.version <= last.version) continue; // a duplicate, or older than what was yielded
      candidate = received.version === last.version + 1n ? received : newest(received, await resync());
    } else {
      if (delivery.kind === 'gap') logger.debug({ operationId, reason: delivery.reason }, 'watch missed messages; resyncing');
      candidate = await resync();
    }
    if (session.ended) return;
    if (candidate !== undefined && candidate.version > last.version) {
      last = candidate;
      resyncDueAtMs = Date.now() + resyncIntervalMs;
      yield last;
    }
  }
}

function newest(a: Operation, b: Operation | undefined): Operation {
  return b !== undefined && b.version > a.version ? b : a;
}
