import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { BadRequestSchema, ErrorInfoSchema, LedgerService, OperationService, OperationStatus } from '@tally/contracts';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTallyClient as createBrowserTallyClient } from './browser.js';
import { createTallyClient, TallyError, type TallyClientOptions, type TransportKind } from './index.js';

/**
 * createTallyClient against a small Connect server of this spec's own (HTTP/1.1 for Connect
 * and gRPC-Web, cleartext HTTP/2 for gRPC): what reaches the server, and what every kind of
 * failure looks like to the caller, on each transport.
 */
const seenHeaders: Headers[] = [];

function routes(router: ConnectRouter) {
  router.service(LedgerService, {
    getLedger(request, context) {
      seenHeaders.push(new Headers(context.requestHeader));
      context.responseHeader.set('x-request-id', 'req-7');
      if (request.ledgerId === 'missing') {
        throw new ConnectError('no such ledger', Code.NotFound, undefined, [
          { desc: ErrorInfoSchema, value: { reason: 'LEDGER_NOT_FOUND', domain: 'tally.v1', metadata: { ledger_id: 'missing' } } },
        ]);
      }
      if (request.ledgerId === 'bad') {
        throw new ConnectError('bad request', Code.InvalidArgument, undefined, [
          { desc: BadRequestSchema, value: { fieldViolations: [{ field: 'ledger_id', description: 'must be a UUID' }] } },
        ]);
      }
      return { ledger: { id: request.ledgerId, name: 'Acme' } };
    },
    async getBalances(_request, context) {
      // Answers only once the caller has gone.
      return await new Promise<never>((_, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason)));
    },
  });
  router.service(OperationService, {
    async *watchOperation(request) {
      yield { operation: { id: request.operationId, status: OperationStatus.PENDING } };
      throw new ConnectError('watch dropped', Code.Unavailable, undefined, [{ desc: ErrorInfoSchema, value: { reason: 'WATCH_DROPPED' } }]);
    },
  });
}

let httpServer: http.Server;
let h2Server: http2.Http2Server;
const baseUrls = {} as Record<TransportKind, string>;
let deadUrl: string;
const sessions = new Set<http2.ServerHttp2Session>();

function listen(server: http.Server | http2.Http2Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  const handler = connectNodeAdapter({ routes });
  httpServer = http.createServer(handler);
  h2Server = http2.createServer(handler);
  h2Server.on('session', (session) => sessions.add(session));
  const [http1Url, http2Url] = await Promise.all([listen(httpServer), listen(h2Server)]);
  Object.assign(baseUrls, { connect: http1Url, 'grpc-web': http1Url, grpc: http2Url });
  const closed = http.createServer();
  deadUrl = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));
});
afterAll(async () => {
  httpServer?.closeAllConnections();
  await new Promise((resolve) => httpServer?.close(resolve));
  for (const session of sessions) session.destroy();
  await new Promise((resolve) => h2Server?.close(resolve));
});

const client = (transport: TransportKind, options: Partial<TallyClientOptions> = {}) => createTallyClient({ baseUrl: baseUrls[transport], transport, ...options });
const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e);

describe.each<TransportKind>(['connect', 'grpc-web', 'grpc'])('createTallyClient over %s', (transport) => {
  it('sends the headers and the API key on every call', async () => {
    let calls = 0;
    const tally = client(transport, { headers: () => ({ 'x-client-id': `console-${++calls}` }), apiKey: 'tally_secret' });
    const { ledger } = await tally.ledgers.getLedger({ ledgerId: 'l-1' });
    await tally.ledgers.getLedger({ ledgerId: 'l-1' });
    expect(ledger?.name).toBe('Acme');
    const [first, second] = seenHeaders.slice(-2);
    expect(first?.get('x-client-id')).toBe('console-1');
    expect(second?.get('x-client-id')).toBe('console-2');
    expect(second?.get('authorization')).toBe('Bearer tally_secret');
  });

  it("rejects a refusal with a TallyError carrying the server's reason, facts and request id", async () => {
    const error = await failure(client(transport).ledgers.getLedger({ ledgerId: 'missing' }));
    expect(error).toBeInstanceOf(TallyError);
    expect(error).toMatchObject({ code: Code.NotFound, reason: 'LEDGER_NOT_FOUND', domain: 'tally.v1', facts: { ledger_id: 'missing' }, requestId: 'req-7' });
  });

  it('rejects bad input with the field violations', async () => {
    const error = await failure(client(transport).ledgers.getLedger({ ledgerId: 'bad' }));
    expect(error).toMatchObject({ code: Code.InvalidArgument, violations: [{ field: 'ledger_id', description: 'must be a UUID' }] });
  });

  it('reports a failure while reading a stream as a TallyError', async () => {
    const seen: OperationStatus[] = [];
    const error = await failure(
      (async () => {
        for await (const { operation } of client(transport).operations.watchOperation({ operationId: 'op-1' })) seen.push(operation!.status);
      })(),
    );
    expect(seen).toEqual([OperationStatus.PENDING]);
    expect(error).toBeInstanceOf(TallyError);
    expect(error).toMatchObject({ code: Code.Unavailable, reason: 'WATCH_DROPPED' });
  });

  it('reports a server nobody answers as UNAVAILABLE, a transient TallyError', async () => {
    const error = await failure(createTallyClient({ baseUrl: deadUrl, transport }).ledgers.getLedger({ ledgerId: 'l-1' }));
    expect(error).toBeInstanceOf(TallyError);
    expect(error).toMatchObject({ code: Code.Unavailable });
  });

  it('reports a call past its timeoutMs as DEADLINE_EXCEEDED and an aborted one as CANCELED, both TallyErrors', async () => {
    const tally = client(transport);
    const late = await failure(tally.ledgers.getBalances({ ledgerId: 'l-1' }, { timeoutMs: 50 }));
    expect(late).toBeInstanceOf(TallyError);
    expect(late).toMatchObject({ code: Code.DeadlineExceeded });
    const controller = new AbortController();
    const pending = failure(tally.ledgers.getBalances({ ledgerId: 'l-1' }, { signal: controller.signal }));
    controller.abort();
    const aborted = await pending;
    expect(aborted).toBeInstanceOf(TallyError);
    expect(aborted).toMatchObject({ code: Code.Canceled });
  });
});

describe('createTallyClient options', () => {
  it("refuses transport 'grpc' in the browser build, saying what to use instead", () => {
    expect(() => createBrowserTallyClient({ baseUrl: 'http://127.0.0.1:8080', transport: 'grpc' })).toThrow(
      expect.objectContaining({ code: Code.Unimplemented, reason: 'TRANSPORT_UNSUPPORTED', message: expect.stringMatching(/'connect' or 'grpc-web'/) }),
    );
    expect(createBrowserTallyClient({ baseUrl: 'http://127.0.0.1:8080', transport: 'grpc-web' }).ledgers).toBeDefined();
  });

  it('refuses a baseUrl that is not http(s) and a transport it does not know', () => {
    expect(() => createTallyClient({ baseUrl: '127.0.0.1:8080' })).toThrow(expect.objectContaining({ reason: 'BASE_URL_INVALID' }));
    expect(() => createTallyClient({ baseUrl: 'http://127.0.0.1:8080', transport: 'websocket' as TransportKind })).toThrow(
      expect.objectContaining({ reason: 'TRANSPORT_UNKNOWN' }),
    );
  });
});
