/**
 * The HTTP API: the provider's /v1 (where the fault switches apply), /healthz and /admin
 * (which always answer). Every answer is JSON; every error is {"error":{"code","message"}}.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkFaultsPatch, type FaultSwitches } from './faults.js';
import { parseRatesQuery, quoteRates } from './quote.js';
import { checkUsdValuesPatch, type UsdValues } from './usd-values.js';

/** Longer URLs are refused with 414: a rates query with every symbol fits in about 700. */
export const MAX_URL_CHARS = 2048;
/** Admin bodies are a few switches or a few values. */
export const MAX_ADMIN_BODY_BYTES = 4096;

export interface MockState {
  readonly faults: FaultSwitches;
  readonly usdValues: UsdValues;
  readonly frozenAt: Date | undefined;
  /** Aborted when the server stops: ends the latency waits at once. */
  readonly stopping: AbortSignal;
}

/** What became of a request: the status answered, or `dropped` (outage: no answer at all). */
export type Outcome = number | 'dropped';

type Area = 'provider' | 'health' | 'admin';

export async function handleRequest(state: MockState, req: IncomingMessage, res: ServerResponse): Promise<Outcome> {
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const area = areaOf(path);

  if (area === 'provider' && state.faults.current().outage) return drop(req);
  if (url.length > MAX_URL_CHARS) {
    return sendError(res, 414, 'URI_TOO_LONG', `the URL has ${url.length} characters; at most ${MAX_URL_CHARS} are allowed`);
  }
  const search = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
  switch (area) {
    case 'health':
      if (req.method !== 'GET') return methodNotAllowed(res, req, ['GET']);
      return sendJson(res, 200, { status: 'ok' });
    case 'admin':
      return handleAdmin(state, req, res, path);
    case 'provider':
      return handleProvider(state, req, res, path, search);
  }
}

function areaOf(path: string): Area {
  if (path === '/healthz') return 'health';
  if (path === '/admin' || path.startsWith('/admin/')) return 'admin';
  return 'provider';
}

async function handleProvider(state: MockState, req: IncomingMessage, res: ServerResponse, path: string, search: URLSearchParams): Promise<Outcome> {
  if (path !== '/v1' && !path.startsWith('/v1/')) return notFound(res, req, path);

  const { latencyMs } = state.faults.current();
  if (latencyMs > 0) {
    try {
      await sleep(latencyMs, undefined, { signal: state.stopping });
    } catch {
      return sendError(res, 503, 'UNAVAILABLE', 'the rate provider is stopping', { 'retry-after': '1', connection: 'close' });
    }
    // The outage may have begun while this request waited.
    if (state.faults.current().outage) return drop(req);
  }
  if (state.faults.nextAnswerFails()) {
    return sendError(res, 503, 'UNAVAILABLE', 'the rate provider is temporarily unavailable', { 'retry-after': '1' });
  }
  if (req.method !== 'GET') return methodNotAllowed(res, req, ['GET']);
  if (path !== '/v1/rates') return notFound(res, req, path);

  const parsed = parseRatesQuery(search);
  if (!parsed.ok) return sendError(res, 400, parsed.problem.code, parsed.problem.message);
  const asOf = (state.frozenAt ?? new Date()).toISOString();
  return sendJson(res, 200, { base: parsed.query.base, as_of: asOf, rates: quoteRates(state.usdValues, parsed.query) });
}

async function handleAdmin(state: MockState, req: IncomingMessage, res: ServerResponse, path: string): Promise<Outcome> {
  switch (path) {
    case '/admin/faults': {
      if (req.method === 'GET') return sendJson(res, 200, state.faults.current());
      if (req.method !== 'POST') return methodNotAllowed(res, req, ['GET', 'POST']);
      const body = await readJsonBody(req, res);
      if (!body.ok) return body.outcome;
      const checked = checkFaultsPatch(body.value);
      if (!checked.ok) return sendError(res, 400, 'INVALID_REQUEST', checked.problems.join('; '));
      return sendJson(res, 200, state.faults.set(checked.patch));
    }
    case '/admin/rates': {
      if (req.method === 'GET') return sendJson(res, 200, state.usdValues.overrides());
      if (req.method !== 'POST') return methodNotAllowed(res, req, ['GET', 'POST']);
      const body = await readJsonBody(req, res);
      if (!body.ok) return body.outcome;
      const checked = checkUsdValuesPatch(body.value);
      if (!checked.ok) return sendError(res, 400, 'INVALID_REQUEST', checked.problems.join('; '));
      state.usdValues.apply(checked.patch);
      return sendJson(res, 200, state.usdValues.overrides());
    }
    case '/admin/reset': {
      if (req.method !== 'POST') return methodNotAllowed(res, req, ['POST']);
      state.usdValues.reset();
      return sendJson(res, 200, { faults: state.faults.reset(), usdValues: state.usdValues.overrides() });
    }
    default:
      return notFound(res, req, path);
  }
}

type Body = { ok: true; value: unknown } | { ok: false; outcome: Outcome };

/** Reads a JSON body of at most MAX_ADMIN_BODY_BYTES; answers 413 or 400 itself otherwise. */
async function readJsonBody(req: IncomingMessage, res: ServerResponse): Promise<Body> {
  const bytes = Number(req.headers['content-length'] ?? 0) > MAX_ADMIN_BODY_BYTES ? 'too large' : await readBody(req);
  if (bytes === 'too large') {
    const message = `the body may have at most ${MAX_ADMIN_BODY_BYTES} bytes`;
    return { ok: false, outcome: sendError(res, 413, 'PAYLOAD_TOO_LARGE', message, { connection: 'close' }) };
  }
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) as unknown };
  } catch {
    return { ok: false, outcome: sendError(res, 400, 'INVALID_REQUEST', 'the body is not valid JSON') };
  }
}

/**
 * The body, or 'too large' as soon as it passes the limit. Listens rather than iterates:
 * leaving an async iterator early would destroy the socket before the 413 could be sent.
 */
function readBody(req: IncomingMessage): Promise<Buffer | 'too large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (settleWith: () => void) => {
      if (settled) return;
      settled = true;
      settleWith();
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return; // the rest of a too-large body is read and dropped
      size += chunk.length;
      if (size > MAX_ADMIN_BODY_BYTES) settle(() => resolve('too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => settle(() => resolve(Buffer.concat(chunks))));
    req.on('error', (error) => settle(() => reject(error)));
    req.on('close', () => settle(() => reject(new Error('the client closed the connection before sending the whole body'))));
  });
}

/** A provider that is down: the connection is accepted, then destroyed without a byte. */
function drop(req: IncomingMessage): Outcome {
  req.socket.destroy();
  return 'dropped';
}

function notFound(res: ServerResponse, req: IncomingMessage, path: string): Outcome {
  return sendError(res, 404, 'NOT_FOUND', `no such resource: ${req.method ?? 'GET'} ${path.slice(0, 100)}`);
}

function methodNotAllowed(res: ServerResponse, req: IncomingMessage, allowed: readonly string[]): Outcome {
  const method = (req.method ?? '').slice(0, 16);
  return sendError(res, 405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allowed.join(' or ')}`, { allow: allowed.join(', ') });
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): Outcome {
  return sendJson(res, status, { error: { code, message } }, headers);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): Outcome {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
  return status;
}
