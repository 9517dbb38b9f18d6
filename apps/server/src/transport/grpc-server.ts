import { once, setMaxListeners } from 'node:events';
import http2 from 'node:http2';
import { fromBinary, type DescMethod, type Message } from '@bufbuild/protobuf';
import { Code, ConnectError, createHandlerContext } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger, TlsFiles } from '@tally/platform';
import { DEFAULT_SHUTDOWN_GRACE_MS, type ListeningServer, type ServiceBinding } from './binding.js';
import { badRequest, statusDetailsBin } from './errors.js';
import { grpcServiceDefinition, rawRequestBytes, reflectionPackage } from './grpc-definitions.js';
import type { HealthMonitor } from './health.js';
import {
  HANDSHAKE_TIMEOUT_MS,
  IDLE_CONNECTION_TIMEOUT_MS,
  KEEPALIVE_INTERVAL_MS,
  KEEPALIVE_PING_TIMEOUT_MS,
  MAX_HEADER_BYTES,
  MAX_STREAMS_PER_CONNECTION,
  REQUEST_RECEIVE_TIMEOUT_MS,
} from './limits.js';
import type { RpcObserver } from './observer.js';
import { guardServices, type GuardedStream, type GuardedUnary } from './processing-patterns.js';
import { peerContextValues } from './peer.js';
import { decodeProtobufStringsStrictly } from './strict-utf8.js';

/**
 * Native gRPC (HTTP/2, for internal services and grpcurl) on @grpc/grpc-js, serving the same
 * Connect handler objects as the HTTP server: each grpc-js call is turned into a Connect
 * HandlerContext (metadata as Headers, deadline as timeout, cancellation as abort) and the
 * guarded handler's answer or ConnectError is turned back into a grpc-js response or status.
 * Alongside: server reflection (v1 and v1alpha, unless switched off) and grpc.health.v1.
 * Plaintext HTTP/2 by default; TLS (optionally checking client certificates) when given files.
 */

export interface GrpcServerOptions {
  readonly host: string;
  /** 0 picks a free port; the chosen one is in the result. */
  readonly port: number;
  readonly bindings: readonly ServiceBinding[];
  readonly health: HealthMonitor;
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
  /** Told of every RPC's start and end (metrics, logs, request ids, traces); none when absent. */
  readonly observer?: RpcObserver | undefined;
  /** Largest request or response message, in bytes; larger ones answer RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  /** Serve TLS; with `ca`, clients must present a certificate it signed. */
  readonly tls?: TlsFiles | undefined;
  /** Serve server reflection (grpcurl, buf curl without proto files); on unless false. */
  readonly reflection?: boolean;
  /** How long a connection with no call in progress stays open (limits.ts; shorter in tests). */
  readonly idleTimeoutMs?: number;
  /** How long a call's request may take to arrive whole (limits.ts; shorter in tests). */
  readonly requestReceiveTimeoutMs?: number;
  /** How long a TLS handshake may take (limits.ts; shorter in tests). */
  readonly handshakeTimeoutMs?: number;
}
/**
 * Why a call's signal aborts once the call is over (it releases its listeners). One shared
 * ConnectError: aborting without a reason would build a DOMException, and Connect a ConnectError
 * wrapping it, each with a stack trace, for every call.
 */
const CALL_ENDED = new ConnectError('the call ended', Code.Canceled);

export async function startGrpcServer(options: GrpcServerOptions): Promise<ListeningServer> {
  decodeProtobufStringsStrictly();
  const { logger } = options;
  const shutdown = new AbortController();
  // Every open stream listens to it (see guardServices): as many listeners as streams.
  setMaxListeners(0, shutdown.signal);
  const services = guardServices(options.bindings, {
    logger,
    requestTimeoutMs: options.requestTimeoutMs,
    shutdownSignal: shutdown.signal,
    observer: options.observer,
  });

  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    'grpc.max_concurrent_streams': MAX_STREAMS_PER_CONNECTION,
    // The server pings idle connections and drops those that do not answer, so a client that
    // vanished (no FIN, e.g. a killed VM) does not hold its watches open for ever.
    'grpc.keepalive_time_ms': KEEPALIVE_INTERVAL_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_PING_TIMEOUT_MS,
    // Also a connection that never sends its preface, or nothing after it: its session exists from the first byte.
    'grpc.max_connection_idle_ms': options.idleTimeoutMs ?? IDLE_CONNECTION_TIMEOUT_MS,
    interceptors: [requestLimits(MAX_HEADER_BYTES, options.requestReceiveTimeoutMs ?? REQUEST_RECEIVE_TIMEOUT_MS)],
  });
  for (const { service, methods } of services) {
    const definition: Record<string, grpc.MethodDefinition<Buffer, Message>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [name, methodDefinition] of Object.entries(grpcServiceDefinition(service))) {
      definition[name] = { ...methodDefinition, requestDeserialize: rawRequestBytes };
    }
    for (const guarded of methods) {
      const { name } = guarded.method;
      implementation[name] =
        guarded.kind === 'unary'
          ? unaryCall(guarded.method, guarded.handler)
          : serverStreamingCall(guarded.method, guarded.handler);
    }
    server.addService(definition, implementation);
  }

  const grpcHealth = new HealthImplementation();
  const serviceNames = services.map(({ service }) => service.typeName);
  const unpublish = options.health.publishTo(grpcHealth, serviceNames);
  grpcHealth.addToServer(server);
  if (options.reflection ?? true) new ReflectionService(reflectionPackage(services.map(({ service }) => service))).addToServer(server);

  const credentials = options.tls
    ? tlsCredentials(options.tls, options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS)
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort(options.host, options.port), credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  const mode = options.tls ? (options.tls.ca ? 'TLS, client certificates required' : 'TLS') : 'plaintext';
  logger.info({ host: options.host, port, reflection: options.reflection ?? true }, `gRPC server listening (${mode})`);

  let closing: Promise<void> | undefined;
  const close = (graceMs = DEFAULT_SHUTDOWN_GRACE_MS): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      // Tell load balancers first, then end watches (clients re-watch elsewhere) so they do
      // not hold the drain open; unary calls in flight get the grace period.
      unpublish();
      for (const name of ['', ...serviceNames]) grpcHealth.setStatus(name, 'NOT_SERVING');
      shutdown.abort(new ConnectError('the server is shutting down; call again', Code.Unavailable));
      const force = setTimeout(() => {
        logger.warn({ graceMs }, 'gRPC calls still open after the shutdown grace period; cutting them');
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    }));
  return { port, close };
}

/**
 * grpc-js's TLS credentials (`createSsl`: with a CA, client certificates are required and
 * checked), with a bound on the handshake, which `createSsl` leaves at Node's 120 s: its
 * options for Node's TLS server are extended with `handshakeTimeout`.
 */
function tlsCredentials({ cert, key, ca }: TlsFiles, handshakeTimeoutMs: number): grpc.ServerCredentials {
  const ssl = grpc.ServerCredentials.createSsl(ca ?? null, [{ cert_chain: cert, private_key: key }], ca !== undefined);
  const serverOptions = { ...ssl._getConstructorOptions(), handshakeTimeout: handshakeTimeoutMs };
  return Object.assign(Object.create(ssl) as grpc.ServerCredentials, { _getConstructorOptions: () => serverOptions });
}

/**
 * What the HTTP port's servers enforce per request, for grpc-js, which offers no setting for
 * either: a request whose header block (its metadata) is larger than `maxHeaderBytes` is
 * refused RESOURCE_EXHAUSTED, as the HTTP port refuses it; and a call whose request has not
 * arrived whole (its half-close) within `receiveMs` is ended DEADLINE_EXCEEDED, so a client
 * dribbling a request, or never ending it, does not hold a stream for ever (grpc-js calls a
 * handler only once the request is in, and applies no deadline the client did not ask for).
 */
function requestLimits(maxHeaderBytes: number, receiveMs: number): grpc.ServerInterceptor {
  return (_method, call) => {
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => clearTimeout(timer);
    const refuse = (code: grpc.status, details: string): void => {
      stop();
      call.sendStatus({ code, details });
      resetStream(call);
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        timer = setTimeout(() => refuse(grpc.status.DEADLINE_EXCEEDED, `the request did not arrive within ${receiveMs} ms`), receiveMs);
        timer.unref();
        next({
          onReceiveMetadata: (metadata, proceed) => {
            const bytes = headerBlockBytes(metadata);
            if (bytes > maxHeaderBytes) refuse(grpc.status.RESOURCE_EXHAUSTED, `request metadata of ${bytes} bytes is over the limit of ${maxHeaderBytes}`);
            else proceed(metadata);
          },
          onReceiveHalfClose: (proceed) => {
            stop();
            proceed();
          },
          onCancel: stop,
        });
      },
      sendStatus: (status, proceed) => {
        stop();
        proceed(status);
      },
    });
  };
}

/** A header block's size as HTTP/2 counts it for SETTINGS_MAX_HEADER_LIST_SIZE: name, value and 32 octets per field. */
function headerBlockBytes(metadata: grpc.Metadata): number {
  let bytes = 0;
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) bytes += key.length + (typeof value === 'string' ? Buffer.byteLength(value) : Math.ceil((value.length * 4) / 3)) + 32;
  }
  return bytes;
}

/**
 * After a complete answer to a request still arriving, grpc-js waits for the client to end its
 * side, which a slow client never does. HTTP/2 lets the server then reset the stream with
 * NO_ERROR (RFC 9113 §8.1). grpc-js keeps the stream in its first call object (`stream`, not in
 * its typings): without it, the call is answered but its stream stays until the connection goes.
 */
function resetStream(call: grpc.ServerInterceptingCallInterface): void {
  const { stream } = call as { stream?: { closed?: boolean; close?: (code: number) => void } };
  if (typeof stream?.close === 'function' && stream.closed !== true) stream.close(http2.constants.NGHTTP2_NO_ERROR);
}

function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

function unaryCall(method: DescMethod, handler: GuardedUnary): grpc.handleUnaryCall<Buffer, Message> {
  return afterResets((call, callback) => {
    const context = handlerContext(call, method);
    Promise.resolve()
      .then(() => handler(decodeRequest(method, call.request), context))
      .then(
        (response) => {
          sendResponseHeaders(call, context.responseHeader);
          callback(null, response, metadataFromHeaders(context.responseTrailer));
        },
        // No headers went out: the handler's (the request id) go with the status, trailers-only.
        (error: unknown) => callback(grpcError(ConnectError.from(error), context.responseHeader)),
      )
      .finally(() => context.abort(CALL_ENDED));
  });
}

function serverStreamingCall(
  method: DescMethod,
  handler: GuardedStream,
): grpc.handleServerStreamingCall<Buffer, Message> {
  return afterResets((call) => {
    const context = handlerContext(call, method);
    let headersSent = false;
    const run = async (): Promise<void> => {
      for await (const message of handler(decodeRequest(method, call.request), context)) {
        // A stream handler sets response headers before its first message (Connect's rule).
        if (!headersSent) headersSent = sendResponseHeaders(call, context.responseHeader);
        // Respect backpressure: a slow watcher must not make the server buffer without bound.
        if (!call.write(message)) await once(call, 'drain', { signal: context.signal });
      }
      if (!headersSent) sendResponseHeaders(call, context.responseHeader);
      call.end(metadataFromHeaders(context.responseTrailer));
    };
    run()
      .catch((error: unknown) => {
        // After a cancel there is nobody to tell; grpc-js has already closed the call.
        if (!call.cancelled) call.emit('error', grpcError(ConnectError.from(error), headersSent ? undefined : context.responseHeader));
      })
      .finally(() => context.abort(CALL_ENDED));
  });
}

/**
 * Starts a call's handler after the frames that arrived with its request have been read: a
 * client that resets the stream at once (an HTTP/2 rapid reset, CVE-2023-44487, sends HEADERS,
 * DATA and RST_STREAM together) has its call cancelled by then, and costs no handler work.
 */
function afterResets<Call extends { readonly cancelled: boolean }, Rest extends unknown[]>(
  start: (call: Call, ...rest: Rest) => void,
): (call: Call, ...rest: Rest) => void {
  return (call, ...rest) =>
    setImmediate(() => {
      if (!call.cancelled) start(call, ...rest);
    });
}

/**
 * Decoded here rather than by grpc-js, which answers INTERNAL to undecodable bytes: a
 * malformed body is the client's mistake and must say so.
 */
function decodeRequest(method: DescMethod, bytes: Buffer): Message {
  try {
    return fromBinary(method.input, bytes);
  } catch (error) {
    const reason = error instanceof Error ? `: ${error.message}` : '';
    const message = `the request body cannot be read: not a valid ${method.input.typeName}${reason}`;
    // The bytes did not get as far as a field: the violation names the body as a whole.
    throw badRequest(message, [{ field: '', description: message }]);
  }
}

type ServerCall = grpc.ServerUnaryCall<Buffer, Message> | grpc.ServerWritableStream<Buffer, Message>;

function handlerContext(call: ServerCall, method: DescMethod): ReturnType<typeof createHandlerContext> {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  const context = createHandlerContext({
    service: method.parent,
    method,
    protocolName: 'grpc',
    requestMethod: 'POST',
    url: `http://${call.getHost()}${call.getPath()}`,
    timeoutMs: Number.isFinite(deadlineMs) ? Math.max(0, deadlineMs - Date.now()) : undefined,
    requestHeader: headersFromMetadata(call.metadata),
    contextValues: peerContextValues(call.getPeer()),
  });
  // grpc-js reports every closed stream as cancelled, also after the call was answered (then
  // the context is already aborted with CALL_ENDED): only a call still running is cancelled.
  call.once('cancelled', () => {
    if (!context.signal.aborted) context.abort(new ConnectError('the client cancelled the call', Code.Canceled));
  });
  return context;
}

/** Binary (`-bin`) metadata becomes base64 text, as Connect represents binary headers. */
function headersFromMetadata(metadata: grpc.Metadata): Headers {
  const headers = new Headers();
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) {
      try {
        headers.append(key, typeof value === 'string' ? value : value.toString('base64'));
      } catch {
        // Not representable as an HTTP header value; no handler can rely on such metadata.
      }
    }
  }
  return headers;
}

function metadataFromHeaders(headers: Headers): grpc.Metadata {
  const metadata = new grpc.Metadata();
  headers.forEach((value, key) => {
    try {
      metadata.add(key, key.endsWith('-bin') ? Buffer.from(value, 'base64') : value);
    } catch {
      // grpc-js refuses keys it reserves or cannot carry; drop them rather than fail the call.
    }
  });
  return metadata;
}

/** `first`'s fields, then `second`'s (which win where both have one). */
function mergedHeaders(first: Headers, second: Headers): Headers {
  const merged = new Headers(first);
  second.forEach((value, key) => merged.set(key, value));
  return merged;
}

/** Returns whether headers were sent (only when a handler set some). */
function sendResponseHeaders(call: ServerCall, headers: Headers): boolean {
  if ([...headers.keys()].length === 0) return false;
  call.sendMetadata(metadataFromHeaders(headers));
  return true;
}

/**
 * A ConnectError as grpc-js sends it: code, message and the google.rpc.Status trailer, with the
 * response headers the handler set when none were sent before the error (as Connect does).
 */
function grpcError(error: ConnectError, unsentHeaders?: Headers): grpc.ServerErrorResponse {
  const metadata = metadataFromHeaders(unsentHeaders ? mergedHeaders(unsentHeaders, error.metadata) : error.metadata);
  if (error.details.length > 0) metadata.set('grpc-status-details-bin', Buffer.from(statusDetailsBin(error)));
  return Object.assign(new Error(error.rawMessage), {
    code: error.code as number as grpc.status,
    details: error.rawMessage,
    metadata,
  });
}
