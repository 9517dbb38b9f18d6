import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import { ExchangeService } from '@tally/contracts';
import { grpcServiceDefinition } from '@tally/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, startTestServer, type TestServer } from './support/server.js';

/**
 * TLS on both ports from TALLY_TLS_CERT / TALLY_TLS_KEY, and client certificates checked when
 * TALLY_TLS_CA is set, as an operator configures them: certificates made here with openssl (a
 * test CA signs the server's and a client's; a stranger's CA signs another client's).
 */

interface Pem {
  readonly cert: Buffer;
  readonly key: Buffer;
}
interface Certificates {
  readonly dir: string;
  readonly ca: Buffer;
  readonly server: Pem & { readonly certPath: string; readonly keyPath: string };
  readonly client: Pem;
  readonly stranger: Pem;
  readonly caPath: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** Two CAs; the test CA signs the server's and a client's certificate, the stranger's CA another client's. */
function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'tally-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string) => openssl(dir, 'req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-days', '2');
  const signed = (name: string, by: string, extensions: string) => {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(dir, 'req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${by}.crt`, '-CAkey', `${by}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  };
  ca('test-ca');
  ca('stranger-ca');
  signed('server', 'test-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed('client', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  signed('stranger', 'stranger-ca', 'extendedKeyUsage=clientAuth\n');
  const read = (name: string): Pem => ({ cert: readFileSync(join(dir, `${name}.crt`)), key: readFileSync(join(dir, `${name}.key`)) });
  return {
    dir,
    ca: readFileSync(join(dir, 'test-ca.crt')),
    caPath: join(dir, 'test-ca.crt'),
    server: { ...read('server'), certPath: join(dir, 'server.crt'), keyPath: join(dir, 'server.key') },
    client: read('client'),
    stranger: read('stranger'),
  };
}

const certs = makeCertificates();
const env = { ...isolatedEnv('tls', 14), TALLY_ROLE: 'api', TALLY_TLS_CERT: certs.server.certPath, TALLY_TLS_KEY: certs.server.keyPath };

afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));

/** ListCurrencies over native gRPC; resolves to the number of currencies or rejects with the gRPC error. */
function grpcCall(t: TestServer, credentials: grpc.ChannelCredentials): Promise<number> {
  const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(ExchangeService), 'ExchangeService');
  const client = new Client(`127.0.0.1:${t.server.grpcPort}`, credentials);
  return new Promise<number>((resolve, reject) => {
    (client as unknown as Record<string, (...args: unknown[]) => void>)['ListCurrencies']!(
      {},
      new grpc.Metadata(),
      { deadline: Date.now() + 5_000 },
      (error: grpc.ServiceError | null, response: { currencies: unknown[] }) => (error ? reject(error) : resolve(response.currencies.length)),
    );
  }).finally(() => client.close());
}

/** ListCurrencies over Connect JSON, HTTP/1.1 or HTTP/2 (ALPN h2). */
async function connectCall(t: TestServer, httpVersion: '1.1' | '2', tlsOptions: { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<number> {
  const baseUrl = `https://127.0.0.1:${t.server.httpPort}`;
  const transport =
    httpVersion === '2' ? createConnectTransport({ baseUrl, httpVersion, nodeOptions: tlsOptions }) : createConnectTransport({ baseUrl, httpVersion, nodeOptions: tlsOptions });
  const client = createClient(ExchangeService, transport);
  const { currencies } = await client.listCurrencies({}, { timeoutMs: 5_000 });
  return currencies.length;
}

/** What a TLS client is told when the server ends the handshake (TLS 1.3 sends the alert after the client's Finished). */
const TLS_ALERT = /alert|certificate|socket hang up|ECONNRESET/i;

/** The message of a Connect client's error: its code depends on when in the handshake the client noticed. */
function refusal(error: unknown): string {
  expect(error).toBeInstanceOf(ConnectError);
  return (error as ConnectError).message;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('TLS with TALLY_TLS_CERT and TALLY_TLS_KEY', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(env);
  });
  afterAll(() => t?.stop());

  it('serves native gRPC over TLS, and refuses a plaintext client', async () => {
    expect(await grpcCall(t, grpc.credentials.createSsl(certs.ca))).toBeGreaterThan(100);
    const refused = (await failure(grpcCall(t, grpc.credentials.createInsecure()))) as grpc.ServiceError;
    expect(refused.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('serves Connect over HTTPS, HTTP/1.1 and HTTP/2 alike, and refuses a plaintext client', async () => {
    expect(await connectCall(t, '1.1', { ca: certs.ca })).toBeGreaterThan(100);
    expect(await connectCall(t, '2', { ca: certs.ca })).toBeGreaterThan(100);
    const health = await new Promise<number>((resolve, reject) =>
      https
        .get(`https://127.0.0.1:${t.server.httpPort}/healthz`, { ca: certs.ca }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject),
    );
    expect(health).toBe(200);
    const plaintext = await failure(fetch(`http://127.0.0.1:${t.server.httpPort}/healthz`));
    expect(plaintext).toBeInstanceOf(Error);
  });

  it('is refused by a client that does not trust the certificate', async () => {
    expect(refusal(await failure(connectCall(t, '1.1', {})))).toMatch(/self-signed certificate|unable to (get|verify)/i);
  });
});

describe('client certificates with TALLY_TLS_CA', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ ...env, TALLY_TLS_CA: certs.caPath });
  });
  afterAll(() => t?.stop());

  it('serves a client whose certificate the CA signed, on both ports', async () => {
    const { cert, key } = certs.client;
    expect(await grpcCall(t, grpc.credentials.createSsl(certs.ca, key, cert))).toBeGreaterThan(100);
    expect(await connectCall(t, '1.1', { ca: certs.ca, cert, key })).toBeGreaterThan(100);
    expect(await connectCall(t, '2', { ca: certs.ca, cert, key })).toBeGreaterThan(100);
  });

  it('refuses a client without a certificate, on both ports', async () => {
    const grpcRefused = (await failure(grpcCall(t, grpc.credentials.createSsl(certs.ca)))) as grpc.ServiceError;
    expect(grpcRefused.code).toBe(grpc.status.UNAVAILABLE);
    expect(refusal(await failure(connectCall(t, '1.1', { ca: certs.ca })))).toMatch(TLS_ALERT);
    expect(refusal(await failure(connectCall(t, '2', { ca: certs.ca })))).toMatch(TLS_ALERT);
  });

  it('refuses a client whose certificate another CA signed, on both ports', async () => {
    const { cert, key } = certs.stranger;
    const grpcRefused = (await failure(grpcCall(t, grpc.credentials.createSsl(certs.ca, key, cert)))) as grpc.ServiceError;
    expect(grpcRefused.code).toBe(grpc.status.UNAVAILABLE);
    expect(refusal(await failure(connectCall(t, '1.1', { ca: certs.ca, cert, key })))).toMatch(TLS_ALERT);
  });
});
