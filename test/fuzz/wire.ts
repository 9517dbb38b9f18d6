import { createRegistry, fromBinary } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { BadRequestSchema, StatusSchema, type BadRequest } from '@tally/contracts';
import { jsonText, type Body, type FuzzRequest } from './requests.js';

/**
 * Sends a fuzz request over its transport exactly as built (no client library normalises it
 * first) and reads the answer the same way on all three: a status code in Connect's spelling
 * (`ok`, `invalid_argument`, ...), its message, and the fields its google.rpc.BadRequest names.
 */

export interface Answer {
  readonly code: string;
  readonly message: string;
  /** Undefined when the answer carries no google.rpc.BadRequest. */
  readonly violations?: ReadonlyArray<{ readonly field: string; readonly description: string }>;
}

/** How long a server stream is read before the fuzzer leaves it (a client vanishing mid-stream). */
const STREAM_READ_MS = 150;
/** Deadline of a fuzz call: long enough for a 100,000-item batch on a busy machine. */
export const CALL_DEADLINE_MS = 30_000;

/** grpc-js codes, and the Connect protocol's names for them. */
const CODE_NAMES = [
  'ok',
  'canceled',
  'unknown',
  'invalid_argument',
  'deadline_exceeded',
  'not_found',
  'already_exists',
  'permission_denied',
  'resource_exhausted',
  'failed_precondition',
  'aborted',
  'out_of_range',
  'unimplemented',
  'internal',
  'unavailable',
  'data_loss',
  'unauthenticated',
] as const;

const details = createRegistry(BadRequestSchema);
const raw = (bytes: Buffer): Buffer => bytes;

export interface Wire {
  send(request: FuzzRequest, deadlineMs?: number): Promise<Answer>;
  close(): void;
}

export function openWire(grpcAddress: string, httpUrl: string): Wire {
  const client = new grpc.Client(grpcAddress, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
  });
  return {
    send: (request, deadlineMs = CALL_DEADLINE_MS) =>
      request.transport === 'grpc' ? sendGrpc(client, request, deadlineMs) : sendConnect(httpUrl, request, deadlineMs),
    close: () => client.close(),
  };
}

function bodyBytes(body: Body): Buffer {
  if (body.kind === 'bytes') return Buffer.from(body.bytes);
  return Buffer.from(body.kind === 'text' ? body.text : jsonText(body.value), 'utf8');
}

function sendGrpc(client: grpc.Client, request: FuzzRequest, deadlineMs: number): Promise<Answer> {
  const path = `/${request.rpc.parent.typeName}/${request.rpc.name}`;
  const bytes = bodyBytes(request.body);
  const options = { deadline: Date.now() + deadlineMs };
  if (request.rpc.methodKind === 'unary') {
    return new Promise((resolve) => {
      client.makeUnaryRequest(path, raw, raw, bytes, new grpc.Metadata(), options, (error) => resolve(error ? grpcAnswer(error) : { code: 'ok', message: '' }));
    });
  }
  return new Promise((resolve) => {
    const call = client.makeServerStreamRequest(path, raw, raw, bytes, new grpc.Metadata(), options);
    let settled = false;
    const settle = (answer: Answer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    // Still streaming after a while: the stream works; leave it as a vanishing client would.
    const timer = setTimeout(() => {
      settle({ code: 'ok', message: 'left the stream open' });
      call.cancel();
    }, STREAM_READ_MS);
    call.on('data', () => undefined);
    call.on('error', (error: grpc.ServiceError) => settle(grpcAnswer(error)));
    call.on('end', () => settle({ code: 'ok', message: '' }));
  });
}

function grpcAnswer(error: grpc.ServiceError): Answer {
  const code = CODE_NAMES[error.code] ?? `code ${error.code}`;
  const [bin] = error.metadata?.get('grpc-status-details-bin') ?? [];
  const violations = bin === undefined ? undefined : badRequestOf(fromBinary(StatusSchema, bin as Buffer).details.map((any) => anyUnpack(any, details)));
  return { code, message: error.details, ...(violations ? { violations } : {}) };
}

function badRequestOf(messages: ReadonlyArray<{ $typeName: string } | undefined>): Answer['violations'] {
  const badRequest = messages.find((m): m is BadRequest => m?.$typeName === 'google.rpc.BadRequest');
  return badRequest?.fieldViolations.map(({ field, description }) => ({ field, description }));
}

interface ConnectError {
  readonly code?: string;
  readonly message?: string;
  readonly details?: ReadonlyArray<{ readonly type?: string; readonly value?: string }>;
}

function connectAnswer(error: ConnectError | undefined, fallback: string): Answer {
  const detail = error?.details?.find((d) => d.type === 'google.rpc.BadRequest');
  const violations = detail?.value === undefined ? undefined : badRequestOf([fromBinary(BadRequestSchema, Buffer.from(detail.value, 'base64'))]);
  return { code: error?.code ?? fallback, message: error?.message ?? '', ...(violations ? { violations } : {}) };
}

async function sendConnect(httpUrl: string, request: FuzzRequest, deadlineMs: number): Promise<Answer> {
  const json = request.transport === 'connect-json';
  const url = `${httpUrl}/${request.rpc.parent.typeName}/${request.rpc.name}`;
  const bytes = bodyBytes(request.body);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), deadlineMs + 5_000);
  try {
    if (request.rpc.methodKind === 'unary') {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': json ? 'application/json' : 'application/proto', 'connect-protocol-version': '1', 'connect-timeout-ms': String(deadlineMs) },
        body: bytes,
        signal: abort.signal,
      });
      const body = Buffer.from(await response.arrayBuffer());
      if (response.status === 200) return { code: 'ok', message: '' };
      return connectAnswer(parseJson(body) as ConnectError | undefined, `http ${response.status}`);
    }
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': json ? 'application/connect+json' : 'application/connect+proto', 'connect-protocol-version': '1' },
      body: envelope(0, bytes),
      signal: abort.signal,
    });
    if (response.status !== 200 || response.body === null) return connectAnswer(parseJson(Buffer.from(await response.arrayBuffer())) as ConnectError | undefined, `http ${response.status}`);
    return await readConnectStream(response.body, abort);
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${String((error.cause as NodeJS.ErrnoException).code ?? '')} ${error.cause.message})` : '';
    return { code: 'client-error', message: error instanceof Error ? `${error.name}: ${error.message}${cause}` : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** Reads envelopes until the end-of-stream message, or leaves after STREAM_READ_MS. */
async function readConnectStream(body: ReadableStream<Uint8Array>, abort: AbortController): Promise<Answer> {
  const reader = body.getReader();
  let buffered = Buffer.alloc(0);
  const leave = setTimeout(() => abort.abort(), STREAM_READ_MS);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { code: 'ok', message: 'stream ended without an end-of-stream message' };
      buffered = Buffer.concat([buffered, value]);
      while (buffered.length >= 5) {
        const length = buffered.readUInt32BE(1);
        if (buffered.length < 5 + length) break;
        const flags = buffered[0]!;
        const payload = buffered.subarray(5, 5 + length);
        buffered = buffered.subarray(5 + length);
        if (flags & 0b10) {
          const end = parseJson(payload) as { error?: ConnectError } | undefined;
          return end?.error ? connectAnswer(end.error, 'unknown') : { code: 'ok', message: '' };
        }
      }
    }
  } catch (error) {
    if (abort.signal.aborted) return { code: 'ok', message: 'left the stream open' };
    throw error;
  } finally {
    clearTimeout(leave);
  }
}

export function envelope(flags: number, payload: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(flags, 0);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}
