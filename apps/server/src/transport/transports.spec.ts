import { create, fromBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type Transport } from '@connectrpc/connect';
import {
  compressionGzip,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import {
  BadRequestSchema,
  ErrorInfoSchema,
  GetOperationRequestSchema,
  ListOperationsRequestSchema,
  OperationService,
  OperationStatus,
  ResourceInfoSchema,
  StatusSchema,
  WatchOperationRequestSchema,
  type GetOperationResponse,
  type WatchOperationResponse,
} from '@tally/contracts';
import { invalidArgument, notFound } from '@tally/platform';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindService, type ListeningServer } from './binding.js';
import { grpcServiceDefinition } from './grpc-definitions.js';
import { startGrpcServer } from './grpc-server.js';
import { HealthMonitor } from './health.js';
import { startHttpServer } from './http-server.js';
import { failure } from './failure.testing.js';

/**
 * One fake OperationService, served by both transports, called by six kinds of client: a
 * native grpc-js client, Connect JSON over HTTP/1.1, Connect binary over h2c, Connect JSON
 * with compressed requests, gRPC over h2c and gRPC-Web. Every client must see the same
 * answers, errors and stream behaviour. (Connect streams with uncompressed requests take the
 * HTTP port's lean path, connect-streams.ts; compressed ones, Connect's own.)
 */

const SECRET = 'postgres://admin:hunter2@db:5432';

interface Signal {
  readonly promise: Promise<void>;
  resolve(): void;
}

/** Resolves when the WatchOperation handler for that operation id has finished. */
const watchEnded = new Map<string, Signal>();
function watchEndedFor(operationId: string): Signal {
  let ended = watchEnded.get(operationId);
  if (ended === undefined) {
    let resolve = (): void => undefined;
    const promise = new Promise<void>((r) => (resolve = r));
    ended = { promise, resolve: () => resolve() };
    watchEnded.set(operationId, ended);
  }
  return ended;
}

const operations = bindService(OperationService, {
  getOperation(req, ctx) {
    if (req.operationId === 'bad-id') {
      throw invalidArgument([{ field: 'operation_id', description: 'must be a UUID' }]);
    }
    if (req.operationId === 'gone') throw notFound('operation', req.operationId);
    if (req.operationId === 'boom') throw new Error(`could not connect to ${SECRET}`);
    // Echoes a request header, to show metadata reaches the handler on every transport.
    const transactionId = ctx.requestHeader.get('x-request-id') ?? '';
    return { operation: { id: req.operationId, status: OperationStatus.PENDING, version: 1n, transactionId } };
  },
  async *watchOperation(req, ctx) {
    if (req.operationId === 'gone') throw notFound('operation', req.operationId);
    try {
      for (const version of [1n, 2n]) yield { operation: { id: req.operationId, version } };
      // Like a real watch: wait for the next change until the call ends.
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    } finally {
      watchEndedFor(req.operationId).resolve();
    }
  },
  // listOperations is deliberately not bound: it must answer UNIMPLEMENTED.
});

const CLIENTS = [
  'grpc-js, native port',
  'Connect JSON, HTTP/1.1',
  'Connect binary, h2c',
  'Connect JSON, gzip requests',
  'gRPC, h2c',
  'gRPC-Web, HTTP/1.1',
] as const;
type ClientKind = (typeof CLIENTS)[number];

interface TestClient {
  getOperation(operationId: string, headers?: Record<string, string>): Promise<GetOperationResponse>;
  listOperations(): Promise<unknown>;
  /** Reads `count` messages of WatchOperation, then cancels the call. */
  watchThenCancel(operationId: string, count: number): Promise<WatchOperationResponse[]>;
  close(): void;
}

/** A grpc-js ServiceError as a ConnectError with the details decoded from the trailer, for uniform checks. */
function fromServiceError(error: grpc.ServiceError): ConnectError {
  const result = new ConnectError(error.details, error.code as number as Code);
  const [bin] = error.metadata.get('grpc-status-details-bin');
  if (bin instanceof Buffer) {
    const status = fromBinary(StatusSchema, bin);
    expect(status.code).toBe(error.code);
    result.details = status.details.map((any) => ({
      type: any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1),
      value: any.value,
    }));
  }
  return result;
}

function grpcJsClient(port: number): TestClient {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const methods = grpcServiceDefinition(OperationService);
  const unary = <O>(name: string, request: unknown, metadata = new grpc.Metadata()): Promise<O> => {
    const m = methods[name]!;
    return new Promise<O>((resolve, reject) =>
      client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, request, metadata, (error, value) =>
        error ? reject(fromServiceError(error)) : resolve(value as O),
      ),
    );
  };
  return {
    getOperation: (operationId, headers = {}) => {
      const metadata = new grpc.Metadata();
      for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
      return unary<GetOperationResponse>('GetOperation', create(GetOperationRequestSchema, { operationId }), metadata);
    },
    listOperations: () => unary('ListOperations', create(ListOperationsRequestSchema)),
    watchThenCancel: (operationId, count) => {
      const m = methods['WatchOperation']!;
      const request = create(WatchOperationRequestSchema, { operationId });
      const call = client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, request);
      const received: WatchOperationResponse[] = [];
      return new Promise((resolve, reject) => {
        call.on('data', (message: WatchOperationResponse) => {
          received.push(message);
          if (received.length === count) {
            call.cancel();
            resolve(received);
          }
        });
        call.on('error', (error: grpc.ServiceError) => reject(fromServiceError(error)));
        call.on('end', () => reject(new Error(`stream ended after ${received.length} messages`)));
      });
    },
    close: () => client.close(),
  };
}

function connectClient(transport: Transport, close: () => void = () => undefined): TestClient {
  const client = createClient(OperationService, transport);
  return {
    getOperation: (operationId, headers) => client.getOperation({ operationId }, { headers }),
    listOperations: () => client.listOperations({}),
    watchThenCancel: async (operationId, count) => {
      const abort = new AbortController();
      const received: WatchOperationResponse[] = [];
      try {
        for await (const message of client.watchOperation({ operationId }, { signal: abort.signal })) {
          received.push(message);
          if (received.length === count) {
            abort.abort();
            break;
          }
        }
      } catch (error) {
        if (ConnectError.from(error).code !== Code.Canceled) throw error;
      }
      if (received.length < count) throw new Error(`stream ended after ${received.length} messages`);
      return received;
    },
    close,
  };
}

const logLines: string[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
const health = new HealthMonitor({ probes: {} });
let grpcServer: ListeningServer;
let httpServer: ListeningServer;
const clients = new Map<ClientKind, TestClient>();

beforeAll(async () => {
  const options = { host: '127.0.0.1', port: 0, bindings: [operations], health, logger, requestTimeoutMs: 10_000 };
  grpcServer = await startGrpcServer({ ...options, maxMessageBytes: 1024 * 1024 });
  httpServer = await startHttpServer({ ...options, maxMessageBytes: 1024 * 1024, corsOrigins: [] });
  const baseUrl = `http://127.0.0.1:${httpServer.port}`;
  const h2c = new Http2SessionManager(baseUrl);
  const h2cConnect = new Http2SessionManager(baseUrl);
  const gzipped = { sendCompression: compressionGzip, compressMinBytes: 0 };
  clients
    .set('grpc-js, native port', grpcJsClient(grpcServer.port))
    .set('Connect JSON, HTTP/1.1', connectClient(createConnectTransport({ baseUrl, httpVersion: '1.1' })))
    .set(
      'Connect binary, h2c',
      connectClient(createConnectTransport({ baseUrl, httpVersion: '2', useBinaryFormat: true, sessionManager: h2cConnect }), () => h2cConnect.abort()),
    )
    .set('Connect JSON, gzip requests', connectClient(createConnectTransport({ baseUrl, httpVersion: '1.1', ...gzipped })))
    .set('gRPC, h2c', connectClient(createGrpcTransport({ baseUrl, sessionManager: h2c }), () => h2c.abort()))
    .set('gRPC-Web, HTTP/1.1', connectClient(createGrpcWebTransport({ baseUrl, httpVersion: '1.1' })));
});

afterAll(async () => {
  for (const client of clients.values()) client.close();
  await Promise.all([grpcServer?.close(1_000), httpServer?.close(1_000)]);
});

describe.each(CLIENTS.map((kind, index) => ({ kind, index })))(
  'client: $kind',
  ({ kind, index }) => {
    const client = (): TestClient => clients.get(kind)!;

    it('gets the answer of the shared handler, with request metadata passed through', async () => {
      const response = await client().getOperation('op-1', { 'x-request-id': 'req-7' });
      expect(response.operation).toMatchObject({ id: 'op-1', status: OperationStatus.PENDING, version: 1n });
      expect(response.operation?.transactionId).toBe('req-7');
    });

    it('receives INVALID_ARGUMENT with its BadRequest field violations', async () => {
      const error = await failure(client().getOperation('bad-id'));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toContain('operation_id: must be a UUID');
      const [badRequest] = error.findDetails(BadRequestSchema);
      expect(badRequest?.fieldViolations.map(({ field, description }) => ({ field, description }))).toEqual([
        { field: 'operation_id', description: 'must be a UUID' },
      ]);
    });

    it('receives NOT_FOUND with the ResourceInfo of what was missing', async () => {
      const error = await failure(client().getOperation('gone'));
      expect(error.code).toBe(Code.NotFound);
      expect(error.findDetails(ResourceInfoSchema)[0]).toMatchObject({ resourceType: 'operation', resourceName: 'gone' });
    });

    it('receives INTERNAL with a correlation id, and nothing of the error itself', async () => {
      const error = await failure(client().getOperation('boom'));
      expect(error.code).toBe(Code.Internal);
      const id = /^internal error \(correlation id ([0-9a-f-]{36})\)$/.exec(error.rawMessage)?.[1];
      expect(id).toBeDefined();
      expect(JSON.stringify(error)).not.toContain('hunter2');
      expect(error.findDetails(ErrorInfoSchema)[0]?.metadata).toEqual({ correlation_id: id });
      // The log line with that id carries the full error for operators.
      const logged = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((l) => l['correlationId'] === id);
      expect(logged?.['rpc']).toBe('tally.v1.OperationService/GetOperation');
      expect(JSON.stringify(logged?.['err'])).toContain('hunter2');
    });

    it('receives UNIMPLEMENTED naming an RPC that has no handler', async () => {
      const error = await failure(client().listOperations());
      expect(error.code).toBe(Code.Unimplemented);
      expect(error.rawMessage).toBe('tally.v1.OperationService/ListOperations is not available yet');
    });

    it('streams messages, and the handler stops when the client cancels', async () => {
      const operationId = `watch-${index}`;
      const messages = await client().watchThenCancel(operationId, 2);
      expect(messages.map((m) => m.operation?.version)).toEqual([1n, 2n]);
      await watchEndedFor(operationId).promise; // resolves only when the handler has returned
    });

    it('receives a stream error with its details', async () => {
      const error = await failure(client().watchThenCancel('gone', 1));
      expect(error.code).toBe(Code.NotFound);
      expect(error.findDetails(ResourceInfoSchema)[0]?.resourceName).toBe('gone');
    });
  },
);

describe('native gRPC port', () => {
  it('answers INVALID_ARGUMENT to a request body that is not protobuf', async () => {
    const client = new grpc.Client(`127.0.0.1:${grpcServer.port}`, grpc.credentials.createInsecure());
    const m = grpcServiceDefinition(OperationService)['GetOperation']!;
    // Field 1, length-delimited, claims 100 bytes that never come.
    const garbage = (): Buffer => Buffer.from([0x0a, 0x64, 0x01]);
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest(m.path, garbage, m.responseDeserialize, create(GetOperationRequestSchema), (e) => resolve(e)),
    );
    client.close();
    expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error?.details).toContain('tally.v1.GetOperationRequest');
  });
});

describe('Connect server streams with a client deadline', () => {
  it.each([
    ['JSON over HTTP/1.1', { httpVersion: '1.1' as const }],
    ['binary over h2c', { httpVersion: '2' as const, useBinaryFormat: true }],
  ])('stream until the deadline the client set (%s)', async (_, options) => {
    const baseUrl = `http://127.0.0.1:${httpServer.port}`;
    const client = createClient(OperationService, createConnectTransport({ baseUrl, ...options }));
    const versions: bigint[] = [];
    const error = await (async () => {
      for await (const message of client.watchOperation({ operationId: `deadline-${options.httpVersion}` }, { timeoutMs: 1_000 })) {
        versions.push(message.operation!.version);
      }
    })().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    // Both messages arrive; the watch then waits for a change until the deadline ends it.
    expect(versions).toEqual([1n, 2n]);
    expect(error?.code).toBe(Code.DeadlineExceeded);
  });
});
