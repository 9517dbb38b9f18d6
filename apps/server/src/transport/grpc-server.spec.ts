import { create, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import * as grpc from '@grpc/grpc-js';
import {
  ExchangeService,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  Health as HealthService,
  LedgerService,
  OperationService,
  WatchOperationRequestSchema,
  type HealthCheckResponse,
} from '@tally/contracts';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindService, type ListeningServer } from './binding.js';
import { grpcServiceDefinition } from './grpc-definitions.js';
import { startGrpcServer } from './grpc-server.js';
import { HealthMonitor } from './health.js';

/**
 * The native gRPC port's extras, as grpcurl / buf curl and load balancers use them: server
 * reflection (v1 and v1alpha) and grpc.health.v1. Their messages are tiny, so the test
 * encodes them by hand instead of loading reflection.proto / health.proto.
 */

let databaseUp = true;
const health = new HealthMonitor({
  probes: { postgres: () => (databaseUp ? Promise.resolve() : Promise.reject(new Error('connection refused'))) },
});
const logger = pino({ level: 'silent' });
let server: ListeningServer;
let client: grpc.Client;

beforeAll(async () => {
  const bindings = [
    bindService(LedgerService, {}),
    bindService(ExchangeService, {}),
    bindService(OperationService, {
      async *watchOperation(_req, ctx) {
        yield { operation: { id: 'op-1', version: 1n } };
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
      },
    }),
  ];
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    bindings,
    health,
    logger,
    requestTimeoutMs: 10_000,
    maxMessageBytes: 1024 * 1024,
  });
  client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await server?.close(1_000);
});

const rawBytes = (bytes: Buffer): Buffer => bytes;

/** Sends one ServerReflectionRequest on a reflection stream and returns the raw response. */
function reflect(version: 'v1' | 'v1alpha', request: Uint8Array): Promise<Buffer> {
  const call = client.makeBidiStreamRequest(
    `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
    rawBytes,
    rawBytes,
  );
  return new Promise((resolve, reject) => {
    call.once('data', (response: Buffer) => {
      call.end();
      resolve(response);
    });
    call.once('error', reject);
    call.write(Buffer.from(request));
  });
}

/** ServerReflectionResponse.file_descriptor_response = 4 → FileDescriptorResponse.file_descriptor_proto = 1 */
async function reflectedFiles(version: 'v1' | 'v1alpha', request: Uint8Array): Promise<FileDescriptorProto[]> {
  const [files] = fieldValues(await reflect(version, request), 4);
  expect(files).toBeDefined();
  return fieldValues(files!, 1).map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

/** The length-delimited values of `field` in a message, decoded one level. */
function fieldValues(bytes: Uint8Array, field: number): Uint8Array[] {
  const reader = new BinaryReader(bytes);
  const values: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    if (number === field && wireType === WireType.LengthDelimited) values.push(reader.bytes());
    else reader.skip(wireType);
  }
  return values;
}

describe.each(['v1', 'v1alpha'] as const)('server reflection %s', (version) => {
  it('lists the tally.v1 services and grpc.health.v1.Health', async () => {
    // ServerReflectionRequest { list_services = 7: "*" }
    const response = await reflect(version, new BinaryWriter().tag(7, WireType.LengthDelimited).string('*').finish());
    // ServerReflectionResponse.list_services_response = 6 → ListServiceResponse.service = 1 → ServiceResponse.name = 1
    const [list] = fieldValues(response, 6);
    const names = fieldValues(list!, 1).map((service) => new TextDecoder().decode(fieldValues(service, 1)[0]));
    expect(names).toEqual(
      expect.arrayContaining([
        'tally.v1.LedgerService',
        'tally.v1.ExchangeService',
        'tally.v1.OperationService',
        'grpc.health.v1.Health',
      ]),
    );
  });

  it('describes a service with its file, and serves every file it imports by name', async () => {
    // ServerReflectionRequest { file_containing_symbol = 4: "tally.v1.LedgerService" }
    const bySymbol = new BinaryWriter().tag(4, WireType.LengthDelimited).string('tally.v1.LedgerService').finish();
    const [ledger, ...sent] = await reflectedFiles(version, bySymbol);
    expect(ledger?.name).toBe('tally/v1/ledger.proto');
    expect(ledger?.service.map((s) => s.name)).toEqual(['LedgerService']);
    // grpcurl and buf curl fetch the imports the answer did not include by file name
    // (ServerReflectionRequest.file_by_filename = 3), down to google/protobuf/descriptor.proto.
    const pending = [...(ledger?.dependency ?? [])];
    const seen = new Set(['tally/v1/ledger.proto', ...sent.map((file) => file.name)]);
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (seen.has(name)) continue;
      const byName = new BinaryWriter().tag(3, WireType.LengthDelimited).string(name).finish();
      const [file, ...more] = await reflectedFiles(version, byName);
      expect(file?.name).toBe(name);
      for (const f of [file!, ...more]) {
        seen.add(f.name);
        pending.push(...f.dependency);
      }
    }
    expect([...seen]).toEqual(
      expect.arrayContaining(['tally/v1/options.proto', 'google/protobuf/descriptor.proto', 'google/rpc/status.proto']),
    );
  });
});

/** grpc.health.v1.Health/Check through a grpc-js client built from the vendored health.proto. */
function checkHealth(service: string): Promise<HealthCheckResponse_ServingStatus> {
  const check = grpcServiceDefinition(HealthService)['Check']!;
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      check.path,
      check.requestSerialize,
      check.responseDeserialize,
      create(HealthCheckRequestSchema, { service }),
      (error, response) => (error || !response ? reject(error ?? new Error('no response')) : resolve((response as HealthCheckResponse).status)),
    ),
  );
}

describe('grpc.health.v1', () => {
  it('is described by the vendored health.proto, so reflection clients can call it', () => {
    expect(HealthService.methods.map((m) => `${m.name}:${m.methodKind}`)).toEqual([
      'Check:unary',
      'Watch:server_streaming',
      'List:unary',
    ]);
  });

  it('is SERVING while every probe passes, NOT_SERVING when one fails, for the server and each service', async () => {
    databaseUp = true;
    await health.check();
    expect(await checkHealth('')).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect(await checkHealth('tally.v1.LedgerService')).toBe(HealthCheckResponse_ServingStatus.SERVING);

    databaseUp = false;
    await health.check();
    expect(await checkHealth('')).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
    expect(await checkHealth('tally.v1.OperationService')).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);

    databaseUp = true;
    await health.check();
    expect(await checkHealth('tally.v1.ExchangeService')).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });
});

describe('shutdown', () => {
  it('ends open streams with UNAVAILABLE so watchers re-watch elsewhere', async () => {
    const own = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      bindings: [
        bindService(OperationService, {
          async *watchOperation(_req, ctx) {
            yield { operation: { id: 'op-1', version: 1n } };
            await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
          },
        }),
      ],
      health,
      logger,
      requestTimeoutMs: 10_000,
      maxMessageBytes: 1024 * 1024,
    });
    const watcher = new grpc.Client(`127.0.0.1:${own.port}`, grpc.credentials.createInsecure());
    const m = grpcServiceDefinition(OperationService)['WatchOperation']!;
    const call = watcher.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, create(WatchOperationRequestSchema));
    const ended = new Promise<grpc.ServiceError>((resolve) => call.once('error', resolve));
    await new Promise((resolve) => call.once('data', resolve));

    await own.close(5_000);
    expect((await ended).code).toBe(grpc.status.UNAVAILABLE);
    watcher.close();
  });
});
