import { create, type DescMethodUnary, type DescService, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import { createLogger, loadConfig } from '@tally/platform';
import { grpcServiceDefinition, startServer, type RunningServer } from '@tally/server';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './test-env.js';

/** A whole Tally server in this process, on free ports, against the test database. */
export interface TestServer {
  readonly server: RunningServer;
  readonly grpcAddress: string;
  readonly httpUrl: string;
  /** A grpc-js client for `service`, built from the generated descriptors only. */
  grpcClient<S extends DescService>(service: S): GrpcClient<S>;
  /** A Connect client speaking JSON over HTTP/1.1, as a browser would. */
  connectClient<S extends DescService>(service: S): Client<S>;
  stop(): Promise<void>;
}

/** A promise-returning grpc-js client with one typed method per unary RPC of `S`. */
export type GrpcClient<S extends DescService> = {
  readonly [K in keyof S['method'] as S['method'][K] extends DescMethodUnary ? K : never]: S['method'][K] extends DescMethodUnary<
    infer I,
    infer O
  >
    ? (request: MessageInitShape<I>, metadata?: grpc.Metadata) => Promise<MessageShape<O>>
    : never;
} & { readonly raw: grpc.Client };

/** Short worker intervals so recovery shows within a test's patience. */
export const TEST_WORKER_LIMITS = {
  sweepIntervalMs: 500,
  sweepAfterMs: 300,
  lease: { leaseTtlMs: 3_000, renewIntervalMs: 500 },
} as const;

/**
 * A database and Redis index of a suite's own, for suites that break things (flush Redis, kill
 * workers): nothing they do can disturb the suites sharing the default ones.
 */
export function isolatedEnv(name: string, redisDb: number): { DATABASE_URL: string; REDIS_URL: string } {
  const database = new URL(TEST_DATABASE_URL);
  database.pathname = `/tally_test_${name}`;
  const redis = new URL(TEST_REDIS_URL);
  redis.pathname = `/${redisDb}`;
  return { DATABASE_URL: database.toString(), REDIS_URL: redis.toString() };
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const config = loadConfig({
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    TALLY_GRPC_PORT: '0',
    TALLY_HTTP_PORT: '0',
    TALLY_LOG_LEVEL: process.env['TALLY_TEST_LOG_LEVEL'] ?? 'silent',
    ...env,
  });
  const server = await startServer(config, createLogger(config.logLevel, 'tally-test'), { workerLimits: TEST_WORKER_LIMITS });
  const grpcAddress = `127.0.0.1:${server.grpcPort}`;
  const httpUrl = `http://127.0.0.1:${server.httpPort}`;
  const raws: grpc.Client[] = [];
  return {
    server,
    grpcAddress,
    httpUrl,
    grpcClient(service) {
      const Ctor = grpc.makeGenericClientConstructor(grpcServiceDefinition(service), service.name);
      const raw = new Ctor(grpcAddress, grpc.credentials.createInsecure());
      raws.push(raw);
      const client: Record<string, unknown> = { raw };
      for (const method of service.methods) {
        if (method.methodKind !== 'unary') continue;
        client[method.localName] = (request: Record<string, unknown>, metadata = new grpc.Metadata()) =>
          new Promise((resolve, reject) =>
            (raw as unknown as Record<string, (...a: unknown[]) => void>)[method.name]!(
              create(method.input, request as never),
              metadata,
              (error: grpc.ServiceError | null, response: unknown) => (error ? reject(error) : resolve(response)),
            ),
          );
      }
      return client as GrpcClient<typeof service>;
    },
    connectClient(service) {
      return createClient(service, createConnectTransport({ baseUrl: httpUrl, httpVersion: '1.1' }));
    },
    async stop() {
      for (const raw of raws) raw.close();
      await server.stop();
    },
  };
}
