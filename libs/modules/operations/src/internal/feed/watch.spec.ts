import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { OperationStatus } from '../status.js';
import type { Operation } from '../types.js';
import {
  accept,
  advance,
  catchSync,
  completion,
  openWatcher,
  publish,
  record,
  refusal,
  until,
  useWatchFixture,
  versions,
  watchOptions,
} from './watch.testing.js';

/** Following one operation: every version, in order, whatever Redis or the feed loses. */
useWatchFixture();

describe('watchOperation', () => {
  it('sees every version in order, whenever it starts, and ends with the terminal state', async () => {
    const { watcher } = await openWatcher();
    const first = await accept();
    const watches = [record(watcher.watchOperation(first.id, watchOptions()))];
    await until(() => watches[0]!.items.length === 1, 'the first snapshot');
    // PENDING <-> PROCESSING (a released operation) gives many versions to start between.
    const statuses: OperationStatus[] = ['PROCESSING', 'PENDING', 'PROCESSING', 'PENDING', 'PROCESSING'];
    for (const status of statuses) {
      await publish(await advance(first.id, status));
      const watch = record(watcher.watchOperation(first.id, watchOptions()));
      watches.push(watch);
      await until(() => watch.items.length > 0, 'a snapshot');
    }
    const last = await advance(first.id, 'COMPLETED', completion(first.ledgerId));
    const during = record(watcher.watchOperation(first.id, watchOptions())); // may read v6 or v7
    await publish(last);
    await Promise.all([...watches, during].map((w) => w.finished));

    for (const watch of [...watches, during]) {
      expect(watch.state.error).toBeUndefined();
      const seen = versions(watch.items);
      // Contiguous: nothing was lost, so every version after the snapshot arrives, once.
      expect(seen).toEqual(seen.map((_, i) => seen[0]! + BigInt(i)));
      expect(watch.items.at(-1)).toMatchObject({ status: 'COMPLETED', version: 7n });
    }
    expect(versions(watches[0]!.items)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n]);
    expect(versions(watches[3]!.items)).toEqual([4n, 5n, 6n, 7n]);

    const after = record(watcher.watchOperation(first.id, watchOptions()));
    await after.finished;
    expect(after.items.map((op) => [op.version, op.status])).toEqual([[7n, 'COMPLETED']]);
    expect(after.items[0]?.result?.balanceChanges[0]).toMatchObject({ amount: 5n });
    expect(watcher.openWatches).toBe(0);
  });

  it('drops duplicate and stale versions', async () => {
    const { watcher } = await openWatcher();
    const v1 = await accept();
    const watch = record(watcher.watchOperation(v1.id, watchOptions()));
    await until(() => watch.items.length === 1, 'the snapshot');
    const v2 = await advance(v1.id, 'PROCESSING');
    await publish(v2, v2, v1, v2);
    await publish(await advance(v1.id, 'FAILED'), v1);
    await watch.finished;
    expect(watch.items.map((op) => [op.version, op.status])).toEqual([
      [1n, 'PENDING'],
      [2n, 'PROCESSING'],
      [3n, 'FAILED'],
    ]);
  });

  it('catches up from PostgreSQL when a change is never published', async () => {
    const { watcher } = await openWatcher({ resyncIntervalMs: 50 });
    const op = await accept();
    const watch = record(watcher.watchOperation(op.id, watchOptions()));
    await until(() => watch.items.length === 1, 'the snapshot');
    await advance(op.id, 'PROCESSING'); // committed, message lost
    await until(() => watch.items.length === 2, 'the unpublished version');
    await advance(op.id, 'COMPLETED', completion(op.ledgerId)); // and again
    await watch.finished;
    expect(watch.items.map((o) => [o.version, o.status])).toEqual([
      [1n, 'PENDING'],
      [2n, 'PROCESSING'],
      [3n, 'COMPLETED'],
    ]);
  });

  it('re-reads PostgreSQL when a received version skips ahead', async () => {
    const { watcher } = await openWatcher({ resyncIntervalMs: 600_000 }); // no idle resync in this test
    const op = await accept();
    const watch = record(watcher.watchOperation(op.id, watchOptions()));
    await until(() => watch.items.length === 1, 'the snapshot');
    await advance(op.id, 'PROCESSING');
    const v3 = await advance(op.id, 'PENDING');
    await advance(op.id, 'PROCESSING'); // v4, committed but its message is still to come
    await publish(v3); // v1 -> v3: v2 was missed, so the watch reads the row and finds v4
    await until(() => watch.items.length === 2, 'the re-read version');
    expect(watch.items[1]).toMatchObject({ version: 4n, status: 'PROCESSING' });
    await publish(await advance(op.id, 'COMPLETED', completion(op.ledgerId)));
    await watch.finished;
    expect(versions(watch.items)).toEqual([1n, 4n, 5n]);
  });

  it('drops the buffer of a watcher that falls behind and resyncs it', async () => {
    const { watcher } = await openWatcher({ maxBufferedEvents: 2, resyncIntervalMs: 600_000 });
    const op = await accept();
    const slow = watcher.watchOperation(op.id, watchOptions())[Symbol.asyncIterator]();
    expect((await slow.next()).value).toMatchObject({ version: 1n });
    // A prompt watch on the same connection: once it has a message, so has the slow one.
    const prompt = record(watcher.watchOperation(op.id, watchOptions()));
    await until(() => prompt.items.length === 1, 'the prompt snapshot');
    for (const status of ['PROCESSING', 'PENDING', 'PROCESSING', 'PENDING', 'PROCESSING', 'COMPLETED'] as const) {
      const next = await advance(op.id, status, status === 'COMPLETED' ? completion(op.ledgerId) : null);
      await publish(next);
      await until(() => prompt.items.at(-1)?.version === next.version, `version ${next.version} at the prompt watch`);
    }
    const rest: Operation[] = [];
    for (let step = await slow.next(); step.done !== true; step = await slow.next()) rest.push(step.value);
    expect(rest.map((o) => [o.version, o.status])).toEqual([[7n, 'COMPLETED']]);
    expect(versions(prompt.items)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n]);
  });

  it('refuses malformed ids at once and unknown operations with NOT_FOUND', async () => {
    const { watcher } = await openWatcher();
    expect(refusal(catchSync(() => watcher.watchOperation('op-1', watchOptions()))).code).toBe('INVALID_ARGUMENT');
    const missing = record(watcher.watchOperation(randomUUID(), watchOptions()));
    await missing.finished;
    expect(refusal(missing.state.error).code).toBe('NOT_FOUND');
    expect(watcher.openWatches).toBe(0);
  });

  it('resyncs after the subscriber connection drops and comes back', async () => {
    const { watcher, subscriber, hub } = await openWatcher({ resyncIntervalMs: 600_000 });
    const op = await accept();
    const watch = record(watcher.watchOperation(op.id, watchOptions()));
    const ledgerId = randomUUID();
    const ledger = record(watcher.watchLedger(ledgerId, watchOptions()));
    await until(() => watch.items.length === 1, 'the snapshot');
    await until(() => hub.keyCount === 2, 'both watches following the feed');
    await advance(op.id, 'PROCESSING'); // its message is lost with the connection
    subscriber.disconnect(true); // drop the connection; ioredis reconnects
    await until(() => watch.items.length === 2, 'the version whose message was lost');
    await publish(await advance(op.id, 'COMPLETED', completion(op.ledgerId))); // the channel is live again
    await watch.finished;
    expect(versions(watch.items)).toEqual([1n, 2n, 3n]);
    // A ledger watch has nothing to catch up from: it says it may have missed changes.
    await ledger.finished;
    expect(refusal(ledger.state.error)).toMatchObject({ code: 'UNAVAILABLE', details: { reason: 'FEED_INTERRUPTED' } });
  });

  it('goes on from PostgreSQL alone while Redis cannot be reached', async () => {
    const { watcher } = await openWatcher({ resyncIntervalMs: 50 }, 'redis://127.0.0.1:1');
    const op = await accept();
    const watch = record(watcher.watchOperation(op.id, watchOptions()));
    await until(() => watch.items.length === 1, 'the snapshot');
    await advance(op.id, 'CANCELLED');
    await watch.finished;
    expect(watch.items.map((o) => o.status)).toEqual(['PENDING', 'CANCELLED']);
    const ledger = record(watcher.watchLedger(randomUUID(), watchOptions()));
    await ledger.finished;
    expect(refusal(ledger.state.error)).toMatchObject({ code: 'UNAVAILABLE', details: { reason: 'FEED_UNAVAILABLE' } });
  });
});
