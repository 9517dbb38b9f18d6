import { setMaxListeners } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { Code, ConnectError, cors, createConnectRouter } from '@connectrpc/connect';
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from '@connectrpc/connect-node';
import type { Logger } from '@tally/platform';
import { DEFAULT_SHUTDOWN_GRACE_MS, type ListeningServer, type ServiceBinding } from './binding.js';
import { ERROR_DETAILS_REGISTRY } from './errors.js';
import type { HealthMonitor } from './health.js';
import { guardServices } from './processing-patterns.js';
import { decodeProtobufStringsStrictly } from './strict-utf8.js';
import { refuseUnreadableRequests } from './unreadable-requests.js';

/**
 * One HTTP port for browsers and HTTP clients: the Connect protocol, gRPC-Web and gRPC, over
 * HTTP/1.1 and cleartext HTTP/2 (h2c with prior knowledge), plus /healthz and /readyz.
 *
 * Node has no server that speaks both HTTP versions without TLS, so a plain TCP server peeks
 * at each connection's first bytes: the HTTP/2 connection preface goes to an http2 server,
 * anything else to an http server. Both run the same request handler.
 */

export interface HttpServerOptions {
  readonly host: string;
  /** 0 picks a free port; the chosen one is in the result. */
  readonly port: number;
  readonly bindings: readonly ServiceBinding[];
  readonly health: HealthMonitor;
  readonly logger: Logger;
  /** Browser origins allowed to call the API (`https://app.example.com`); `*` allows any. */
  readonly corsOrigins: readonly string[];
  readonly requestTimeoutMs: number;
  /** Largest request or response message, in bytes. */
  readonly maxMessageBytes: number;
  /** How long a connection with no request in progress stays open (HTTP/1.1 keep-alive and HTTP/2 alike). */
  readonly idleTimeoutMs?: number;
}

/** Bytes every HTTP/2 connection starts with (RFC 9113 §3.4). */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** A connection that has not sent enough to pick a protocol by then is closed. */
const PROTOCOL_SNIFF_TIMEOUT_MS = 10_000;
/** HTTP/1.1: time to receive a request's headers, and the whole request. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_RECEIVE_TIMEOUT_MS = 30_000;
/** Longer than the common 60 s idle timeout of load balancers, so they close first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_CONNECTIONS = 10_000;
/** Per HTTP/2 connection: a client multiplexing thousands of watches stays within this. */
const MAX_STREAMS_PER_CONNECTION = 10_000;
/** How long browsers may cache a CORS preflight answer. */
const CORS_MAX_AGE_SECONDS = 7_200;
/** TCP keep-alive probes find peers that vanished without closing (and the watches they held). */
const TCP_KEEPALIVE_DELAY_MS = 60_000;
/** While draining, idle HTTP/1.1 keep-alive connections are closed at this pace. */
const DRAIN_POLL_MS = 100;

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

export async function startHttpServer(options: HttpServerOptions): Promise<ListeningServer> {
  const { logger } = options;
  decodeProtobufStringsStrictly();
  const shutdown = new AbortController();
  // Every open stream listens to it (see guardServices): as many listeners as streams.
  setMaxListeners(0, shutdown.signal);
  const services = guardServices(options.bindings, {
    logger,
    requestTimeoutMs: options.requestTimeoutMs,
    shutdownSignal: shutdown.signal,
  });
  const router = createConnectRouter({
    readMaxBytes: options.maxMessageBytes,
    writeMaxBytes: options.maxMessageBytes,
    acceptCompression: [compressionGzip, compressionBrotli],
    jsonOptions: {
      // A zero balance reads `"amount": "0"`, not a missing field: JSON users see every field.
      alwaysEmitImplicit: true,
      // A misspelt field is refused (invalid_argument naming it), not silently ignored.
      ignoreUnknownFields: false,
      // A batch answers each refused item with its google.rpc.Status, details packed in Any.
      registry: ERROR_DETAILS_REGISTRY,
    },
  });
  for (const { methods } of services) {
    for (const guarded of methods) {
      // Two calls so each narrows to a matching method and handler type.
      if (guarded.kind === 'unary') router.rpc(guarded.method, guarded.handler);
      else router.rpc(guarded.method, guarded.handler);
    }
  }
  // What connectNodeAdapter does, with each handler wrapped (see unreadable-requests.ts).
  const routes = new Map(router.handlers.map((handler) => [handler.requestPath, refuseUnreadableRequests(handler)]));
  const rpc = (req: Request, res: Response): void => {
    const handler = routes.get((req.url ?? '').split('?', 1)[0] ?? '');
    if (!handler) return sendJson(res, 404, { error: 'not found' });
    handler(universalRequestFromNodeRequest(req, res, undefined, undefined))
      .then((answer) => universalResponseToNodeResponse(answer, res))
      .catch((reason: unknown) => {
        // A client that went away mid-answer is not worth a line.
        if (ConnectError.from(reason).code !== Code.Aborted) logger.warn({ err: String(reason), path: req.url }, 'could not answer an RPC');
      });
  };
  const allowOrigin = originPolicy(options.corsOrigins);

  const handle = (req: Request, res: Response): void => {
    if (applyCors(req, res, allowOrigin)) return;
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/healthz' || path === '/readyz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        sendJson(res, 405, { error: 'method not allowed' });
      } else if (path === '/healthz') {
        // Liveness: the process answers. Dependencies belong to readiness, or a database
        // outage would get every replica restarted.
        sendJson(res, 200, { status: 'ok' });
      } else {
        const snapshot = options.health.snapshot();
        sendJson(res, snapshot.ready ? 200 : 503, { status: snapshot.ready ? 'ready' : 'not ready', ...snapshot });
      }
      return;
    }
    rpc(req, res);
  };

  const h1 = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, handle);
  h1.headersTimeout = HEADERS_TIMEOUT_MS;
  h1.requestTimeout = REQUEST_RECEIVE_TIMEOUT_MS;
  const idleTimeoutMs = options.idleTimeoutMs ?? KEEP_ALIVE_TIMEOUT_MS;
  h1.keepAliveTimeout = idleTimeoutMs;
  // The http server never listens itself (it is handed sockets), but it only tracks
  // connections, and so enforces the timeouts above, once it has seen 'listening'.
  h1.emit('listening');

  const h2 = http2.createServer(
    { settings: { maxConcurrentStreams: MAX_STREAMS_PER_CONNECTION, maxHeaderListSize: MAX_HEADER_BYTES } },
    handle,
  );
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    closeWhenIdle(session, idleTimeoutMs);
  });

  const sockets = new Set<net.Socket>();
  const listener = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
    // Streams write small messages one after another: without this, Nagle's algorithm holds
    // each one back until the client acknowledges the previous (up to its delayed-ACK timer,
    // 40 ms on Linux). The servers Node makes itself set it; this listener is our own.
    socket.setNoDelay(true);
    routeByPreface(socket, h1, h2);
  });
  listener.maxConnections = MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(options.port, options.host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  // After start, errors such as running out of file descriptors must not crash the process.
  listener.on('error', (error) => logger.error({ err: error }, 'HTTP listener error'));
  const port = (listener.address() as net.AddressInfo).port;
  logger.info({ host: options.host, port }, 'HTTP server listening (Connect, gRPC-Web, gRPC; HTTP/1.1 and h2c)');

  let closing: Promise<void> | undefined;
  const close = (graceMs = DEFAULT_SHUTDOWN_GRACE_MS): Promise<void> =>
    (closing ??= (async () => {
      listener.close();
      // Watches end now (clients re-watch elsewhere); unary requests get the grace period.
      shutdown.abort(new ConnectError('the server is shutting down; call again', Code.Unavailable));
      for (const session of sessions) session.close(); // GOAWAY: finish open streams, take no new ones
      h1.close(); // closes idle keep-alive connections and stops the timeout checks
      const deadline = Date.now() + graceMs;
      while (sockets.size > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
        h1.closeIdleConnections();
      }
      if (sockets.size > 0) {
        const open = sockets.size;
        logger.warn({ open, graceMs }, 'HTTP connections still open after the grace period; cutting them');
      }
      for (const socket of sockets) socket.destroy();
    })());
  return { port, close };
}

/**
 * Closes an HTTP/2 connection (GOAWAY) once no stream has been open on it for `idleMs`, as
 * HTTP/1.1's keep-alive timeout does: silent connections do not pile up, while one holding a
 * watch, however quiet, stays.
 */
function closeWhenIdle(session: http2.ServerHttp2Session, idleMs: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    timer = setTimeout(() => session.close(), idleMs);
    timer.unref();
  };
  arm();
  session.on('stream', (stream) => {
    open++;
    clearTimeout(timer);
    stream.once('close', () => {
      open--;
      if (open === 0 && !session.closed && !session.destroyed) arm();
    });
  });
  session.once('close', () => clearTimeout(timer));
}

/**
 * Reads until the first bytes either match the HTTP/2 preface or cannot, then hands the
 * socket, with those bytes put back, to the server for that protocol.
 */
function routeByPreface(socket: net.Socket, h1: http.Server, h2: http2.Http2Server): void {
  let received = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), PROTOCOL_SNIFF_TIMEOUT_MS);
  const giveUp = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    received = Buffer.concat([received, chunk]);
    const compared = Math.min(received.length, H2_PREFACE.length);
    const isH2 = received.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared));
    if (isH2 && received.length < H2_PREFACE.length) return; // `P` could still be `POST`
    clearTimeout(timer);
    socket.off('data', onData).off('error', giveUp).off('end', giveUp);
    socket.pause();
    socket.unshift(received);
    if (isH2) {
      h2.emit('connection', socket); // the http2 session reads the put-back bytes first
    } else {
      h1.emit('connection', socket);
      socket.resume(); // the http parser waits for 'data' and would not see the put-back bytes
    }
  };
  socket.on('data', onData).on('error', giveUp).on('end', giveUp);
}

/** `*` allows every origin; otherwise exact matches only (scheme, host and port). */
function originPolicy(origins: readonly string[]): (origin: string) => boolean {
  if (origins.includes('*')) return () => true;
  const allowed = new Set(origins);
  return (origin) => allowed.has(origin);
}

/**
 * Adds CORS headers for allowed browser origins, using Connect's lists of the methods and
 * headers its protocols need. Returns true when it answered the request (a preflight).
 */
function applyCors(req: Request, res: Response, allowOrigin: (origin: string) => boolean): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return false; // not a cross-origin browser request
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  res.setHeader('Vary', 'Origin');
  if (!allowOrigin(origin)) {
    if (preflight) sendJson(res, 403, { error: `origin ${origin} is not allowed` });
    return preflight;
  }
  // The origin is echoed rather than `*`, which browsers refuse for credentialed requests.
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Expose-Headers', cors.exposedHeaders.join(', '));
  if (!preflight) return false;
  res.setHeader('Access-Control-Allow-Methods', cors.allowedMethods.join(', '));
  res.setHeader('Access-Control-Allow-Headers', cors.allowedHeaders.join(', '));
  res.setHeader('Access-Control-Max-Age', String(CORS_MAX_AGE_SECONDS));
  res.statusCode = 204;
  res.end();
  return true;
}

/** The part of an http or http2 response (or Connect's view of either) that sendJson uses. */
interface JsonResponse {
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(data: string): unknown;
}

function sendJson(res: JsonResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
