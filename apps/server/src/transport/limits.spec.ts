import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { OperationService } from '@tally/contracts';
import type { TlsFiles } from '@tally/platform';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindService, type ListeningServer } from './binding.js';
import { startGrpcServer } from './grpc-server.js';
import { HealthMonitor } from './health.js';
import { startHttpServer } from './http-server.js';

/**
 * What a slow, silent or hostile client meets on both ports (limits.ts), with the timeouts
 * shortened so that the test sees them act: a silent connection is closed, a request that never
 * arrives whole is ended, a TLS handshake that never finishes is cut, a stream reset at once
 * costs no handler work; and reflection can be switched off.
 */

const SHORT_MS = 300;
/** Comfortably longer than SHORT_MS plus the HTTP/1.1 check interval (1 s), on a busy machine. */
const PATIENCE_MS = 10_000;
const GET_OPERATION = '/tally.v1.OperationService/GetOperation';

const health = new HealthMonitor({ probes: {} });
const logger = pino({ level: 'silent' });
let handled = 0;
const bindings = [
  bindService(OperationService, {
    getOperation: (req) => {
      handled++;
      return { operation: { id: req.operationId } };
    },
  }),
];
const common = { host: '127.0.0.1', port: 0, bindings, health, logger, requestTimeoutMs: 10_000, maxMessageBytes: 1024 * 1024 };
const short = { idleTimeoutMs: SHORT_MS, requestReceiveTimeoutMs: SHORT_MS, handshakeTimeoutMs: SHORT_MS };

let grpcServer: ListeningServer;
let httpServer: ListeningServer;
let tlsGrpc: ListeningServer;
let tlsHttp: ListeningServer;
let certDir: string;

/** A self-signed certificate for 127.0.0.1. */
function selfSigned(): TlsFiles {
  certDir = mkdtempSync(join(tmpdir(), 'tally-limits-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1'], { cwd: certDir, stdio: 'pipe' });
  return { cert: readFileSync(join(certDir, 'cert.pem')), key: readFileSync(join(certDir, 'key.pem')), ca: undefined };
}

beforeAll(async () => {
  grpcServer = await startGrpcServer({ ...common, ...short, reflection: false });
  httpServer = await startHttpServer({ ...common, ...short, corsOrigins: [] });
  const tls = selfSigned();
  tlsGrpc = await startGrpcServer({ ...common, ...short, tls });
  tlsHttp = await startHttpServer({ ...common, ...short, tls, corsOrigins: [] });
});

afterAll(async () => {
  await Promise.all([grpcServer, httpServer, tlsGrpc, tlsHttp].map((server) => server?.close(1_000)));
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

/** Resolves when the server closes the socket; rejects if it is still open after PATIENCE_MS. */
function closedByServer(socket: net.Socket | http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server left the connection open')), PATIENCE_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function connect(port: number, firstBytes: string): net.Socket {
  const socket = net.connect(port, '127.0.0.1', () => socket.write(firstBytes));
  socket.on('error', () => undefined);
  socket.resume();
  return socket;
}

const envelope = (payload: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 0, payload.length]), payload]);

describe.each([
  ['gRPC', () => grpcServer.port],
  ['HTTP', () => httpServer.port],
])('the %s port', (_name, port) => {
  it('closes a connection that never says anything', async () => {
    await closedByServer(connect(port(), ''));
  });

  it('closes an HTTP/2 connection that sends its preface and nothing after', async () => {
    const session = http2.connect(`http://127.0.0.1:${port()}`);
    session.on('error', () => undefined);
    await closedByServer(session);
  });

  it('ends a request whose body never arrives whole, and closes the connection once idle', async () => {
    const session = http2.connect(`http://127.0.0.1:${port()}`);
    session.on('error', () => undefined);
    const stream = session.request({ ':method': 'POST', ':path': GET_OPERATION, 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false });
    stream.on('error', () => undefined);
    stream.resume();
    // Half of an envelope announcing 100 bytes, and then nothing.
    stream.write(Buffer.from([0, 0, 0, 0, 100, 0x0a]));
    const ended = new Promise<string>((resolve) => {
      stream.on('response', (headers) => headers['grpc-status'] !== undefined && resolve(`grpc-status ${String(headers['grpc-status'])}`));
      stream.on('trailers', (trailers) => resolve(`grpc-status ${String(trailers['grpc-status'])}`));
      stream.on('close', () => resolve(`reset ${stream.rstCode}`));
    });
    expect(await ended).toMatch(/^grpc-status 4$|^reset 8$/); // DEADLINE_EXCEEDED, or the stream cancelled
    await closedByServer(session);
  });
});

describe('the HTTP port, HTTP/1.1', () => {
  it('closes a connection whose request body never arrives whole', async () => {
    const socket = connect(httpServer.port, `POST ${GET_OPERATION} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"operat`);
    await closedByServer(socket);
  });

  it('closes a connection whose headers never end', async () => {
    await closedByServer(connect(httpServer.port, 'GET /healthz HTTP/1.1\r\nX-Slow: a'));
  });
});

describe('TLS', () => {
  it.each([
    ['gRPC', () => tlsGrpc.port],
    ['HTTP', () => tlsHttp.port],
  ])('the %s port cuts a handshake that never finishes', async (_name, port) => {
    await closedByServer(connect(port(), ''));
    // A plaintext request is no handshake either.
    await closedByServer(connect(port(), 'GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n'));
  });
});

describe('rapid resets', () => {
  it.each([
    ['gRPC', () => grpcServer.port],
    ['HTTP', () => httpServer.port],
  ])('the %s port does not start the handler of a stream reset as it arrives', async (_name, port) => {
    const RESETS = 500;
    handled = 0;
    const session = http2.connect(`http://127.0.0.1:${port()}`);
    session.on('error', () => undefined);
    await new Promise((resolve) => session.once('connect', resolve));
    const frame = envelope(Buffer.from([0x0a, 0x01, 0x78])); // GetOperationRequest{operation_id: "x"}
    for (let i = 0; i < RESETS; i++) {
      const stream = session.request({ ':method': 'POST', ':path': GET_OPERATION, 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => undefined);
      stream.end(frame);
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }
    // A request that is not reset, after them on the same connection: once it is answered,
    // every reset before it has been read.
    const answered = new Promise<void>((resolve) => {
      const stream = session.request({ ':method': 'POST', ':path': GET_OPERATION, 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => resolve());
      stream.on('close', () => resolve());
      stream.resume();
      stream.end(frame);
    });
    await answered;
    session.destroy();
    // HEADERS, DATA and RST_STREAM leave in one write and are read together: no handler starts.
    expect(handled).toBeLessThan(RESETS / 2);
  });
});

describe('metadata', () => {
  it.each([
    ['gRPC', () => grpcServer.port],
    ['HTTP', () => httpServer.port],
  ])('the %s port reads 8 KiB of metadata and refuses more than 16 KiB as RESOURCE_EXHAUSTED', async (_name, port) => {
    const client = new grpc.Client(`127.0.0.1:${port()}`, grpc.credentials.createInsecure());
    const call = (bytes: number) =>
      new Promise<grpc.status>((resolve) => {
        const metadata = new grpc.Metadata();
        metadata.set('x-padding', 'a'.repeat(bytes));
        const raw = (b: Buffer) => b;
        client.makeUnaryRequest(GET_OPERATION, raw, raw, Buffer.from([0x0a, 0x01, 0x78]), metadata, (error) => resolve(error ? error.code : grpc.status.OK));
      });
    expect(await call(8 * 1024)).toBe(grpc.status.OK);
    expect(await call(17 * 1024)).toBe(grpc.status.RESOURCE_EXHAUSTED);
    client.close();
  });
});

describe('reflection', () => {
  it('is not served when switched off', async () => {
    const client = new grpc.Client(`127.0.0.1:${grpcServer.port}`, grpc.credentials.createInsecure());
    const raw = (bytes: Buffer) => bytes;
    const call = client.makeBidiStreamRequest('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', raw, raw);
    const error = await new Promise<grpc.ServiceError>((resolve) => {
      call.once('error', resolve);
      call.write(Buffer.from([0x3a, 0x01, 0x2a])); // list_services: "*"
    });
    expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
    client.close();
  });
});
