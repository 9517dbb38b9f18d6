import { once, setMaxListeners } from 'node:events';
import { fromBinary, type DescMethod, type Message } from '@bufbuild/protobuf';
import { Code, ConnectError, createHandlerContext } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '@tally/platform';
import { DEFAULT_SHUTDOWN_GRACE_MS, type ListeningServer, type ServiceBinding } from './binding.js';
import { statusDetailsBin } from './errors.js';
import { grpcServiceDefinition, rawRequestBytes, reflectionPackage } from './grpc-definitions.js';
import type { HealthMonitor } from './health.js';
import { guardServices, type GuardedStream, type GuardedUnary } from './processing-patterns.js';
import { decodeProtobufStringsStrictly } from './strict-utf8.js';

/**
 * Native gRPC (HTTP/2, for internal services and grpcurl) on @grpc/grpc-js, serving the same
 * Connect handler objects as the HTTP server: each grpc-js call is turned into a Connect
 * HandlerContext (metadata as Headers, deadline as timeout, cancellation as abort) and the
 * guarded handler's answer or ConnectError is turned back into a grpc-js response or status.
 * Alongside: server reflection (v1 and v1alpha) and grpc.health.v1.
 */

export interface GrpcServerOptions {
  readonly host: string;
  /** 0 picks a free port; the chosen one is in the result. */
  readonly port: number;
  readonly bindings: readonly ServiceBinding[];
  readonly health: HealthMonitor;
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
  /** Largest request or response message, in bytes; larger ones answer RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
}

/** Per connection: a client multiplexing thousands of watches stays within this. */
const MAX_STREAMS_PER_CONNECTION = 10_000;
/**
 * The server pings idle connections and drops those that do not answer, so a client that
 * vanished (no FIN, e.g. a killed VM) does not hold its watches open for ever.
 */
const KEEPALIVE_PING_INTERVAL_MS = 60_000;
const KEEPALIVE_PING_TIMEOUT_MS = 20_000;
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
  });

  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    'grpc.max_concurrent_streams': MAX_STREAMS_PER_CONNECTION,
    'grpc.keepalive_time_ms': KEEPALIVE_PING_INTERVAL_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_PING_TIMEOUT_MS,
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
  new ReflectionService(reflectionPackage(services.map(({ service }) => service))).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort(options.host, options.port), grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  logger.info({ host: options.host, port }, 'gRPC server listening');

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

function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

function unaryCall(method: DescMethod, handler: GuardedUnary): grpc.handleUnaryCall<Buffer, Message> {
  return (call, callback) => {
    const context = handlerContext(call, method);
    Promise.resolve()
      .then(() => handler(decodeRequest(method, call.request), context))
      .then(
        (response) => {
          sendResponseHeaders(call, context.responseHeader);
          callback(null, response, metadataFromHeaders(context.responseTrailer));
        },
        (error: unknown) => callback(grpcError(ConnectError.from(error))),
      )
      .finally(() => context.abort(CALL_ENDED));
  };
}

function serverStreamingCall(
  method: DescMethod,
  handler: GuardedStream,
): grpc.handleServerStreamingCall<Buffer, Message> {
  return (call) => {
    const context = handlerContext(call, method);
    const run = async (): Promise<void> => {
      let headersSent = false;
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
        if (!call.cancelled) call.emit('error', grpcError(ConnectError.from(error)));
      })
      .finally(() => context.abort(CALL_ENDED));
  };
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
    throw new ConnectError(`malformed request: not a valid ${method.input.typeName}${reason}`, Code.InvalidArgument);
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

/** Returns whether headers were sent (only when a handler set some). */
function sendResponseHeaders(call: ServerCall, headers: Headers): boolean {
  if ([...headers.keys()].length === 0) return false;
  call.sendMetadata(metadataFromHeaders(headers));
  return true;
}

/** A ConnectError as grpc-js sends it: code, message and the google.rpc.Status trailer. */
function grpcError(error: ConnectError): grpc.ServerErrorResponse {
  const metadata = metadataFromHeaders(error.metadata);
  if (error.details.length > 0) metadata.set('grpc-status-details-bin', Buffer.from(statusDetailsBin(error)));
  return Object.assign(new Error(error.rawMessage), {
    code: error.code as number as grpc.status,
    details: error.rawMessage,
    metadata,
  });
}
