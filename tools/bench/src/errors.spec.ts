import { describe, expect, it } from 'vitest';
import { ErrorTally, formatByCode } from './errors.js';

describe('ErrorTally', () => {
  it('counts errors by code, keeping a few distinct messages of each', () => {
    const tally = new ErrorTally();
    for (let i = 0; i < 10; i++) tally.add('UNAVAILABLE', `connection lost ${i % 5}`);
    tally.add('DEADLINE_EXCEEDED', 'too slow');
    tally.add('UNAVAILABLE', 'connection lost 0');
    expect(tally.total).toBe(12);
    expect(tally.summary()).toEqual({
      total: 12,
      unexpected: 11,
      byCode: { DEADLINE_EXCEEDED: 1, UNAVAILABLE: 11 },
      messages: { UNAVAILABLE: ['connection lost 0', 'connection lost 1', 'connection lost 2'], DEADLINE_EXCEEDED: ['too slow'] },
    });
  });

  it('writes counts compactly', () => {
    expect(formatByCode({})).toBe('none');
    expect(formatByCode({ INTERNAL: 1, UNAVAILABLE: 3 })).toBe('INTERNAL 1, UNAVAILABLE 3');
  });
});
