import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, createRedis, type Redis } from '@tally/platform';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CACHE_KEY, LAST_KNOWN_KEY, RateSource, type RatePolicy } from './rate-source.js';

/**
 * The rate provider's circuit, seen from the rates it serves: a provider over real HTTP that
 * can be switched off, the real Redis cache, and the clock moved by hand (only Date is faked:
 * sockets and timeouts run in real time).
 */
const FAILURES_TO_OPEN = 5;
const OPEN_MS = 10_000;

const provider = { up: true, asked: 0, eur: 0.9 };
let server: Server;
let redis: Redis;
let policy: RatePolicy;

beforeAll(async () => {
  server = createServer((_request, response) => {
    provider.asked++;
    if (!provider.up) return void response.writeHead(503).end();
    // Each answer has its own EUR rate, so a test can tell which table served.
    provider.eur = Math.round((provider.eur + 0.01) * 100) / 100;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ base: 'USD', as_of: new Date().toISOString(), rates: { EUR: provider.eur.toFixed(2) } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  policy = {
    providerUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    timeoutMs: 2_000,
    cacheTtlMs: 60_000,
    maxStalenessMs: 3_600_000,
    breaker: { failureThreshold: FAILURES_TO_OPEN, openMs: OPEN_MS },
  };
  redis = createRedis(process.env['REDIS_URL']!, createLogger('silent'), 'rate-source-spec');
  await redis.connect();
});
afterAll(async () => {
  await redis.del(CACHE_KEY, LAST_KNOWN_KEY); // no rates left behind for other suites on this Redis
  redis.disconnect();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  Object.assign(provider, { up: true, asked: 0 });
  await redis.del(CACHE_KEY, LAST_KNOWN_KEY);
  vi.useFakeTimers({ toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** The EUR rate a refresh serves, after the cached table has expired. */
async function eurAfterExpiry(source: RateSource): Promise<string | undefined> {
  await redis.del(CACHE_KEY);
  return (await source.table()).usdRates['EUR'];
}

/** A source whose provider went down after one good answer, and whose circuit has just opened. */
async function openCircuit(): Promise<{ source: RateSource; lastKnown: string | undefined }> {
  const source = new RateSource(redis, policy, createLogger('silent'));
  const lastKnown = await eurAfterExpiry(source);
  provider.up = false;
  for (let i = 0; i < FAILURES_TO_OPEN; i++) expect(await eurAfterExpiry(source)).toBe(lastKnown);
  expect(provider.asked).toBe(1 + FAILURES_TO_OPEN);
  return { source, lastKnown };
}

describe('the rate provider circuit', () => {
  it(`opens after ${FAILURES_TO_OPEN} failures in a row: the provider is not asked while open, the last known rates serve`, async () => {
    const { source, lastKnown } = await openCircuit();
    for (let i = 0; i < 3; i++) expect(await eurAfterExpiry(source)).toBe(lastKnown);
    vi.advanceTimersByTime(OPEN_MS - 1);
    expect(await eurAfterExpiry(source)).toBe(lastKnown);
    expect(provider.asked).toBe(1 + FAILURES_TO_OPEN);
  });

  it('counts failures in a row only: an answer in between starts the count again', async () => {
    const source = new RateSource(redis, policy, createLogger('silent'));
    for (const up of [false, false, false, false, true, false, false, false, false]) {
      provider.up = up;
      await eurAfterExpiry(source).catch(() => undefined); // the first failures have no rates to fall back on
    }
    provider.up = true;
    const asked = provider.asked;
    const fresh = await eurAfterExpiry(source);
    expect([provider.asked, fresh]).toEqual([asked + 1, provider.eur.toFixed(2)]);
  });

  it('after the open time, lets one trial through: a failed trial opens the circuit again', async () => {
    const { source, lastKnown } = await openCircuit();
    vi.advanceTimersByTime(OPEN_MS);
    expect(await eurAfterExpiry(source)).toBe(lastKnown);
    expect(provider.asked).toBe(2 + FAILURES_TO_OPEN);
    // Open again, for another full period.
    vi.advanceTimersByTime(OPEN_MS - 1);
    expect(await eurAfterExpiry(source)).toBe(lastKnown);
    expect(provider.asked).toBe(2 + FAILURES_TO_OPEN);
  });

  it('after the open time, lets one trial through: a good answer closes the circuit and serves', async () => {
    const { source, lastKnown } = await openCircuit();
    vi.advanceTimersByTime(OPEN_MS);
    provider.up = true;
    const trial = await eurAfterExpiry(source);
    expect(trial).not.toBe(lastKnown);
    expect(trial).toBe(provider.eur.toFixed(2));
    // Closed: a failure is asked about and counted from zero again, not answered by an open circuit.
    provider.up = false;
    for (let i = 0; i < FAILURES_TO_OPEN - 1; i++) expect(await eurAfterExpiry(source)).toBe(trial);
    provider.up = true;
    expect(await eurAfterExpiry(source)).toBe(provider.eur.toFixed(2));
    expect(provider.asked).toBe(1 + FAILURES_TO_OPEN + 1 + FAILURES_TO_OPEN);
  });
});
