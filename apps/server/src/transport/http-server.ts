import { setMaxListeners } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { Code, ConnectError, createConnectRouter } from '@connectrpc/connect';
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from '@connectrpc/connect-node';
import type { Logger, TlsFiles } from '@tally/platform';
import { DEFAULT_SHUTDOWN_GRACE_MS, type ListeningServer, type ServiceBinding } from './binding.js';
import { ERROR_DETAILS_REGISTRY } from './errors.js';
import {
  HANDSHAKE_TIMEOUT_MS,
  HEADERS_TIMEOUT_MS,
  IDLE_CONNECTION_TIMEOUT_MS,
  KEEPALIVE_INTERVAL_MS,
  MAX_CONNECTIONS,
  MAX_HEADER_BYTES,
  MAX_STREAMS_PER_CONNECTION,
  REQUEST_RECEIVE_TIMEOUT_MS,
} from './limits.js';
import { applyCors, originPolicy } from './cors.js';
import { sendJson, servePlainEndpoint, type PlainEndpointsOptions } from './http-endpoints.js';
import { connectStream, isPlainConnectStream, type ConnectStream } from './connect-streams.js';
import { cancelUnlessReceived, closeUnlessReceived, closeWhenIdle, gone, routeByPreface } from './http-connections.js';
import type { RpcObserver } from './observer.js';
import { guardServices } from './processing-patterns.js';
import { strictJsonOptions } from './strict-json.js';
import { peerContextValues } from './peer.js';
import { decodeProtobufStringsStrictly } from './strict-utf8.js';
import { refuseUnreadableRequests } from './unreadable-requests.js';

/**
 * One HTTP port for browsers and HTTP clients: the Connect protocol, gRPC-Web and gRPC, over
 * HTTP/1.1 and HTTP/2, plus /healthz, /readyz, /metrics and /console (http-endpoints.ts). In cleartext, HTTP/2 is h2c with prior
 * knowledge; with TLS, each connection's ALPN choice (`h2` or `http/1.1`) decides.
 *
 * Node has no server that speaks both HTTP versions without TLS, so a plain TCP server peeks
 * at each connection's first bytes: the HTTP/2 connection preface goes to an http2 server,
 * anything else to an http server. With TLS, a TLS server hands each connection, once its
 * handshake is done, to the same two servers by ALPN. Both run the same request handler, and
 * both protocols and both modes keep the same limits (limits.ts).
 */

export interface HttpServerOptions extends PlainEndpointsOptions {
  readonly host: string;
  /** 0 picks a free port; the chosen one is in the result. */
  readonly port: number;
  readonly bindings: readonly ServiceBinding[];
  readonly logger: Logger;
  /** Browser origins allowed to call the API (`https://app.example.com`); `*` allows any. */
  readonly corsOrigins: readonly string[];
  readonly requestTimeoutMs: number;
  /** Told of every RPC's start and end (metrics, logs, request ids, traces); none when absent. */
  readonly observer?: RpcObserver | undefined;
  /** Largest request or response message, in bytes. */
  readonly maxMessageBytes: number;
  /** Serve HTTPS; with `ca`, clients must present a certificate it signed. */
  readonly tls?: TlsFiles | undefined;
  /** How long a connection with no request in progress stays open (HTTP/1.1 keep-alive and HTTP/2 alike). */
  readonly idleTimeoutMs?: number;
  /** How long a request may take to arrive whole (limits.ts; shorter in tests). */
  readonly requestReceiveTimeoutMs?: number;
  /** How long a TLS handshake, or in cleartext the first bytes that pick the protocol, may take (limits.ts; shorter in tests). */
  readonly handshakeTimeoutMs?: number;
}

/**
 * How often HTTP/1.1 connections are checked against the header and request timeouts (Node's
 * default, 30 s, would let a slow request live up to twice its timeout).
 */
const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;
/** What a TLS client may ask for by ALPN, preferred first. */
const ALPN_PROTOCOLS = ['h2', 'http/1.1'];
/** While draining, idle HTTP/1.1 keep-alive connections are closed at this pace. */
const DRAIN_POLL_MS = 100;

const JSON_OPTIONS = {
  // A zero balance reads `"amount": "0"`, not a missing field: JSON users see every field.
  alwaysEmitImplicit: true,
  // A misspelt field is refused (invalid_argument naming it), not silently ignored.
  ignoreUnknownFields: false,
  // A batch answers each refused item with its google.rpc.Status, details packed in Any.
  registry: ERROR_DETAILS_REGISTRY,
};

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
    observer: options.observer,
  });
  const router = createConnectRouter({
    readMaxBytes: options.maxMessageBytes,
    writeMaxBytes: options.maxMessageBytes,
    acceptCompression: [compressionGzip, compressionBrotli],
    jsonOptions: JSON_OPTIONS,
  });
  // Connect-protocol server streams take a lean path of their own (connect-streams.ts).
  const streams = new Map<string, ConnectStream>();
  for (const { methods } of services) {
    for (const guarded of methods) {
      // Each request's JSON is read strictly, its problems named field by field (strict-json.ts).
      const methodOptions = { jsonOptions: strictJsonOptions(guarded.method.input, JSON_OPTIONS) };
      // Two calls so each narrows to a matching method and handler type.
      if (guarded.kind === 'unary') router.rpc(guarded.method, guarded.handler, methodOptions);
      else {
        router.rpc(guarded.method, guarded.handler, methodOptions);
        const stream = connectStream(guarded.method, guarded.handler, { ...methodOptions, maxMessageBytes: options.maxMessageBytes });
        streams.set(`/${guarded.method.parent.typeName}/${guarded.method.name}`, stream);
      }
    }
  }
  // What connectNodeAdapter does, with each handler wrapped (see unreadable-requests.ts).
  const routes = new Map(router.handlers.map((handler) => [handler.requestPath, refuseUnreadableRequests(handler)]));
  const rpc = (req: Request, res: Response): void => {
    const path = (req.url ?? '').split('?', 1)[0] ?? '';
    const handler = routes.get(path);
    if (!handler) return sendJson(res, 404, { error: 'not found' });
    // Connect builds the request's URL from it, and throws without one (an HTTP/1.0 request
    // may leave out Host; an HTTP/2 one, :authority): refused here, not a crash there.
    if (!('authority' in req ? req.authority : req.headers.host)) return sendJson(res, 400, { error: 'a Host header (or :authority) is required' });
    const stream = isPlainConnectStream(req) ? streams.get(path) : undefined;
    // As on the gRPC port (grpc-server.ts afterResets): a request whose stream was reset in the
    // same read as it arrived (an HTTP/2 rapid reset) has gone by then, and costs no handler work.
    setImmediate(() => {
      if (gone(req)) return;
      const values = peerContextValues(req.socket.remoteAddress);
      const answered = stream
        ? stream.serve(req, res, values)
        : Promise.resolve()
            .then(() => handler(universalRequestFromNodeRequest(req, res, undefined, values)))
            .then((answer) => universalResponseToNodeResponse(answer, res));
      answered.catch((reason: unknown) => {
        // A client that went away mid-answer is not worth a line.
        if (ConnectError.from(reason).code !== Code.Aborted) logger.warn({ err: String(reason), path: req.url }, 'could not answer an RPC');
        res.destroy();
      });
    });
  };
  const allowOrigin = originPolicy(options.corsOrigins);

  const handle = (req: Request, res: Response): void => {
    if (applyCors(req, res, allowOrigin)) return;
    if (servePlainEndpoint(req, res, options)) return;
    rpc(req, res);
  };

  const h1 = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES, connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS }, handle);
  h1.headersTimeout = HEADERS_TIMEOUT_MS;
  const requestReceiveTimeoutMs = options.requestReceiveTimeoutMs ?? REQUEST_RECEIVE_TIMEOUT_MS;
  h1.requestTimeout = requestReceiveTimeoutMs;
  const idleTimeoutMs = options.idleTimeoutMs ?? IDLE_CONNECTION_TIMEOUT_MS;
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
  // The request receive timeout, per request: HTTP/2 streams, and HTTP/1.1 requests once
  // handed to a handler (Node's requestTimeout stops watching a request whose body Connect is
  // reading; it still bounds the headers).
  h2.on('stream', (stream) => cancelUnlessReceived(stream, requestReceiveTimeoutMs));
  h1.on('request', (req: http.IncomingMessage) => closeUnlessReceived(req, requestReceiveTimeoutMs));

  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setKeepAlive(true, KEEPALIVE_INTERVAL_MS);
    // Streams write small messages one after another: without this, Nagle's algorithm holds
    // each one back until the client acknowledges the previous (up to its delayed-ACK timer,
    // 40 ms on Linux). The servers Node makes itself set it; this listener is our own.
    socket.setNoDelay(true);
  };
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  let listener: net.Server;
  if (options.tls) {
    const { cert, key, ca } = options.tls;
    const secure = tls.createServer({
      cert,
      key,
      ca,
      // With a CA, a client without a certificate it signed fails the handshake.
      requestCert: ca !== undefined,
      rejectUnauthorized: true,
      ALPNProtocols: ALPN_PROTOCOLS,
      handshakeTimeout: handshakeTimeoutMs,
    });
    secure.on('connection', track);
    secure.on('secureConnection', (socket: tls.TLSSocket) => {
      // Without ALPN a client gets HTTP/1.1: the http2 server refuses a connection that did not choose h2.
      if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
      else h1.emit('connection', socket);
    });
    // A failed or timed-out handshake (a plaintext client, no or a foreign client certificate,
    // a client that says nothing) ends that connection only. Node leaves closing it to this
    // listener: without the destroy, a silent client would hold its socket past the timeout.
    secure.on('tlsClientError', (error, socket) => {
      socket.destroy();
      logger.debug({ err: error.message }, 'TLS handshake failed');
    });
    listener = secure;
  } else {
    listener = net.createServer((socket) => {
      track(socket);
      // In cleartext, the first bytes that pick the protocol are the handshake.
      routeByPreface(socket, h1, h2, handshakeTimeoutMs);
    });
  }
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
  const modes = options.tls ? `HTTPS: HTTP/1.1 and h2${options.tls.ca ? ', client certificates required' : ''}` : 'HTTP/1.1 and h2c';
  logger.info({ host: options.host, port }, `HTTP server listening (Connect, gRPC-Web, gRPC; ${modes})`);

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
