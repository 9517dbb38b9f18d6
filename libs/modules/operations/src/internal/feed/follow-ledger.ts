import { TallyError } from '@tally/platform';
import type { LedgerEvent } from '../types.js';
import type { GapReason } from './watch-inbox.js';
import { ENDED, type WatchSession } from './watch-session.js';

/**
 * Changes remembered per ledger watch to recognise a repeated message (a worker that retries
 * its publish); the oldest are forgotten first, so a long watch stays small.
 */
const MAX_REMEMBERED_CHANGES_PER_LEDGER_WATCH = 1_024;

/**
 * Every operation change and balance change of one ledger, until the watch ends.
 *
 * A ledger watch has no snapshot to catch up from, so when messages may have been lost (the
 * subscription dropped, or the consumer fell `maxBufferedEvents` behind) it fails instead of
 * carrying on with a hole: the client re-reads what it shows and watches again.
 */
export async function* followLedger(session: WatchSession): AsyncGenerator<LedgerEvent, void, undefined> {
  const live = await session.race(session.live);
  if (live === ENDED) return;
  if (!live) {
    throw new TallyError('UNAVAILABLE', 'the status feed is unavailable (Redis cannot be reached); watch again shortly', {
      reason: 'FEED_UNAVAILABLE',
    });
  }
  const seen = new RecentChanges(MAX_REMEMBERED_CHANGES_PER_LEDGER_WATCH);
  for (;;) {
    const delivery = await session.inbox.next();
    switch (delivery.kind) {
      case 'ended':
        return;
      case 'gap':
        throw gapError(delivery.reason);
      case 'idle':
        continue; // Not expected without a wait bound; harmless.
      case 'event':
        if (seen.isNew(delivery.event)) yield delivery.event;
    }
  }
}

function gapError(reason: GapReason): TallyError {
  return reason === 'overflow'
    ? new TallyError(
        'RESOURCE_EXHAUSTED',
        'the ledger watch fell too far behind (more than maxBufferedEvents changes unread) and changes were dropped; re-read the ledger and watch again',
        { reason: 'WATCH_FELL_BEHIND' },
      )
    : new TallyError(
        'UNAVAILABLE',
        'the status feed was interrupted and changes may have been missed; re-read the ledger and watch again',
        { reason: 'FEED_INTERRUPTED' },
      );
}

/** The newest version seen per operation, and the balance changes seen, most recent last. */
class RecentChanges {
  readonly #versions = new Map<string, bigint>();

  constructor(private readonly maxEntries: number) {}

  isNew(event: LedgerEvent): boolean {
    const [key, version] = dedupKey(event);
    const seen = this.#versions.get(key);
    if (seen !== undefined && version <= seen) return false;
    this.#versions.delete(key); // re-inserted below as the most recent
    this.#versions.set(key, version);
    if (this.#versions.size > this.maxEntries) {
      const oldest = this.#versions.keys().next();
      if (oldest.done !== true) this.#versions.delete(oldest.value);
    }
    return true;
  }
}

function dedupKey(event: LedgerEvent): [key: string, version: bigint] {
  if (event.kind === 'operation') return [`op:${event.operation.id}`, event.operation.version];
  // An operation changes one balance at most once per ledger and currency; the amounts make a
  // repeat recognisable without trusting that.
  const c = event.change;
  return [`balance:${c.operationId}:${c.ledgerId}:${c.currency}:${c.amount}:${c.balanceAfter}`, 0n];
}
