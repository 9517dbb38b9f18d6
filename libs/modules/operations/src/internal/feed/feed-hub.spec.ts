import { createLogger, type ChannelHub, type ChannelListener } from '@tally/platform';
import { describe, expect, it } from 'vitest';
import type { LedgerEvent, Operation } from '../types.js';
import { encodeFeedMessage, feedMessageOrigin, ledgerKey, operationKey, splitFeedMessage, type OperationChange } from './feed-events.js';
import { FeedHub, type FeedListener } from './feed-hub.js';

/** The receiving end of the status feed, over a channel stub: what reaches which watcher. */

const LEDGER_A = '0190a000-0000-7000-8000-00000000000a';
const LEDGER_B = '0190a000-0000-7000-8000-00000000000b';
const at = new Date('2026-12-01T12:00:00Z');

function operation(id: string, ledgerId: string, version: bigint, toLedgerId: string | null = null): Operation {
  return {
    id,
    kind: toLedgerId ? 'TRANSFER' : 'TRANSACTION',
    tenant: null,
    status: 'COMPLETED',
    ledgerId,
    toLedgerId,
    transactionId: `tx-${id}`,
    version,
    steps: [],
    result: { balanceChanges: [{ ledgerId, currency: 'USD', amount: 5n, balanceAfter: 5n }] },
    error: null,
    attempts: 1,
    createTime: at,
    updateTime: at,
  };
}

function change(op: Operation): OperationChange {
  return { operation: op, balanceChanges: op.result?.balanceChanges ?? [] };
}

/** A ChannelHub stand-in: hands the hub's listener to the test, which plays Redis. */
function channels(): { hub: ChannelHub; deliver(message: string): void; resubscribed(): void } {
  let listener: ChannelListener | undefined;
  const hub = {
    listen: (_name: string, l: ChannelListener) => {
      listener = l;
      return { live: Promise.resolve(true), release: () => undefined };
    },
  } as unknown as ChannelHub;
  return { hub, deliver: (m) => listener?.onMessage(m), resubscribed: () => listener?.onResubscribed() };
}

function recorder(): FeedListener & { events: string[]; gaps: number } {
  const seen = {
    events: [] as string[],
    gaps: 0,
    onEvent(event: LedgerEvent) {
      seen.events.push(event.kind === 'operation' ? `op ${event.operation.id} v${event.operation.version}` : `balance ${event.change.ledgerId} ${event.change.amount}`);
    },
    onGap() {
      seen.gaps++;
    },
  };
  return seen;
}

const logger = createLogger('silent');

describe('the status feed, received', () => {
  it("hands each record only to the watchers of its keys, once each, whoever's message it is", () => {
    const { hub: channelHub, deliver } = channels();
    const feed = new FeedHub({ channels: channelHub, origin: 'me', logger });
    const [ofA, ofB, ofOp, ofBoth] = [recorder(), recorder(), recorder(), recorder()];
    feed.listen([ledgerKey(LEDGER_A)], ofA);
    feed.listen([ledgerKey(LEDGER_B)], ofB);
    feed.listen([operationKey('op-1')], ofOp);
    feed.listen([ledgerKey(LEDGER_A), operationKey('op-1')], ofBoth);
    deliver(encodeFeedMessage('another-process', [change(operation('op-1', LEDGER_A, 3n)), change(operation('op-2', LEDGER_B, 2n))]));
    expect(ofA.events).toEqual(['op op-1 v3', `balance ${LEDGER_A} 5`]);
    expect(ofB.events).toEqual(['op op-2 v2', `balance ${LEDGER_B} 5`]);
    expect(ofOp.events).toEqual(['op op-1 v3']);
    expect(ofBoth.events).toEqual(['op op-1 v3', `balance ${LEDGER_A} 5`]);
  });

  it("delivers a transfer's changes to the watchers of both its ledgers", () => {
    const { hub: channelHub, deliver } = channels();
    const feed = new FeedHub({ channels: channelHub, origin: 'me', logger });
    const target = recorder();
    feed.listen([ledgerKey(LEDGER_B)], target);
    deliver(encodeFeedMessage('worker', [{ operation: operation('t-1', LEDGER_A, 5n, LEDGER_B), balanceChanges: [] }]));
    expect(target.events).toEqual(['op t-1 v5']);
  });

  it('skips its own messages from Redis (they were delivered in-process), and delivers its own changes directly', () => {
    const { hub: channelHub, deliver } = channels();
    const feed = new FeedHub({ channels: channelHub, origin: 'me', logger });
    const watcher = recorder();
    feed.listen([ledgerKey(LEDGER_A)], watcher);
    const changes = [change(operation('op-1', LEDGER_A, 2n))];
    feed.deliver(changes);
    deliver(encodeFeedMessage('me', changes));
    expect(watcher.events).toEqual(['op op-1 v2', `balance ${LEDGER_A} 5`]);
  });

  it('stops delivering to a released watcher, and tells every watcher when messages may have been lost', () => {
    const { hub: channelHub, deliver, resubscribed } = channels();
    const feed = new FeedHub({ channels: channelHub, origin: 'me', logger });
    const [gone, staying] = [recorder(), recorder()];
    const registration = feed.listen([ledgerKey(LEDGER_A)], gone);
    feed.listen([ledgerKey(LEDGER_A)], staying);
    registration.release();
    registration.release(); // idempotent
    expect(feed.keyCount).toBe(1);
    deliver(encodeFeedMessage('worker', [change(operation('op-1', LEDGER_A, 2n))]));
    resubscribed();
    expect(gone.events).toEqual([]);
    expect([staying.events.length, staying.gaps, gone.gaps]).toEqual([2, 1, 0]);
  });

  it('ignores what is not a feed message, and a record it cannot decode, without failing the others', () => {
    const { hub: channelHub, deliver } = channels();
    const feed = new FeedHub({ channels: channelHub, origin: 'me', logger });
    const watcher = recorder();
    feed.listen([ledgerKey(LEDGER_A)], watcher);
    deliver('{"type":"operation"}');
    deliver(`tally.feed.v1 worker\n${ledgerKey(LEDGER_A)}\t{not json`);
    deliver(encodeFeedMessage('worker', [change(operation('op-9', LEDGER_A, 4n))]));
    expect(watcher.events).toEqual(['op op-9 v4', `balance ${LEDGER_A} 5`]);
  });
});

describe('feed messages', () => {
  it('carry their origin in the first line and each record under its keys', () => {
    const message = encodeFeedMessage('proc-1', [change(operation('op-1', LEDGER_A, 3n))]);
    expect(feedMessageOrigin(message)).toBe('proc-1');
    expect(splitFeedMessage(message)?.records.map((r) => r.keys)).toEqual([[operationKey('op-1'), ledgerKey(LEDGER_A)], [ledgerKey(LEDGER_A)]]);
    expect(feedMessageOrigin('tally.feed.v1')).toBeUndefined();
    expect(feedMessageOrigin('something else entirely')).toBeUndefined();
  });
});
