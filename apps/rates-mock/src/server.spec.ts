import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_ADMIN_BODY_BYTES, MAX_URL_CHARS } from './http.js';
import { startRatesMock, type RatesMock } from './server.js';
import { SUPPORTED_CODES } from './usd-values.js';

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

let mock: RatesMock;

async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${mock.url}${path}`, init);
  expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

const post = (path: string, body: unknown) => call(path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });

const errorCode = (answer: Answer) => (answer.body as { error: { code: string } }).error.code;

describe('rates mock over HTTP', () => {
  beforeEach(async () => {
    mock = await startRatesMock({ port: 0 });
  });
  afterEach(async () => {
    await mock.close();
  });

  it('listens on 127.0.0.1 at the port it picked, and reports health', async () => {
    expect(mock.url).toBe(`http://127.0.0.1:${mock.port}`);
    expect(mock.port).toBeGreaterThan(0);
    expect(await call('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('quotes every other currency for a base, as decimal strings, with the time of the answer', async () => {
    const before = Date.now();
    const answer = await call('/v1/rates?base=USD');
    expect(answer.status).toBe(200);
    const body = answer.body as { base: string; as_of: string; rates: Record<string, unknown> };
    expect(Object.keys(body)).toEqual(['base', 'as_of', 'rates']);
    expect(body.base).toBe('USD');
    expect(body.as_of).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(body.as_of)).toBeGreaterThanOrEqual(before - 1);
    expect(Object.keys(body.rates)).toEqual(SUPPORTED_CODES.filter((c) => c !== 'USD'));
    for (const rate of Object.values(body.rates)) expect(rate).toMatch(/^(0|[1-9]\d*)(\.\d*[1-9])?$/);
    expect(body.rates).toMatchObject({ EUR: '0.9215', JPY: '151.37' });
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('quotes only the symbols asked for', async () => {
    const answer = await call('/v1/rates?base=EUR&symbols=USD,JPY');
    expect(answer).toMatchObject({ status: 200, body: { base: 'EUR', rates: { USD: '1.08518719479', JPY: '164.264785676' } } });
    expect(Object.keys((answer.body as { rates: object }).rates)).toEqual(['USD', 'JPY']);
  });

  it('answers 400 UNKNOWN_CURRENCY for an unknown base or symbol, and 400 INVALID_REQUEST without a base', async () => {
    for (const path of ['/v1/rates?base=XXX', '/v1/rates?base=USD&symbols=EUR,ZZZ', '/v1/rates?base=usd']) {
      const answer = await call(path);
      expect(answer.status, path).toBe(400);
      expect(errorCode(answer), path).toBe('UNKNOWN_CURRENCY');
      expect((answer.body as { error: { message: string } }).error.message, path).toMatch(/unknown currency/);
    }
    const missing = await call('/v1/rates');
    expect([missing.status, errorCode(missing)]).toEqual([400, 'INVALID_REQUEST']);
  });

  it('answers 404 JSON off the API, 405 for other methods on /v1, and 414 for an overlong URL', async () => {
    for (const path of ['/', '/v2/rates?base=USD', '/v1/latest', '/admin/nothing']) {
      const answer = await call(path);
      expect([answer.status, errorCode(answer)], path).toEqual([404, 'NOT_FOUND']);
    }
    const wrongMethod = await post('/v1/rates?base=USD', {});
    expect([wrongMethod.status, errorCode(wrongMethod), wrongMethod.headers.get('allow')]).toEqual([405, 'METHOD_NOT_ALLOWED', 'GET']);
    const deleted = await call('/v1/rates?base=USD', { method: 'DELETE' });
    expect(deleted.status).toBe(405);
    const long = await call(`/v1/rates?base=USD&pad=${'x'.repeat(MAX_URL_CHARS)}`);
    expect([long.status, errorCode(long)]).toEqual([414, 'URI_TOO_LONG']);
  });

  it('still answers with latency switched on', async () => {
    expect(await post('/admin/faults', { latencyMs: 30 })).toMatchObject({ status: 200, body: { latencyMs: 30, errorRate: 0, outage: false } });
    expect((await call('/v1/rates?base=USD&symbols=EUR')).status).toBe(200);
    mock.setFaults({ latencyMs: 5 });
    expect((await call('/v1/rates?base=USD&symbols=EUR')).status).toBe(200);
  });

  it('answers 503 UNAVAILABLE at error rate 1, every second time at 0.5', async () => {
    await post('/admin/faults', { errorRate: 1 });
    const failed = await call('/v1/rates?base=USD');
    expect([failed.status, errorCode(failed), failed.headers.get('retry-after')]).toEqual([503, 'UNAVAILABLE', '1']);
    expect((await call('/healthz')).status).toBe(200);

    mock.setFaults({ errorRate: 0.5 });
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await call('/v1/rates?base=USD&symbols=EUR')).status);
    expect(statuses).toEqual([200, 503, 200, 503]);
  });

  it('drops every /v1 connection in an outage, while /healthz and /admin still answer and can end it', async () => {
    expect(await post('/admin/faults', { outage: true })).toMatchObject({ status: 200, body: { outage: true } });
    await expect(fetch(`${mock.url}/v1/rates?base=USD`)).rejects.toThrow(TypeError);
    await expect(fetch(`${mock.url}/anything`)).rejects.toThrow(TypeError);
    expect(await call('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await call('/admin/faults')).toMatchObject({ status: 200, body: { outage: true } });

    expect(await post('/admin/faults', { outage: false })).toMatchObject({ status: 200, body: { outage: false } });
    expect((await call('/v1/rates?base=USD')).status).toBe(200);
  });

  it('refuses bad switches with 400, changing nothing', async () => {
    for (const body of [{ latencyMs: -1 }, { errorRate: 2 }, { outage: 'yes' }, { latency: 5 }, [], 'not json', '']) {
      const answer = await post('/admin/faults', body);
      expect([answer.status, errorCode(answer)], JSON.stringify(body)).toEqual([400, 'INVALID_REQUEST']);
    }
    const mixed = await post('/admin/faults', { latencyMs: 10, outage: 'yes' });
    expect(mixed.status).toBe(400);
    expect(await call('/admin/faults')).toMatchObject({ body: { latencyMs: 0, errorRate: 0, outage: false } });
  });

  it('refuses an admin body over the limit with 413, and other methods with 405', async () => {
    const big = await post('/admin/faults', JSON.stringify({ pad: 'x'.repeat(MAX_ADMIN_BODY_BYTES) }));
    expect([big.status, errorCode(big)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const chunked = await call('/admin/rates', {
      method: 'POST',
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 8; i += 1) controller.enqueue(new TextEncoder().encode(' '.repeat(1024)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect((await call('/admin/faults', { method: 'PUT' })).status).toBe(405);
    expect((await call('/admin/reset')).status).toBe(405);
  });

  it('changes rates when a USD value is overridden, and resets switches and values', async () => {
    expect(await post('/admin/rates', { EUR: '0.5' })).toMatchObject({ status: 200, body: { EUR: '0.5' } });
    expect(await call('/v1/rates?base=USD&symbols=EUR')).toMatchObject({ body: { rates: { EUR: '2' } } });
    expect(await call('/admin/rates')).toMatchObject({ status: 200, body: { EUR: '0.5' } });
    expect((await post('/admin/rates', { EUR: '0' })).status).toBe(400);
    expect((await post('/admin/rates', { XXX: '1' })).status).toBe(400);
    await post('/admin/faults', { latencyMs: 20, errorRate: 0.5 });

    expect(await post('/admin/reset', '')).toMatchObject({
      status: 200,
      body: { faults: { latencyMs: 0, errorRate: 0, outage: false }, usdValues: {} },
    });
    expect(await call('/v1/rates?base=USD&symbols=EUR')).toMatchObject({ status: 200, body: { rates: { EUR: '0.9215' } } });
  });

  it('lets a test drive the same switches in process', async () => {
    mock.setFaults({ outage: true });
    await expect(fetch(`${mock.url}/v1/rates?base=USD`)).rejects.toThrow(TypeError);
    mock.setUsdValues({ JPY: '0.01' });
    expect(mock.resetFaults()).toEqual({ latencyMs: 0, errorRate: 0, outage: false });
    expect(await call('/v1/rates?base=USD&symbols=JPY')).toMatchObject({ body: { rates: { JPY: '151.37' } } });
    expect(() => mock.setFaults({ errorRate: -1 })).toThrow(RangeError);
    expect(() => mock.setUsdValues({ JPY: '1e2' })).toThrow(RangeError);
  });
});

describe('rates mock options', () => {
  it('starts with the given switches, resets to them, and can freeze as_of', async () => {
    const frozen = await startRatesMock({ faults: { errorRate: 1 }, frozenAt: new Date('2024-06-25T12:00:00Z') });
    try {
      const url = `${frozen.url}/v1/rates?base=USD&symbols=EUR`;
      expect((await fetch(url)).status).toBe(503);
      frozen.setFaults({ errorRate: 0 });
      expect(await (await fetch(url)).json()).toEqual({ base: 'USD', as_of: '2024-06-25T12:00:00.000Z', rates: { EUR: '0.9215' } });
      expect(frozen.resetFaults()).toEqual({ latencyMs: 0, errorRate: 1, outage: false });
    } finally {
      await frozen.close();
    }
  });

  it('refuses a port in use and bad options', async () => {
    const first = await startRatesMock();
    try {
      await expect(startRatesMock({ port: first.port })).rejects.toThrow(/EADDRINUSE/);
      await expect(startRatesMock({ port: -1 })).rejects.toThrow(RangeError);
      await expect(startRatesMock({ faults: { latencyMs: 1e9 } })).rejects.toThrow(RangeError);
      await expect(startRatesMock({ frozenAt: new Date('nonsense') })).rejects.toThrow(RangeError);
    } finally {
      await first.close();
    }
  });

  it('ends waits in flight when closed, without waiting out the latency', async () => {
    const slow = await startRatesMock({ faults: { latencyMs: 60_000 } });
    const pending = fetch(`${slow.url}/v1/rates?base=USD`).then(
      (response) => response.status,
      () => 'connection error',
    );
    await new Promise((resolve) => setTimeout(resolve, 200)); // for the request to arrive
    await slow.close();
    expect(await pending).toBe(503);
    await expect(fetch(`${slow.url}/healthz`)).rejects.toThrow(TypeError);
  });
});
