import { describe, expect, it } from 'vitest';
import { nowMs } from '../latency.js';
import { dueBy, runSchedule } from './schedule.js';

describe('dueBy', () => {
  it('makes submit n due at n intervals, the first at once, never more than the total', () => {
    expect(dueBy(0, 10, 100)).toBe(1);
    expect(dueBy(9.99, 10, 100)).toBe(1);
    expect(dueBy(10, 10, 100)).toBe(2);
    expect(dueBy(995, 10, 100)).toBe(100);
    expect(dueBy(5_000, 10, 100)).toBe(100);
  });
});

describe('runSchedule', () => {
  it('sends every submit, each at or after its due time, in order', async () => {
    const sent: Array<[number, number, number]> = [];
    const startMs = nowMs();
    const outcome = await runSchedule({ total: 30, intervalMs: 0.5, startMs, maxInFlight: 100, inFlight: () => 0, send: (n, dueMs) => sent.push([n, dueMs, nowMs()]) });
    expect(outcome).toEqual({ sent: 30, skipped: 0 });
    expect(sent.map(([n]) => n)).toEqual([...Array(30).keys()]);
    for (const [n, dueMs, atMs] of sent) {
      expect(dueMs).toBe(startMs + n * 0.5);
      expect(atMs).toBeGreaterThanOrEqual(dueMs);
    }
  });

  it('skips (and counts) what falls due while too many are outstanding, instead of queueing it', async () => {
    let outstanding = 0;
    const outcome = await runSchedule({ total: 10, intervalMs: 0.1, startMs: nowMs(), maxInFlight: 4, inFlight: () => outstanding, send: () => (outstanding += 1) });
    expect(outcome).toEqual({ sent: 4, skipped: 6 });
  });

  it('ends with the error of a failing per-second hook', async () => {
    const run = runSchedule({
      total: 1_000_000,
      intervalMs: 1,
      startMs: nowMs() - 2_000,
      maxInFlight: 1,
      inFlight: () => 1,
      send: () => undefined,
      onSecond: () => {
        throw new Error('server gone');
      },
    });
    await expect(run).rejects.toThrow('server gone');
  });
});
