import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random.js';
import { FAULT_KINDS, FaultSchedule } from './schedule.js';

describe('the fault schedule', () => {
  it('comes in rounds of every kind, so the counts stay level', () => {
    const schedule = new FaultSchedule(seededRandom(3));
    const first = Array.from({ length: FAULT_KINDS.length }, () => schedule.next());
    expect([...first].sort()).toEqual([...FAULT_KINDS].sort());
    expect(schedule.reached(1)).toBe(true);
    expect(schedule.reached(2)).toBe(false);
    for (let i = 0; i < FAULT_KINDS.length * 19; i++) schedule.next();
    expect([...schedule.counts().values()]).toEqual(FAULT_KINDS.map(() => 20));
  });

  it('varies the order from round to round, the same way for the same seed', () => {
    const order = (seed: number) => {
      const schedule = new FaultSchedule(seededRandom(seed));
      return Array.from({ length: FAULT_KINDS.length * 3 }, () => schedule.next());
    };
    expect(order(11)).toEqual(order(11));
    expect(order(11)).not.toEqual(order(12));
    const rounds = order(11);
    expect(rounds.slice(0, FAULT_KINDS.length)).not.toEqual(rounds.slice(FAULT_KINDS.length, 2 * FAULT_KINDS.length));
  });

  it('can be narrowed to some kinds, to reproduce what they do', () => {
    const schedule = new FaultSchedule(seededRandom(4), ['postgres-restart']);
    expect([schedule.next(), schedule.next()]).toEqual(['postgres-restart', 'postgres-restart']);
    expect(schedule.reached(2)).toBe(true);
  });
});
