import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { OperationService } from '@tally/contracts';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindService, type ListeningServer } from './binding.js';
import { HealthMonitor } from './health.js';
import { startHttpServer } from './http-server.js';

/** The HTTP port's own surface: CORS for browsers, health endpoints, limits, unknown paths. */

const APP_ORIGIN = 'https://app.example.com';

/** A console folder of two files, beside a file that must never be served. */
async function consoleFolder(): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'tally-console-'));
  await writeFile(path.join(root, 'secret.txt'), 'hunter2');
  const dir = path.join(root, 'dist');
  await mkdir(dir);
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>console</title>');
  await writeFile(path.join(dir, 'app.js'), 'console.log(1);');
  return dir;
}
let redisUp = true;
const health = new HealthMonitor({
  probes: {
    postgres: () => Promise.resolve(),
    redis: () => (redisUp ? Promise.resolve() : Promise.reject(new Error('connection refused'))),
  },
});
let server: ListeningServer;
let baseUrl: string;

beforeAll(async () => {
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    bindings: [bindService(OperationService, { getOperation: (req) => ({ operation: { id: req.operationId } }) })],
    health,
    logger: pino({ level: 'silent' }),
    corsOrigins: [APP_ORIGIN],
    requestTimeoutMs: 10_000,
    maxMessageBytes: 1024,
    metrics: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4', body: 'tally_up 1\n' }),
    consoleDir: await consoleFolder(),
  });
  baseUrl = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close(1_000);
});

const RPC_PATH = '/tally.v1.OperationService/GetOperation';

describe('CORS', () => {
  it('answers a browser preflight from an allowed origin with what Connect and gRPC-Web need', async () => {
    const response = await fetch(`${baseUrl}${RPC_PATH}`, {
      method: 'OPTIONS',
      headers: {
        Origin: APP_ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,connect-protocol-version,x-grpc-web',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = response.headers.get('access-control-allow-headers')?.toLowerCase() ?? '';
    for (const header of ['content-type', 'connect-protocol-version', 'x-grpc-web']) expect(allowed).toContain(header);
  });

  it('lets a page send the headers Tally reads: API key, client and request ids, trace context', async () => {
    const wanted = ['authorization', 'x-client-id', 'x-request-id', 'traceparent'];
    const response = await fetch(`${baseUrl}${RPC_PATH}`, {
      method: 'OPTIONS',
      headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': wanted.join(',') },
    });
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(wanted));
  });

  it('refuses a preflight from another origin', async () => {
    const response = await fetch(`${baseUrl}${RPC_PATH}`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example.com', 'Access-Control-Request-Method': 'POST' },
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets an allowed page read the answer and the gRPC status headers', async () => {
    const response = await fetch(`${baseUrl}${RPC_PATH}`, {
      method: 'POST',
      headers: { Origin: APP_ORIGIN, 'Content-Type': 'application/json', 'Connect-Protocol-Version': '1' },
      body: JSON.stringify({ operationId: 'op-1' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ operation: { id: 'op-1' } });
    expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    const exposed = (response.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(/,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(['grpc-status', 'grpc-message', 'grpc-status-details-bin', 'x-request-id']));
  });
});

describe('health endpoints', () => {
  it('/healthz answers ok while the process runs, whatever the dependencies', async () => {
    redisUp = false;
    await health.check();
    const response = await fetch(`${baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz is 200 when every probe is ok, else 503 naming the failing one', async () => {
    redisUp = true;
    await health.check();
    const ready = await fetch(`${baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', probes: { postgres: { ok: true }, redis: { ok: true } } });

    redisUp = false;
    await health.check();
    const notReady = await fetch(`${baseUrl}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({
      status: 'not ready',
      probes: { postgres: { ok: true }, redis: { ok: false, error: 'connection refused' } },
    });
  });

  it('answers over cleartext HTTP/2 on the same port', async () => {
    const session = http2.connect(baseUrl);
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ':path': '/healthz' });
        let status = 0;
        let body = '';
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
      });
      expect(status).toBe(200);
      expect(JSON.parse(body)).toEqual({ status: 'ok' });
    } finally {
      session.close();
    }
  });
});

describe('/metrics and /console', () => {
  it('answers /metrics with what the exposition gives', async () => {
    const response = await fetch(`${baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4');
    expect(await response.text()).toBe('tally_up 1\n');
  });

  it('sends /console to /console/, then serves the page and its files with a strict content policy', async () => {
    const moved = await fetch(`${baseUrl}/console`, { redirect: 'manual' });
    expect(moved.status).toBe(308);
    expect(moved.headers.get('location')).toBe('/console/');
    const page = await fetch(`${baseUrl}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<title>console</title>');
    const script = await fetch(`${baseUrl}/console/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe('console.log(1);');
  });

  it('serves nothing outside the console folder, and nothing but GET and HEAD', async () => {
    for (const path of ['/console/..%2Fsecret.txt', '/console/../secret.txt', '/console/sub/app.js', '/console/.hidden']) {
      expect((await fetch(`${baseUrl}${path}`)).status, path).toBe(404);
    }
    expect((await fetch(`${baseUrl}/console/app.js`, { method: 'POST' })).status).toBe(405);
  });
});

describe('limits and unknown paths', () => {
  it('answers 404 for a path that is neither an RPC nor a health endpoint', async () => {
    expect((await fetch(`${baseUrl}/nope`)).status).toBe(404);
  });

  it('answers 405 for a health endpoint called with the wrong method', async () => {
    const response = await fetch(`${baseUrl}/readyz`, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it.each([
    ['a unary call', RPC_PATH, 'application/json', Buffer.from('{}')],
    ['a Connect stream', '/tally.v1.OperationService/WatchOperation', 'application/connect+json', Buffer.from([0, 0, 0, 0, 2, 0x7b, 0x7d])],
  ])('answers 400 to %s without a Host header (HTTP/1.0), and goes on serving', async (_, path, type, body) => {
    const head = `POST ${path} HTTP/1.0\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, '127.0.0.1', () => socket.end(Buffer.concat([Buffer.from(head), body])));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const client = createClient(OperationService, createConnectTransport({ baseUrl, httpVersion: '1.1' }));
    expect((await client.getOperation({ operationId: 'still-here' })).operation?.id).toBe('still-here');
  });

  it('refuses a request message larger than maxMessageBytes', async () => {
    const client = createClient(OperationService, createConnectTransport({ baseUrl, httpVersion: '1.1' }));
    const error = await client.getOperation({ operationId: 'x'.repeat(4096) }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.ResourceExhausted);
  });
});

describe('idle HTTP/2 connections', () => {
  const IDLE_MS = 300;
  let idleServer: ListeningServer;
  let idleUrl: string;

  beforeAll(async () => {
    idleServer = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      bindings: [bindService(OperationService, { getOperation: (req) => ({ operation: { id: req.operationId } }) })],
      health,
      logger: pino({ level: 'silent' }),
      corsOrigins: [],
      requestTimeoutMs: 10_000,
      maxMessageBytes: 1024,
      idleTimeoutMs: IDLE_MS,
    });
    idleUrl = `http://127.0.0.1:${idleServer.port}`;
  });
  afterAll(() => idleServer?.close(1_000));

  const closed = (session: http2.ClientHttp2Session) => new Promise<void>((resolve) => session.once('close', () => resolve()));

  it('closes a connection that stays silent, and one whose last request has ended', async () => {
    const silent = http2.connect(idleUrl);
    silent.on('error', () => undefined);
    await closed(silent);

    const used = http2.connect(idleUrl);
    used.on('error', () => undefined);
    const stream = used.request({ ':path': '/healthz' });
    stream.resume();
    await new Promise((resolve) => stream.once('close', resolve));
    await closed(used);
  });

  it('keeps a connection while a request on it is still in progress', async () => {
    const session = http2.connect(idleUrl);
    session.on('error', () => undefined);
    let sessionClosed = false;
    session.once('close', () => (sessionClosed = true));
    // A request whose body never ends: in progress for as long as the client likes.
    const stream = session.request({ ':method': 'POST', ':path': RPC_PATH, 'content-type': 'application/json' }, { endStream: false });
    stream.on('error', () => undefined);
    stream.write('{');
    await new Promise((resolve) => setTimeout(resolve, 3 * IDLE_MS));
    expect(sessionClosed).toBe(false);
    stream.close();
    await closed(session);
  });
});
