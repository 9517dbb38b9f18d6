import type http from 'node:http';
import type http2 from 'node:http2';
import { cors } from '@connectrpc/connect';
import { REQUEST_ID_HEADER } from './request-ids.js';

/**
 * CORS for browser apps on other origins (TALLY_CORS_ORIGINS): Connect's and gRPC-Web's own
 * headers, plus the ones Tally reads and the ones its clients read.
 */

/** How long browsers may cache a CORS preflight answer. */
const CORS_MAX_AGE_SECONDS = 7_200;

/** Request headers a page may send: the protocols' own, and what Tally reads from a call. */
export const ALLOWED_REQUEST_HEADERS: readonly string[] = [
  ...cors.allowedHeaders,
  'Authorization', // API keys: `Bearer <key>`
  'X-Client-Id', // the calling app's name, in logs and traces
  REQUEST_ID_HEADER, // the caller's own request id, else one is made
  'Traceparent', // W3C trace context
  'Tracestate',
];

/** Response headers a page may read: the protocols' status headers, and the request id. */
export const EXPOSED_RESPONSE_HEADERS: readonly string[] = [...cors.exposedHeaders, REQUEST_ID_HEADER, `Trailer-${REQUEST_ID_HEADER}`];

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/** `*` allows every origin; otherwise exact matches only (scheme, host and port). */
export function originPolicy(origins: readonly string[]): (origin: string) => boolean {
  if (origins.includes('*')) return () => true;
  const allowed = new Set(origins);
  return (origin) => allowed.has(origin);
}

/**
 * Adds CORS headers for allowed browser origins. Returns true when it answered the request
 * itself (a preflight).
 */
export function applyCors(req: Request, res: Response, allowOrigin: (origin: string) => boolean): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return false; // not a cross-origin browser request
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  res.setHeader('Vary', 'Origin');
  if (!allowOrigin(origin)) {
    if (preflight) {
      const text = JSON.stringify({ error: `origin ${origin} is not allowed` });
      res.writeHead(403, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    }
    return preflight;
  }
  // The origin is echoed rather than `*`, which browsers refuse for credentialed requests.
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Expose-Headers', EXPOSED_RESPONSE_HEADERS.join(', '));
  if (!preflight) return false;
  res.setHeader('Access-Control-Allow-Methods', cors.allowedMethods.join(', '));
  res.setHeader('Access-Control-Allow-Headers', ALLOWED_REQUEST_HEADERS.join(', '));
  res.setHeader('Access-Control-Max-Age', String(CORS_MAX_AGE_SECONDS));
  res.statusCode = 204;
  res.end();
  return true;
}
