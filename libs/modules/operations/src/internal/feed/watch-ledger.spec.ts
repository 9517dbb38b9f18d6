import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  accept,
  advance,
  catchSync,
  completion,
  describeEvent,
  openWatcher,
  publish,
  record,
  refusal,
  until,
  useWatchFixture,
  watchOptions,
} from './watch.testing.js';

/** Following a ledger: its operations and balance changes, once each. */
useWatchFixture();

describe('watchLedger', () => {
  it("delivers the ledger's operation and balance changes once each, and nothing from other ledgers", async () => {
    const { watcher, hub } = await openWatcher();
    const [ledger, otherLedger] = [randomUUID(), randomUUID()];
    expect(refusal(catchSync(() => watcher.watchLedger('ledger-1', watchOptions()))).code).toBe('INVALID_ARGUMENT');
    const watch = record(watcher.watchLedger(ledger, watchOptions()));
    await until(() => hub.keyCount === 1, 'the watch following the feed');

    const mine = await accept(ledger);
    const theirs = await accept(otherLedger);
    const processing = await advance(mine.id, 'PROCESSING');
    await publish(processing, await advance(theirs.id, 'PROCESSING'));
    const completed = await advance(mine.id, 'COMPLETED', completion(ledger, 7));
    await publish(completed, await advance(theirs.id, 'COMPLETED', completion(otherLedger, 9)));
    await publish(completed, processing); // a repeat and a stale version: dropped
    const sentinel = await advance((await accept(ledger)).id, 'PROCESSING');
    await publish(sentinel);
    await until(() => watch.items.some((e) => e.kind === 'operation' && e.operation.id === sentinel.id), 'the last change');

    expect(watch.items.map(describeEvent)).toEqual([
      `op ${mine.id} v2 PROCESSING`,
      `op ${mine.id} v3 COMPLETED`,
      `balance ${mine.id} ${ledger} USD 7 -> 7`,
      `op ${sentinel.id} v2 PROCESSING`,
    ]);
    expect(watch.state.done).toBe(false); // a ledger watch lasts until the client leaves
  });

  it('fails a ledger watch that falls too far behind, rather than skip changes silently', async () => {
    const { watcher, hub } = await openWatcher({ maxBufferedEvents: 1 });
    const ledger = randomUUID();
    const slow = watcher.watchLedger(ledger, watchOptions())[Symbol.asyncIterator]();
    const firstStep = slow.next(); // waits for the first change; nothing read after it
    const prompt = record(watcher.watchLedger(ledger, watchOptions())); // same connection, reads at once
    await until(() => hub.keyCount === 1, 'both watches following the feed');
    for (let i = 0; i < 3; i++) {
      const op = await advance((await accept(ledger)).id, 'PROCESSING');
      await publish(op);
      await until(() => prompt.items.length === i + 1, `change ${i + 1} at the prompt watch`);
    }
    expect((await firstStep).value).toMatchObject({ kind: 'operation' });
    const behind = await slow.next().then(() => undefined, (error: unknown) => error);
    expect(refusal(behind)).toMatchObject({ code: 'RESOURCE_EXHAUSTED', details: { reason: 'WATCH_FELL_BEHIND' } });
    expect(watcher.openWatches).toBe(1); // the failed watch gave its slot back
  });
});
