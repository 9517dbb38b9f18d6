import { ExchangeService, LedgerService, OperationService } from '@tally/contracts';
import type * as TallyClientModule from '@tally/client';
import { startRatesMock, type RatesMock } from '@tally/rates-mock';
import { build } from 'esbuild';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * A browser page on another origin, allowed by TALLY_CORS_ORIGINS, calls every RPC of Tally's
 * three services through @tally/client (bundled for the browser), over the Connect protocol and
 * over gRPC-Web, streams included, sending x-client-id and x-request-id and reading back the
 * x-request-id Tally answers: every request header must pass the preflight and every response
 * header the client needs must be exposed. A CORS refusal reaches a page as a bare network
 * failure, never as a status, which is how the outcomes below tell the two apart.
 */

/** What the page saw of one call. */
interface Outcome {
  readonly ok: boolean;
  /** The Connect code's name when it failed (`FailedPrecondition`). */
  readonly code?: string;
  /** ErrorInfo.reason of a refusal, as the client decoded it. */
  readonly reason?: string;
  /** The call got no HTTP answer the page could read: what a CORS refusal looks like. */
  readonly network: boolean;
  readonly requestIdSent: string;
  /** The x-request-id the page could read from the answer (null: absent or not exposed). */
  readonly requestIdSeen: string | null;
  /** Messages read from a stream. */
  readonly messages?: number;
  readonly message?: string;
}

interface PageArgs {
  readonly tallyUrl: string;
  readonly transport: 'connect' | 'grpc-web';
  readonly runId: string;
  /** How many credits the page sends at most while waiting for its ledger watch to see one. */
  readonly maxWatchNudges: number;
}

const MAX_WATCH_NUDGES = 40;


let provider: RatesMock;
let t: TestServer;
let browser: Browser;
let pageServer: http.Server;
/** The page's origin (localhost), another origin than Tally's (127.0.0.1 and another port). */
let pageOrigin: string;
/** The same page from an origin TALLY_CORS_ORIGINS does not list. */
let foreignOrigin: string;

beforeAll(async () => {
  const client = await bundleClientForTheBrowser();
  pageServer = http.createServer((req, res) => {
    if (req.url === '/client.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(client);
    } else if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><title>another origin</title><script src="/client.js"></script>');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  const { port } = pageServer.address() as AddressInfo;
  pageOrigin = `http://localhost:${port}`;
  foreignOrigin = `http://127.0.0.1:${port}`;
  provider = await startRatesMock({ port: 0 });
  t = await startTestServer({ TALLY_CORS_ORIGINS: pageOrigin, TALLY_RATES_URL: provider.url });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await provider?.close();
  await new Promise((resolve) => pageServer?.close(resolve));
});

/** @tally/client's browser build (the `browser` export condition) as a script: `globalThis.TallyClient`. */
async function bundleClientForTheBrowser(): Promise<string> {
  const result = await build({
    stdin: { contents: "export * from '@tally/client';", resolveDir: fileURLToPath(new URL('..', import.meta.url)), loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'TallyClient',
    conditions: ['@tally/source', 'browser'],
    target: ['es2022'],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

async function openPage(origin: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => 'TallyClient' in globalThis);
  return page;
}

const everyRpc = [LedgerService, ExchangeService, OperationService].flatMap((service) => service.methods.map((m) => `${service.typeName}.${m.name}`)).sort();

describe('a browser page on another origin listed in TALLY_CORS_ORIGINS', () => {
  it.each(['connect', 'grpc-web'] as const)('calls every RPC over %s with x-client-id and x-request-id, and reads the request id back', async (transport) => {
    const page = await openPage(pageOrigin);
    expect(new URL(page.url()).origin).not.toBe(new URL(t.httpUrl).origin);
    const args: PageArgs = { tallyUrl: t.httpUrl, transport, runId: `cors-${Date.now()}`, maxWatchNudges: MAX_WATCH_NUDGES };
    const outcomes = await page.evaluate(callEveryRpc, args);
    await page.close();

    expect(Object.keys(outcomes).sort()).toEqual(everyRpc);
    for (const [rpc, outcome] of Object.entries(outcomes)) {
      const seen = `${transport} ${rpc}: ${JSON.stringify(outcome)}`;
      expect(outcome.network, seen).toBe(false);
      expect(outcome.requestIdSeen, seen).toBe(outcome.requestIdSent);
      if (rpc === 'tally.v1.OperationService.CancelOperation') {
        // Its operation has COMPLETED: a typed refusal the page could read, status and details.
        expect(outcome, seen).toMatchObject({ ok: false, code: 'FailedPrecondition' });
        expect(outcome.reason, seen).toMatch(/^[A-Z_]+$/);
      } else {
        expect(outcome, seen).toMatchObject({ ok: true });
      }
    }
    expect(outcomes['tally.v1.OperationService.WatchOperation']!.messages).toBeGreaterThanOrEqual(1);
    expect(outcomes['tally.v1.OperationService.WatchLedger']!.messages).toBeGreaterThanOrEqual(1);
  });

  it('is told apart from a page on an origin the list does not name: that one sees only a network failure', async () => {
    const page = await openPage(foreignOrigin);
    const args: PageArgs = { tallyUrl: t.httpUrl, transport: 'connect', runId: `foreign-${Date.now()}`, maxWatchNudges: MAX_WATCH_NUDGES };
    const outcomes = await page.evaluate(callEveryRpc, args);
    await page.close();
    const first = outcomes['tally.v1.ExchangeService.ListCurrencies'];
    expect(first).toMatchObject({ ok: false, network: true, requestIdSeen: null });
  });
});

/**
 * Runs in the page (serialised by playwright: it may use nothing from this module). Calls
 * every RPC once, in an order where each has what it needs, and reports each outcome. Stops
 * at the first network failure: nothing after it could get through either.
 */
async function callEveryRpc({ tallyUrl, transport, runId, maxWatchNudges }: PageArgs): Promise<Record<string, Outcome>> {
  const T = (globalThis as unknown as { TallyClient: typeof TallyClientModule }).TallyClient;
  const tally = T.createTallyClient({ baseUrl: tallyUrl, transport, headers: { 'x-client-id': 'cors-test-page' } });
  const outcomes: Record<string, Outcome> = {};

  class NetworkFailure extends Error {}
  /** One call: its own x-request-id sent, the one answered read from headers, trailers or the error. */
  async function call<R>(rpc: string, run: (options: { headers: Record<string, string>; onHeader(h: Headers): void; onTrailer(h: Headers): void }) => Promise<R>, messages?: (r: R) => number): Promise<R> {
    const requestIdSent = `${runId}.${transport}.${rpc.split('.').pop()}`;
    let requestIdSeen: string | null = null;
    const note = (h: Headers) => {
      requestIdSeen ??= h.get('x-request-id');
    };
    try {
      const result = await run({ headers: { 'x-request-id': requestIdSent }, onHeader: note, onTrailer: note });
      outcomes[rpc] = { ok: true, network: false, requestIdSent, requestIdSeen, ...(messages ? { messages: messages(result) } : {}) };
      return result;
    } catch (error) {
      const e = error as TallyClientModule.TallyError;
      const network = e.cause instanceof TypeError;
      outcomes[rpc] = { ok: false, code: T.Code[e.code], reason: e.reason, network, requestIdSent, requestIdSeen: requestIdSeen ?? e.requestId ?? null, message: e.message };
      throw network ? new NetworkFailure(e.message) : error;
    }
  }
  const L = 'tally.v1.LedgerService.';
  const X = 'tally.v1.ExchangeService.';
  const O = 'tally.v1.OperationService.';

  try {
    await call(`${X}ListCurrencies`, (o) => tally.exchange.listCurrencies({}, o));
    const a = (await call(`${L}CreateLedger`, (o) => tally.ledgers.createLedger({ name: `${runId} a`, currencies: ['USD', 'EUR'] }, o))).ledger!;
    const b = (await tally.ledgers.createLedger({ name: `${runId} b`, currencies: ['USD'] })).ledger!;
    await call(`${L}GetLedger`, (o) => tally.ledgers.getLedger({ ledgerId: a.id }, o));
    await call(`${L}ListLedgers`, (o) => tally.ledgers.listLedgers({ pageSize: 1 }, o));
    await call(`${L}EnableCurrency`, (o) => tally.ledgers.enableCurrency({ ledgerId: a.id, currency: 'JPY' }, o));
    await call(`${L}DisableCurrency`, (o) => tally.ledgers.disableCurrency({ ledgerId: a.id, currency: 'JPY' }, o));
    const credit = { ledgerId: a.id, type: T.TransactionType.CREDIT, amount: 10_000n, currency: 'USD' };
    const op = (await call(`${L}SubmitTransaction`, (o) => tally.ledgers.submitTransaction({ ...credit, transactionId: `${runId}-credit` }, o))).operation!;
    // Read to its end: after it the operation is terminal (COMPLETED).
    await call(
      `${O}WatchOperation`,
      async (o) => {
        let seen = 0;
        for await (const _ of tally.operations.watchOperation({ operationId: op.id }, o)) seen += 1;
        return seen;
      },
      (seen) => seen,
    );
    await call(`${O}GetOperation`, (o) => tally.operations.getOperation({ operationId: op.id }, o));
    await call(`${L}SubmitTransactions`, (o) =>
      tally.ledgers.submitTransactions({ transactions: [{ ledgerId: a.id, transactionId: `${runId}-eur`, type: T.TransactionType.CREDIT, amount: 500n, currency: 'EUR' }] }, o),
    );
    await call(`${L}SubmitTransfer`, (o) =>
      tally.ledgers.submitTransfer({ fromLedgerId: a.id, toLedgerId: b.id, transactionId: `${runId}-transfer`, currency: 'USD', amount: 100n }, o),
    );
    await call(`${L}GetBalances`, (o) => tally.ledgers.getBalances({ ledgerId: a.id, convertTo: 'EUR' }, o));
    await call(`${L}ListEntries`, (o) => tally.ledgers.listEntries({ ledgerId: a.id }, o));
    await call(`${O}ListOperations`, (o) => tally.operations.listOperations({ ledgerId: a.id }, o));
    await call(`${O}CancelOperation`, (o) => tally.operations.cancelOperation({ operationId: op.id }, o)).catch((e: unknown) => {
      if (e instanceof NetworkFailure) throw e;
    });
    await call(`${X}GetRate`, (o) => tally.exchange.getRate({ fromCurrency: 'USD', toCurrency: 'EUR' }, o));
    const quote = (await call(`${X}CreateQuote`, (o) => tally.exchange.createQuote({ fromCurrency: 'USD', toCurrency: 'EUR', amount: 1_000n }, o))).quote!;
    await call(`${X}SubmitExchange`, (o) =>
      tally.exchange.submitExchange({ ledgerId: a.id, transactionId: `${runId}-exchange`, fromCurrency: 'USD', toCurrency: 'EUR', amount: 1_000n, quoteId: quote.id }, o),
    );
    // A ledger watch shows what happens after it starts: credit the ledger until it sees one.
    await call(
      `${O}WatchLedger`,
      async (o) => {
        const watching = new AbortController();
        const stream = tally.operations.watchLedger({ ledgerId: a.id }, { ...o, signal: watching.signal })[Symbol.asyncIterator]();
        const first = stream.next();
        let seen = false;
        void first.then(() => (seen = true), () => (seen = true));
        for (let nudge = 0; nudge < maxWatchNudges && !seen; nudge++) {
          await tally.ledgers.submitTransaction({ ...credit, amount: 1n, transactionId: `${runId}-nudge-${nudge}` });
          await Promise.race([first, new Promise((r) => setTimeout(r, 250))]);
        }
        const event = await first;
        watching.abort();
        return event.done ? 0 : 1;
      },
      (seen) => seen,
    );
  } catch (error) {
    if (!(error instanceof NetworkFailure)) throw error;
  }
  return outcomes;
}
