import { describe, expect, it } from 'vitest';
import { Coalescer } from './coalescer.js';

/** A run that records its batches and answers each item doubled, once released. */
function recorder() {
  const batches: number[][] = [];
  const releases: Array<() => void> = [];
  const run = (items: readonly number[]) =>
    new Promise<number[]>((resolve) => {
      batches.push([...items]);
      releases.push(() => resolve(items.map((n) => n * 2)));
    });
  const releaseAll = () => releases.splice(0).forEach((release) => release());
  return { batches, run, releaseAll };
}

const overloaded = () => new Error('overloaded');
/** Lets the event loop go round twice: a batch scheduled when the previous one settled has started. */
const turn = async () => {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('Coalescer', () => {
  it('runs the calls of one turn together, and the calls made meanwhile together in the next batch', async () => {
    const { batches, run, releaseAll } = recorder();
    const coalescer = new Coalescer({ run, maxBatchItems: 100, maxWaitingItems: 1_000, overloaded });
    const first = [coalescer.submit([1]), coalescer.submit([2, 3])];
    await turn();
    expect(batches).toEqual([[1, 2, 3]]);
    // The first batch is in flight: these wait, and go together once it is done.
    const later = [coalescer.submit([4]), coalescer.submit([5]), coalescer.submitOne(6)];
    await turn();
    expect(batches).toHaveLength(1);
    releaseAll();
    expect(await Promise.all(first)).toEqual([[2], [4, 6]]);
    await turn();
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6]]);
    releaseAll();
    expect(await Promise.all(later)).toEqual([[8], [10], 12]);
  });

  it('never splits a call, and keeps batches within maxBatchItems', async () => {
    const { batches, run, releaseAll } = recorder();
    const coalescer = new Coalescer({ run, maxBatchItems: 4, maxWaitingItems: 100, overloaded });
    const calls = [coalescer.submit([1, 2]), coalescer.submit([3, 4, 5]), coalescer.submit([6])];
    for (let i = 0; i < 3; i++) {
      await turn();
      releaseAll();
    }
    await Promise.all(calls);
    expect(batches).toEqual([[1, 2], [3, 4, 5, 6]]);
    await expect(coalescer.submit([1, 2, 3, 4, 5])).rejects.toThrow(/exceeds maxBatchItems/);
  });

  it('refuses a call at once when too many items already wait', async () => {
    const { run, releaseAll } = recorder();
    const coalescer = new Coalescer({ run, maxBatchItems: 2, maxWaitingItems: 3, overloaded });
    const running = coalescer.submit([1, 2]);
    await turn();
    const waiting = coalescer.submit([3, 4]);
    await expect(coalescer.submit([5, 6])).rejects.toThrow('overloaded');
    expect(coalescer.waitingItems).toBe(2);
    releaseAll();
    await running;
    await turn();
    releaseAll();
    expect(await waiting).toEqual([6, 8]);
  });

  it('runs up to maxConcurrentBatches at once', async () => {
    const { batches, run, releaseAll } = recorder();
    const coalescer = new Coalescer({ run, maxBatchItems: 1, maxWaitingItems: 10, maxConcurrentBatches: 2, overloaded });
    const calls = [1, 2, 3].map((n) => coalescer.submitOne(n));
    await turn();
    expect(batches).toEqual([[1], [2]]);
    releaseAll();
    await turn();
    await turn();
    expect(batches).toEqual([[1], [2], [3]]);
    releaseAll();
    expect(await Promise.all(calls)).toEqual([2, 4, 6]);
  });

  it("runs each call alone after a batch failed, so one caller's bad item fails only that caller", async () => {
    const batches: string[][] = [];
    const coalescer = new Coalescer<string, string>({
      run: (items) => {
        batches.push([...items]);
        return items.includes('bad') ? Promise.reject(new Error('bad item')) : Promise.resolve(items.map((s) => s.toUpperCase()));
      },
      maxBatchItems: 10,
      maxWaitingItems: 10,
      overloaded,
      retryAlone: (error) => error instanceof Error && error.message === 'bad item',
    });
    const [good, bad, other] = await Promise.allSettled([coalescer.submit(['a']), coalescer.submit(['bad']), coalescer.submit(['b', 'c'])]);
    expect(good).toEqual({ status: 'fulfilled', value: ['A'] });
    expect(bad).toMatchObject({ status: 'rejected', reason: { message: 'bad item' } });
    expect(other).toEqual({ status: 'fulfilled', value: ['B', 'C'] });
    expect(batches).toEqual([['a', 'bad', 'b', 'c'], ['a'], ['bad'], ['b', 'c']]);
  });

  it('fails every call of a batch together when the failure is not one to retry alone', async () => {
    let runs = 0;
    const coalescer = new Coalescer<number, number>({
      run: () => {
        runs++;
        return Promise.reject(new Error('database away'));
      },
      maxBatchItems: 10,
      maxWaitingItems: 10,
      overloaded,
      retryAlone: () => false,
    });
    const outcomes = await Promise.allSettled([coalescer.submitOne(1), coalescer.submitOne(2)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(runs).toBe(1);
  });

  it('refuses a run that answers a different number of items than it was given', async () => {
    const coalescer = new Coalescer<number, number>({ run: () => Promise.resolve([1]), maxBatchItems: 10, maxWaitingItems: 10, overloaded });
    await expect(coalescer.submit([1, 2])).rejects.toThrow(/answered 1 times/);
  });
});
