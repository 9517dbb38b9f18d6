import type http from 'node:http';
import type http2 from 'node:http2';
import type { DescMethodServerStreaming, JsonReadOptions, JsonWriteOptions } from '@bufbuild/protobuf';
import { Code, ConnectError, createHandlerContext, type ContextValues, type HandlerContext } from '@connectrpc/connect';
import { universalRequestFromNodeRequest } from '@connectrpc/connect-node';
import { createMethodSerializationLookup, readAllBytes, type Serialization } from '@connectrpc/connect/protocol';
import {
  contentTypeStreamJson,
  contentTypeStreamProto,
  createEndStreamSerialization,
  endStreamFlag,
  headerContentType,
  headerStreamEncoding,
  headerTimeout,
  parseContentType,
  parseTimeout,
} from '@connectrpc/connect/protocol-connect';
import type { GuardedStream } from './processing-patterns.js';
import { refusalForUnreadable, unreadable } from './unreadable-requests.js';

/**
 * Server streams in the Connect protocol (`application/connect+proto` and `+json`), served
 * without Connect's streaming pipeline.
 *
 * Connect's router passes every streamed message through about ten async generators, and its
 * published build turns each into a hand-written polyfill: a message costs tens of promises.
 * With thousands of watches that adds up. 2,000 `WatchLedger` streams on one connection kept the
 * process busy for about a second on every credit of their ledger, and other callers waited,
 * while over native gRPC the same watches cost a tenth of that. Here a message is serialized,
 * framed and written in one step.
 *
 * What is served here: a POST with a Connect streaming content type and an uncompressed request
 * (no `connect-content-encoding`, or `identity`), which is what Connect clients send by default.
 * Everything else (a compressed request, gRPC, gRPC-Web, a wrong method) goes to Connect's
 * router as before. The protocol's own pieces come from Connect (content types, the timeout
 * header, the end-of-stream message, the handler context, the method's serializations with the
 * server's limits and strict JSON), so answers do not change; only responses are never
 * compressed, which the protocol allows.
 */


type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

export interface ConnectStreamOptions {
  /** Largest request or response message, in bytes. */
  readonly maxMessageBytes: number;
  /** The method's JSON options, as the router has them (strict reading, the details registry). */
  readonly jsonOptions: Partial<JsonReadOptions & JsonWriteOptions>;
}

const ENVELOPE_HEADER_BYTES = 5;
const COMPRESSED_FLAG = 0b1;
/** No server-side cap on a client's `connect-timeout-ms`, as for the router (its default). */
const NO_MAX_TIMEOUT = Number.MAX_SAFE_INTEGER;

/** True when `req` is a Connect server-stream call this module serves (else the router does). */
export function isPlainConnectStream(req: Request): boolean {
  if (req.method !== 'POST') return false;
  const type = parseContentType(req.headers['content-type'] ?? null);
  if (type?.stream !== true) return false;
  const encoding = req.headers[headerStreamEncoding.toLowerCase()];
  return encoding === undefined || encoding === 'identity';
}

export interface ConnectStream {
  /** Answers the call; resolves when it has ended, whoever ended it. Rejects only for a request Connect cannot describe (no authority). */
  serve(req: Request, res: Response, values: ContextValues): Promise<void>;
}

export function connectStream(method: DescMethodServerStreaming, handler: GuardedStream, options: ConnectStreamOptions): ConnectStream {
  const limits = { readMaxBytes: options.maxMessageBytes, writeMaxBytes: options.maxMessageBytes };
  const serializations = createMethodSerializationLookup(method, undefined, options.jsonOptions, limits);
  const endStream = createEndStreamSerialization(options.jsonOptions);

  return {
    async serve(req, res, values) {
      const request = universalRequestFromNodeRequest(req, res, undefined, values);
      const binary = parseContentType(request.header.get(headerContentType))?.binary === true;
      const timeout = parseTimeout(request.header.get(headerTimeout), NO_MAX_TIMEOUT);
      const context = createHandlerContext({
        service: method.parent,
        method,
        protocolName: 'connect',
        requestMethod: 'POST',
        url: request.url,
        timeoutMs: timeout.timeoutMs,
        requestSignal: request.signal,
        requestHeader: request.header,
        responseHeader: { [headerContentType]: binary ? contentTypeStreamProto : contentTypeStreamJson },
        contextValues: values,
      });
      const output = serializations.getO(binary);
      let error: ConnectError | undefined;
      try {
        if (timeout.error) throw timeout.error;
        // The body is the request's bytes: no parsed JSON was handed to universalRequestFromNodeRequest.
        const body = request.body as AsyncIterable<Uint8Array>;
        // The message may be maxMessageBytes long (its parse checks that), after its envelope's header.
        const input = onlyMessage(await readAllBytes(body, options.maxMessageBytes + ENVELOPE_HEADER_BYTES), serializations.getI(binary));
        for await (const message of handler(input, context)) {
          if (!(await write(res, context, 0, output.serialize(message)))) break;
        }
      } catch (reason) {
        error = reason instanceof ConnectError ? refusalForUnreadable(reason) : new ConnectError('internal error', Code.Internal, undefined, undefined, reason);
      } finally {
        context.abort(error);
      }
      if (await write(res, context, endStreamFlag, endStream.serialize({ metadata: context.responseTrailer, ...(error && { error }) }))) res.end();
    },
  };
}

/** The request's one message: a server stream's body is exactly one uncompressed envelope. */
function onlyMessage<T>(body: Uint8Array, serialization: Serialization<T>): T {
  if (body.length < ENVELOPE_HEADER_BYTES) throw unreadable('premature EOF: no whole message envelope');
  const length = Buffer.from(body.buffer, body.byteOffset, body.byteLength).readUInt32BE(1);
  if (body.length !== ENVELOPE_HEADER_BYTES + length) throw unreadable('the body is not exactly one message envelope');
  if ((body[0]! & COMPRESSED_FLAG) !== 0) throw unreadable('received compressed envelope, but do not know how to decompress');
  if ((body[0]! & endStreamFlag) !== 0) throw unreadable('an end-of-stream envelope where the request message belongs');
  try {
    return serialization.parse(body.subarray(ENVELOPE_HEADER_BYTES));
  } catch (reason) {
    throw reason instanceof ConnectError ? refusalForUnreadable(reason) : ConnectError.from(reason, Code.InvalidArgument);
  }
}

/**
 * Writes one envelope, the response's headers first if they have not gone yet (they wait for
 * the first message, as Connect does, so a handler may still set them). Waits while the
 * client's window is full. False when the client is gone and nothing more can be written.
 */
async function write(res: Response, context: HandlerContext, flags: number, data: Uint8Array): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return false;
  if (!res.headersSent) res.writeHead(200, Object.fromEntries(context.responseHeader));
  const frame = Buffer.allocUnsafe(ENVELOPE_HEADER_BYTES + data.byteLength);
  frame[0] = flags;
  frame.writeUInt32BE(data.byteLength, 1);
  frame.set(data, ENVELOPE_HEADER_BYTES);
  // Both response kinds have this write; TypeScript cannot call a union of their overloads.
  if ((res as http.ServerResponse).write(frame)) return true;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
  return !res.destroyed;
}
