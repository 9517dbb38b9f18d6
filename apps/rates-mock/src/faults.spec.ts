import { describe, expect, it } from 'vitest';
import { checkFaultsPatch, FaultSwitches, MAX_LATENCY_MS, NO_FAULTS } from './faults.js';

/** Which of the next n answers fail, as a string of x (503) and . (answered). */
const pattern = (switches: FaultSwitches, n: number) => Array.from({ length: n }, () => (switches.nextAnswerFails() ? 'x' : '.')).join('');

describe('checkFaultsPatch', () => {
  it('accepts any subset of the three switches', () => {
    expect(checkFaultsPatch({})).toEqual({ ok: true, patch: {} });
    expect(checkFaultsPatch({ latencyMs: 250 })).toEqual({ ok: true, patch: { latencyMs: 250 } });
    expect(checkFaultsPatch({ latencyMs: MAX_LATENCY_MS, errorRate: 1, outage: true })).toEqual({
      ok: true,
      patch: { latencyMs: MAX_LATENCY_MS, errorRate: 1, outage: true },
    });
  });

  it('names every bad value and every unknown field', () => {
    const checked = checkFaultsPatch({ latencyMs: -1, errorRate: 1.5, outage: 'true', latency: 5 });
    expect(checked).toEqual({
      ok: false,
      problems: [
        `latencyMs must be a whole number of milliseconds from 0 to ${MAX_LATENCY_MS} (got -1)`,
        'errorRate must be a number from 0 to 1 (got 1.5)',
        'outage must be true or false (got "true")',
        '"latency" is not a fault switch: use latencyMs, errorRate, outage',
      ],
    });
    for (const bad of [{ latencyMs: 1.5 }, { latencyMs: MAX_LATENCY_MS + 1 }, { latencyMs: '10' }, { errorRate: -0.1 }, { errorRate: null }, { outage: 1 }]) {
      expect(checkFaultsPatch(bad).ok, JSON.stringify(bad)).toBe(false);
    }
  });

  it('wants a JSON object', () => {
    for (const body of [null, [], 'outage', true, 3]) expect(checkFaultsPatch(body).ok).toBe(false);
  });
});

describe('FaultSwitches', () => {
  it('starts with no faults unless told otherwise, and refuses bad initial values', () => {
    expect(new FaultSwitches().current()).toEqual(NO_FAULTS);
    expect(new FaultSwitches({ outage: true }).current()).toEqual({ ...NO_FAULTS, outage: true });
    expect(() => new FaultSwitches({ errorRate: 2 })).toThrow(RangeError);
  });

  it('changes only the switches given, and nothing on a bad value', () => {
    const switches = new FaultSwitches();
    expect(switches.set({ latencyMs: 100 })).toEqual({ latencyMs: 100, errorRate: 0, outage: false });
    expect(switches.set({ outage: true })).toEqual({ latencyMs: 100, errorRate: 0, outage: true });
    expect(() => switches.set({ latencyMs: -5 })).toThrow(/latencyMs must be/);
    expect(switches.current()).toEqual({ latencyMs: 100, errorRate: 0, outage: true });
  });

  it('resets to the switches it started with', () => {
    const switches = new FaultSwitches({ latencyMs: 20 });
    switches.set({ latencyMs: 500, errorRate: 1, outage: true });
    expect(switches.reset()).toEqual({ latencyMs: 20, errorRate: 0, outage: false });
  });

  it('fails a deterministic share of answers: all, every second, every fourth, three in ten, none', () => {
    const switches = new FaultSwitches();
    expect(pattern(switches, 8)).toBe('........');
    switches.set({ errorRate: 1 });
    expect(pattern(switches, 8)).toBe('xxxxxxxx');
    switches.set({ errorRate: 0.5 });
    expect(pattern(switches, 8)).toBe('.x.x.x.x');
    switches.set({ errorRate: 0.25 });
    expect(pattern(switches, 8)).toBe('...x...x');
    switches.set({ errorRate: 0.3 });
    expect(pattern(switches, 20)).toBe('...x..x..x...x..x..x');
    switches.set({ errorRate: 0.001 });
    expect(pattern(switches, 2000).split('x').length - 1).toBe(2);
  });

  it('restarts the sequence when the rate is set again or reset, not when another switch changes', () => {
    const switches = new FaultSwitches({ errorRate: 0.5 });
    expect(pattern(switches, 3)).toBe('.x.');
    switches.set({ latencyMs: 10 });
    expect(pattern(switches, 1)).toBe('x');
    switches.set({ errorRate: 0.5 });
    expect(pattern(switches, 2)).toBe('.x');
    pattern(switches, 1);
    switches.reset();
    expect(pattern(switches, 2)).toBe('.x');
  });
});
