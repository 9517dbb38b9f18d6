import { describe, expect, it, vi } from 'vitest';
import { HealthMonitor } from './health.js';

/** A probe whose outcome the test flips: resolves while `up`, rejects otherwise. */
function switchable(): { probe: () => Promise<void>; up: boolean } {
  const state = {
    up: true,
    probe: () => (state.up ? Promise.resolve() : Promise.reject(new Error('connection refused'))),
  };
  return state;
}

describe('HealthMonitor', () => {
  it('is not ready before its probes have run once', () => {
    const monitor = new HealthMonitor({ probes: { postgres: () => Promise.resolve() } });
    expect(monitor.snapshot()).toEqual({ ready: false, probes: { postgres: { ok: false, error: 'not checked yet' } } });
  });

  it('is ready when every probe answers, and names the one that fails', async () => {
    const postgres = switchable();
    const monitor = new HealthMonitor({ probes: { postgres: postgres.probe, redis: () => Promise.resolve('PONG') } });
    expect((await monitor.check()).ready).toBe(true);

    postgres.up = false;
    const snapshot = await monitor.check();
    expect(snapshot.ready).toBe(false);
    expect(snapshot.probes['postgres']).toMatchObject({ ok: false, error: 'connection refused' });
    expect(snapshot.probes['redis']).toMatchObject({ ok: true });
  });

  it('counts a probe that never answers as failed', async () => {
    const monitor = new HealthMonitor({ probes: { postgres: () => new Promise(() => undefined) }, probeTimeoutMs: 20 });
    const snapshot = await monitor.check();
    expect(snapshot.probes['postgres']).toMatchObject({ ok: false, error: 'no answer within 20 ms' });
  });

  it('publishes SERVING / NOT_SERVING for the server and each service as readiness changes', async () => {
    const postgres = switchable();
    const monitor = new HealthMonitor({ probes: { postgres: postgres.probe } });
    const statuses = new Map<string, string>();
    const stop = monitor.publishTo({ setStatus: (name, status) => statuses.set(name, status) }, ['tally.v1.LedgerService']);
    expect(Object.fromEntries(statuses)).toEqual({ '': 'NOT_SERVING', 'tally.v1.LedgerService': 'NOT_SERVING' });

    await monitor.check();
    expect(Object.fromEntries(statuses)).toEqual({ '': 'SERVING', 'tally.v1.LedgerService': 'SERVING' });

    postgres.up = false;
    await monitor.check();
    expect(statuses.get('tally.v1.LedgerService')).toBe('NOT_SERVING');

    stop();
    postgres.up = true;
    await monitor.check();
    expect(statuses.get('')).toBe('NOT_SERVING'); // no longer published
  });

  it('keeps polling after start() until stop(), so an outage is noticed without anyone asking', async () => {
    const postgres = switchable();
    const monitor = new HealthMonitor({ probes: { postgres: postgres.probe }, intervalMs: 10 });
    monitor.start();
    try {
      await vi.waitFor(() => expect(monitor.snapshot().ready).toBe(true));
      postgres.up = false;
      await vi.waitFor(() => expect(monitor.snapshot().ready).toBe(false));
    } finally {
      monitor.stop();
    }
  });
});
