import { describe, expect, it } from 'vitest';
import {
  accept,
  openWatcher,
  record,
  refusal,
  until,
  useWatchFixture,
  watchOptions,
} from './watch.testing.js';

/** Watches are bounded, shared per channel, and released as soon as nobody reads them. */
useWatchFixture();

describe('limits and release', () => {
  it('answers RESOURCE_EXHAUSTED naming the limit, before subscribing', async () => {
    const { watcher, hub } = await openWatcher({ maxWatches: 3, maxWatchesPerClient: 2 });
    const op = await accept();
    const opened = [watchOptions('a'), watchOptions('a'), watchOptions('b')].map((o) => ({ o, w: record(watcher.watchOperation(op.id, o)) }));
    await until(() => opened.every(({ w }) => w.items.length === 1), 'three snapshots');
    expect(watcher.openWatches).toBe(3);

    const other = await accept();
    const perClient = record(watcher.watchOperation(other.id, watchOptions('a')));
    await perClient.finished;
    const perClientError = refusal(perClient.state.error);
    expect(perClientError.code).toBe('RESOURCE_EXHAUSTED');
    expect(perClientError.message).toContain('maxWatchesPerClient');
    const total = record(watcher.watchOperation(other.id, watchOptions('c')));
    await total.finished;
    expect(refusal(total.state.error)).toMatchObject({ code: 'RESOURCE_EXHAUSTED', details: { metadata: { limit: 'maxWatches' } } });
    expect(refusal(total.state.error).message).toContain('maxWatches');
    expect(hub.keyCount).toBe(1); // only the three watches of `op`: the refused ones registered nothing

    // Leaving gives the slots back.
    opened[0]!.o.abort();
    await opened[0]!.w.finished;
    expect(watcher.openWatches).toBe(2);
    const again = record(watcher.watchOperation(op.id, watchOptions('a')));
    await until(() => again.items.length === 1, 'a snapshot in the freed slot');
    expect(watcher.openWatches).toBe(3);
  });

  it('follows the feed once however many watch, and forgets an operation when its last watch aborts', async () => {
    const { watcher, hub } = await openWatcher();
    const op = await accept();
    const [a, b] = [watchOptions(), watchOptions()];
    const watches = [record(watcher.watchOperation(op.id, a)), record(watcher.watchOperation(op.id, b))];
    await until(() => watches.every((w) => w.items.length === 1), 'both snapshots');
    expect(hub.keyCount).toBe(1);
    a.abort();
    await watches[0]!.finished; // the pending next() settles at once: nothing left hanging
    expect(watches[0]!.state.error).toBeUndefined();
    expect(hub.keyCount).toBe(1);
    b.abort();
    await watches[1]!.finished;
    expect(hub.keyCount).toBe(0);
    expect(watcher.openWatches).toBe(0);
  });

  it('releases a watch its consumer stopped reading, as soon as the signal aborts', async () => {
    const { watcher, hub } = await openWatcher();
    const op = await accept();
    const options = watchOptions();
    const iterator = watcher.watchOperation(op.id, options)[Symbol.asyncIterator]();
    await iterator.next();
    expect(watcher.openWatches).toBe(1);
    options.abort(); // the consumer is not waiting on next(): the watch still lets go
    expect(watcher.openWatches).toBe(0);
    expect(hub.keyCount).toBe(0);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('close() ends every open watch and refuses new ones', async () => {
    const { watcher, hub } = await openWatcher();
    const op = await accept();
    const watches = [record(watcher.watchOperation(op.id, watchOptions())), record(watcher.watchLedger(op.ledgerId, watchOptions()))];
    await until(() => watches[0]!.items.length === 1, 'the snapshot');
    await until(() => hub.keyCount === 2, 'both watches following the feed');
    await watcher.close();
    await Promise.all(watches.map((w) => w.finished));
    expect(watches.map((w) => w.state.error)).toEqual([undefined, undefined]);
    expect(watcher.openWatches).toBe(0);
    const late = record(watcher.watchOperation(op.id, watchOptions()));
    await late.finished;
    expect(refusal(late.state.error).code).toBe('UNAVAILABLE');
  });
});
