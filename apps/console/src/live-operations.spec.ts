import { describe, expect, it } from 'vitest';
import { mergeOperation, mergePage } from './live-operations.js';

const op = (id: string, version: number, status = 'PENDING') => ({ id, version: BigInt(version), status });

describe('mergeOperation', () => {
  it('puts a new operation on top', () => {
    const list = mergeOperation([op('a', 1)], op('b', 1));
    expect(list.map((o) => o.id)).toEqual(['b', 'a']);
  });

  it('updates a shown operation in place when the version is newer', () => {
    const list = mergeOperation([op('b', 1), op('a', 1)], op('a', 3, 'COMPLETED'));
    expect(list).toEqual([op('b', 1), op('a', 3, 'COMPLETED')]);
  });

  it('never goes back to an older or the same version', () => {
    const shown = [op('a', 3, 'COMPLETED')];
    expect(mergeOperation(shown, op('a', 2, 'PROCESSING'))).toBe(shown);
    expect(mergeOperation(shown, op('a', 3, 'COMPLETED'))).toBe(shown);
  });

  it('keeps at most the limit, dropping the oldest', () => {
    let list: ReturnType<typeof mergeOperation<ReturnType<typeof op>>> = [];
    for (let i = 0; i < 5; i++) list = mergeOperation(list, op(`o${i}`, 1), 3);
    expect(list.map((o) => o.id)).toEqual(['o4', 'o3', 'o2']);
  });
});

describe('mergePage', () => {
  it('keeps what only the stream saw on top and the newer version of each', () => {
    const streamed = [op('new', 1), op('a', 4, 'COMPLETED')];
    const page = [op('a', 2, 'PROCESSING'), op('b', 3, 'FAILED')];
    expect(mergePage(streamed, page)).toEqual([op('new', 1), op('a', 4, 'COMPLETED'), op('b', 3, 'FAILED')]);
  });

  it('takes the page version when it is newer', () => {
    expect(mergePage([op('a', 1)], [op('a', 3, 'COMPLETED')])).toEqual([op('a', 3, 'COMPLETED')]);
  });

  it('keeps at most the limit', () => {
    expect(mergePage([op('x', 1)], [op('a', 1), op('b', 1)], 2).map((o) => o.id)).toEqual(['x', 'a']);
  });
});
