/** Starts and stops the mock's HTTP server; what it answers is in http.ts. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultSwitches, type Faults } from './faults.js';
import { handleRequest, sendError, type MockState, type Outcome } from './http.js';
import { checkUsdValuesPatch, UsdValues } from './usd-values.js';

/** Clients are tests and a few Tally processes; more connections than this are refused. */
export const MAX_CONNECTIONS = 1024;
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_HEADER_BYTES = 8192;
/** How long close() lets answers in flight finish before it cuts their connections. */
const CLOSE_GRACE_MS = 2_000;

export interface RatesMockOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** The switches at start, and what resetFaults() and POST /admin/reset restore. Default: none. */
  readonly faults?: Partial<Faults>;
  /** Answer every as_of with this time instead of the clock, for repeatable answers. */
  readonly frozenAt?: Date;
  /** Called once per request, after it is answered or dropped. */
  readonly onRequest?: (entry: RequestLogEntry) => void;
  /** Called with a failure the mock did not expect (it has answered 500). Default: console.error. */
  readonly onError?: (error: unknown) => void;
}

export interface RequestLogEntry {
  readonly method: string;
  readonly url: string;
  readonly outcome: Outcome;
  readonly durationMs: number;
}

export interface RatesMock {
  /** Such as http://127.0.0.1:8090, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  faults(): Faults;
  /** Changes the given switches; throws RangeError, changing nothing, on a bad value. */
  setFaults(patch: Partial<Faults>): Faults;
  /** Overrides USD values, as POST /admin/rates does: {"EUR":"0.5"} (USD per unit), null restores. */
  setUsdValues(values: Readonly<Record<string, string | null>>): void;
  /** Restores the switches given at start and the standard USD values. */
  resetFaults(): Faults;
  /** Stops listening, ends latency waits and closes every connection. */
  close(): Promise<void>;
}

export async function startRatesMock(options: RatesMockOptions = {}): Promise<RatesMock> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port ${port} must be a whole number from 0 to 65535`);
  if (options.frozenAt !== undefined && Number.isNaN(options.frozenAt.getTime())) throw new RangeError('frozenAt is not a valid time');

  const stopping = new AbortController();
  const state: MockState = {
    faults: new FaultSwitches(options.faults),
    usdValues: new UsdValues(),
    frozenAt: options.frozenAt,
    stopping: stopping.signal,
  };
  const onError = options.onError ?? ((error: unknown) => console.error('rates-mock: unexpected failure', error));

  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    const startedAt = process.hrtime.bigint();
    handleRequest(state, req, res)
      .catch((error: unknown): Outcome => {
        onError(error);
        if (res.headersSent || req.socket.destroyed) {
          req.socket.destroy();
          return 'dropped';
        }
        return sendError(res, 500, 'INTERNAL', 'the rate provider failed unexpectedly');
      })
      .then((outcome) => {
        const durationMs = Number((process.hrtime.bigint() - startedAt) / 1_000_000n);
        options.onRequest?.({ method: req.method ?? '', url: (req.url ?? '').slice(0, 200), outcome, durationMs });
      })
      .catch(onError);
  });
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.maxConnections = MAX_CONNECTIONS;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', onError);
  const bound = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      stopping.abort();
      const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      server.close(() => {
        clearTimeout(cut);
        resolve();
      });
      server.closeIdleConnections();
    });
    return closing;
  };

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    faults: () => state.faults.current(),
    setFaults: (patch) => state.faults.set(patch),
    setUsdValues: (values) => {
      const checked = checkUsdValuesPatch(values);
      if (!checked.ok) throw new RangeError(`bad USD values: ${checked.problems.join('; ')}`);
      state.usdValues.apply(checked.patch);
    },
    resetFaults: () => {
      state.usdValues.reset();
      return state.faults.reset();
    },
    close,
  };
}
