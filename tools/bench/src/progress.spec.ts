import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatProgress, Progress } from './progress.js';

describe('formatProgress', () => {
  it('says the phase, the time, the count, the rate and the errors', () => {
    expect(formatProgress({ phase: 'single64', elapsedMs: 12_400, totalMs: 60_000, done: 18_234, ratePerS: 1_502.4, errors: 0, unit: 'requests' })).toBe(
      'single64       12/60 s  18,234 requests  1,502/s  0 errors',
    );
    expect(formatProgress({ phase: 'drain', elapsedMs: 3_000, totalMs: undefined, done: 10, ratePerS: 5, errors: 0, unit: 'ended', note: '7 left' })).toBe(
      'drain' + ' '.repeat(14) + '3 s  10 ended  5/s  0 errors  7 left',
    );
  });
});

describe('Progress', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const output = (isTTY: boolean) => {
    const written: string[] = [];
    return { written, out: { isTTY, write: (text: string) => written.push(text) } };
  };

  it('rewrites one line every second on a terminal', () => {
    const { written, out } = output(true);
    let done = 0;
    const line = new Progress(out).begin('open', 4_000, () => ({ done: (done += 100), errors: 0 }));
    vi.advanceTimersByTime(3_000);
    line.end();
    expect(written).toHaveLength(4);
    expect(written.slice(0, 3).every((w) => w.startsWith('\r') && !w.includes('\n'))).toBe(true);
    expect(written[2]).toContain('300 requests  100/s');
    expect(written[3]).toBe('\r\x1b[K');
  });

  it('writes a plain line every five seconds to a log', () => {
    const { written, out } = output(false);
    const progress = new Progress(out);
    const line = progress.begin('balances', 15_000, () => ({ done: 0, errors: 1 }));
    vi.advanceTimersByTime(11_000);
    progress.say('a summary');
    line.end();
    expect(written).toEqual([expect.stringMatching(/^balances +5\/15 s .*1 errors\n$/), expect.stringMatching(/^balances +10\/15 s/), 'a summary\n']);
  });
});
