import { create, toBinary } from '@bufbuild/protobuf';
import { Code, type ConnectError } from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerResponse } from '@connectrpc/connect/protocol';
import { badRequest, statusDetailsBin } from './errors.js';

/**
 * A request body that is not what it claims to be (truncated protobuf, a length running past its
 * end, a bad wire type, gzip that is not gzip) is the client's mistake: INVALID_ARGUMENT. Connect
 * answers it INTERNAL, though, and before any handler or interceptor of ours runs: it parses the
 * body itself. So the router's handlers are wrapped, and an answer that is INTERNAL for one of
 * Connect's own unreadable-body reasons is rewritten as INVALID_ARGUMENT, in the form of each
 * protocol: the Connect unary JSON error, the Connect streaming end-of-stream message, the
 * gRPC-Web trailer frame, or the gRPC trailers, each with a google.rpc.BadRequest whose one
 * violation names the body as a whole (an empty field: the bytes did not get as far as a field).
 * Every other answer passes untouched, INTERNAL ones included (those are ours, and mean a bug).
 */

/** How Connect words a body it could not read (its parser's or zlib's reason follows). */
const UNREADABLE = /^(parse binary: |decompression failed|received compressed envelope, but do not know how to decompress)/;

const GRPC_INTERNAL = String(Code.Internal);
const GRPC_INVALID_ARGUMENT = String(Code.InvalidArgument);
/** An envelope's flags: the end of a Connect stream, and gRPC-Web's trailer frame. */
const CONNECT_END_STREAM_FLAG = 0b10;
const GRPC_WEB_TRAILER_FLAG = 0b1000_0000;
const ENVELOPE_HEADER_BYTES = 5;

const clientMessage = (reason: string): string => `the request body cannot be read: ${reason}`;

/** The refusal that replaces Connect's INTERNAL, `reason` being Connect's message. */
export function unreadable(reason: string): ConnectError {
  const message = clientMessage(reason);
  return badRequest(message, [{ field: '', description: message }]);
}

/** `error` itself, unless it is Connect's INTERNAL for a body it could not read: then that refusal. */
export function refusalForUnreadable(error: ConnectError): ConnectError {
  return error.code === Code.Internal && UNREADABLE.test(error.rawMessage) ? unreadable(error.rawMessage) : error;
}

/** Error details as the Connect protocol writes them in JSON: type name and base64 message, unpadded. */
function connectJsonDetails(error: ConnectError): Array<{ type: string; value: string }> {
  return error.details.map((detail) => {
    const bytes = 'desc' in detail ? toBinary(detail.desc, create(detail.desc, detail.value)) : detail.value;
    return { type: 'desc' in detail ? detail.desc.typeName : detail.type, value: base64(bytes) };
  });
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64').replace(/=+$/, '');

export function refuseUnreadableRequests(handler: UniversalHandler): UniversalHandler {
  const wrapped = async (request: Parameters<UniversalHandler>[0]): Promise<UniversalServerResponse> => {
    const response = await handler(request);
    const type = response.header?.get('content-type') ?? '';
    if (type.startsWith('application/grpc-web')) return withBody(response, (chunk) => rewriteEnvelope(chunk, GRPC_WEB_TRAILER_FLAG, rewriteGrpcWebTrailer));
    if (type.startsWith('application/grpc')) return withTrailerCheck(response);
    if (type.startsWith('application/connect+')) return withBody(response, (chunk) => rewriteEnvelope(chunk, CONNECT_END_STREAM_FLAG, rewriteEndStream));
    if (response.status === 500 && !response.header?.has('content-encoding')) return rewriteUnaryError(response);
    return response;
  };
  return Object.assign(wrapped, handler);
}

/** Connect unary: a small JSON error body (HTTP 500), read whole, with its length in a header. */
async function rewriteUnaryError(response: UniversalServerResponse): Promise<UniversalServerResponse> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of response.body ?? []) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const error = parseJson(body) as { code?: unknown; message?: unknown } | undefined;
  if (error?.code !== 'internal' || typeof error.message !== 'string' || !UNREADABLE.test(error.message)) return { ...response, body: once(body) };
  const refusal = unreadable(error.message);
  const rewritten = encode({ code: 'invalid_argument', message: refusal.rawMessage, details: connectJsonDetails(refusal) });
  const header = new Headers(response.header);
  header.set('content-length', String(rewritten.byteLength));
  return { ...response, status: 400, header, body: once(rewritten) };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** Connect streaming: `{"error": {...}}` in the end-of-stream envelope. */
function rewriteEndStream(payload: Uint8Array): Uint8Array | undefined {
  const end = parseJson(payload) as { error?: { code?: unknown; message?: unknown } } | undefined;
  const error = end?.error;
  if (error?.code !== 'internal' || typeof error.message !== 'string' || !UNREADABLE.test(error.message)) return undefined;
  const refusal = unreadable(error.message);
  return encode({ ...end, error: { code: 'invalid_argument', message: refusal.rawMessage, details: connectJsonDetails(refusal) } });
}

/** gRPC-Web: trailers as HTTP/1 header lines in the trailer frame. */
function rewriteGrpcWebTrailer(payload: Uint8Array): Uint8Array | undefined {
  const lines = new TextDecoder().decode(payload).split('\r\n');
  const value = (name: string) => lines.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
  const message = decodeGrpcMessage(value('grpc-message') ?? '');
  if (value('grpc-status') !== GRPC_INTERNAL || !UNREADABLE.test(message)) return undefined;
  const kept = lines.filter((l) => l !== '' && !/^grpc-(status|message|status-details-bin):/i.test(l));
  const refusal = unreadable(message);
  const rewritten = [
    ...kept,
    `grpc-status: ${GRPC_INVALID_ARGUMENT}`,
    `grpc-message: ${encodeURIComponent(refusal.rawMessage)}`,
    `grpc-status-details-bin: ${base64(statusDetailsBin(refusal))}`,
  ];
  return new TextEncoder().encode(rewritten.map((l) => `${l}\r\n`).join(''));
}

/** gRPC: real trailers, set once the body has been written. */
function withTrailerCheck(response: UniversalServerResponse): UniversalServerResponse {
  const { body, trailer } = response;
  if (!trailer || body === undefined) return response;
  return {
    ...response,
    body: (async function* () {
      yield* body;
      const message = decodeGrpcMessage(trailer.get('grpc-message') ?? '');
      if (trailer.get('grpc-status') === GRPC_INTERNAL && UNREADABLE.test(message)) {
        const refusal = unreadable(message);
        trailer.set('grpc-status', GRPC_INVALID_ARGUMENT);
        trailer.set('grpc-message', encodeURIComponent(refusal.rawMessage));
        trailer.set('grpc-status-details-bin', base64(statusDetailsBin(refusal)));
      }
    })(),
  };
}

/** Streams the body through `rewrite`, chunk by chunk (each chunk is one whole envelope). */
function withBody(response: UniversalServerResponse, rewrite: (chunk: Uint8Array) => Uint8Array): UniversalServerResponse {
  const { body } = response;
  if (body === undefined) return response;
  return {
    ...response,
    body: (async function* () {
      for await (const chunk of body) yield rewrite(chunk);
    })(),
  };
}

/** An envelope with `flag` whose payload `rewrite` changes, re-framed; any other chunk as it was. */
function rewriteEnvelope(chunk: Uint8Array, flag: number, rewrite: (payload: Uint8Array) => Uint8Array | undefined): Uint8Array {
  if (chunk.length < ENVELOPE_HEADER_BYTES || (chunk[0]! & flag) === 0) return chunk;
  const length = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength).getUint32(1);
  if (chunk.length !== ENVELOPE_HEADER_BYTES + length) return chunk;
  const payload = rewrite(chunk.subarray(ENVELOPE_HEADER_BYTES));
  if (payload === undefined) return chunk;
  const framed = new Uint8Array(ENVELOPE_HEADER_BYTES + payload.length);
  framed[0] = chunk[0]!;
  new DataView(framed.buffer).setUint32(1, payload.length);
  framed.set(payload, ENVELOPE_HEADER_BYTES);
  return framed;
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

function decodeGrpcMessage(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
