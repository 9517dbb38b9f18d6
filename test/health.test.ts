import { Code } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import {
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus as Serving,
  LedgerService,
  type HealthCheckResponse,
} from '@tally/contracts';
import { grpcServiceDefinition } from '@tally/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRefusal } from './support/errors.js';
import { startTestServer, type TestServer } from './support/server.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './support/test-env.js';

/**
 * Health follows the dependencies. PostgreSQL and Redis are reached through proxies the test
 * can cut, as if each service stopped, without touching the shared servers.
 */
let postgres: TcpProxy;
let redis: TcpProxy;
let t: TestServer;
let client: grpc.Client;

beforeAll(async () => {
  postgres = await startTcpProxy('127.0.0.1', 5432);
  redis = await startTcpProxy('127.0.0.1', 6379);
  const databaseUrl = new URL(TEST_DATABASE_URL);
  databaseUrl.port = String(postgres.port);
  t = await startTestServer({ DATABASE_URL: databaseUrl.toString(), REDIS_URL: `redis://127.0.0.1:${redis.port}${new URL(TEST_REDIS_URL).pathname}` });
  client = new grpc.Client(t.grpcAddress, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client.close();
  await t.stop();
  await Promise.all([postgres.close(), redis.close()]);
});

function healthOf(service = ''): Promise<Serving> {
  const check = grpcServiceDefinition(Health)['Check']!;
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(check.path, check.requestSerialize, check.responseDeserialize, create(HealthCheckRequestSchema, { service }), (error, response) =>
      error || !response ? reject(error ?? new Error('no response')) : resolve((response as HealthCheckResponse).status),
    ),
  );
}

/** Polls until `want` (health is probed about once a second); gives up after 20 s. */
async function eventually(want: Serving, service = ''): Promise<Serving> {
  let seen = await healthOf(service);
  for (let i = 0; i < 100 && seen !== want; i++) {
    await new Promise((r) => setTimeout(r, 200));
    seen = await healthOf(service);
  }
  return seen;
}

describe('grpc.health.v1, /readyz and answers while a dependency is down', () => {
  it('are SERVING and ready while PostgreSQL and Redis answer', async () => {
    expect(await eventually(Serving.SERVING)).toBe(Serving.SERVING);
    expect(await eventually(Serving.SERVING, 'tally.v1.LedgerService')).toBe(Serving.SERVING);
    expect((await fetch(`${t.httpUrl}/readyz`)).status).toBe(200);
  });

  it('turn NOT_SERVING when PostgreSQL goes away (requests answer UNAVAILABLE), and SERVING again when it is back', async () => {
    postgres.cut();
    expect(await eventually(Serving.NOT_SERVING)).toBe(Serving.NOT_SERVING);
    const readyz = await fetch(`${t.httpUrl}/readyz`);
    expect(readyz.status).toBe(503);
    expect(JSON.stringify(await readyz.json())).toContain('postgres');
    expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);
    const refused = await connectRefusal(t.connectClient(LedgerService).createLedger({ name: 'x', currencies: ['USD'] }));
    expect(refused.code).toBe(Code.Unavailable);
    postgres.restore();
    expect(await eventually(Serving.SERVING)).toBe(Serving.SERVING);
  });

  it('turn NOT_SERVING when Redis goes away, and SERVING again when it is back', async () => {
    redis.cut();
    expect(await eventually(Serving.NOT_SERVING, 'tally.v1.OperationService')).toBe(Serving.NOT_SERVING);
    redis.restore();
    expect(await eventually(Serving.SERVING, 'tally.v1.OperationService')).toBe(Serving.SERVING);
  });
});
