import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type http from 'node:http';
import type http2 from 'node:http2';
import type { HealthMonitor } from './health.js';

/**
 * The HTTP port's plain endpoints, beside the RPCs: /healthz and /readyz, /metrics
 * (Prometheus) and the web console's static files under /console/.
 */

export interface PlainEndpointsOptions {
  readonly health: HealthMonitor;
  /** The Prometheus exposition; /metrics answers 404 without it. */
  readonly metrics?: (() => Promise<{ contentType: string; body: string }>) | undefined;
  /** The built console's folder (index.html and its assets); /console answers 404 without it. */
  readonly consoleDir?: string | undefined;
}

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/** A console file's name: no folders, no dot-dot, nothing to escape the folder with. */
const CONSOLE_FILE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/;
/** Largest console file served: the bundle is a few hundred kilobytes. */
const MAX_CONSOLE_FILE_BYTES = 8 * 1024 * 1024;
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};
/** The console talks to this origin only, runs only its own script, and is never framed. */
const CONSOLE_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/** Answers the request when it is for a plain endpoint; returns false for anything else (an RPC). */
export function servePlainEndpoint(req: Request, res: Response, options: PlainEndpointsOptions): boolean {
  const url = req.url ?? '/';
  const pathname = url.split('?', 1)[0] ?? '/';
  const isConsole = pathname === '/console' || pathname.startsWith('/console/');
  if (pathname !== '/healthz' && pathname !== '/readyz' && pathname !== '/metrics' && !isConsole) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendJson(res, 405, { error: 'method not allowed' });
    return true;
  }
  if (pathname === '/healthz') {
    // Liveness: the process answers. Dependencies belong to readiness, or a database
    // outage would get every replica restarted.
    sendJson(res, 200, { status: 'ok' });
  } else if (pathname === '/readyz') {
    const snapshot = options.health.snapshot();
    sendJson(res, snapshot.ready ? 200 : 503, { status: snapshot.ready ? 'ready' : 'not ready', ...snapshot });
  } else if (pathname === '/metrics') {
    if (!options.metrics) sendJson(res, 404, { error: 'not found' });
    else {
      options.metrics().then(
        ({ contentType, body }) => send(res, 200, contentType, body),
        (error: unknown) => sendJson(res, 500, { error: `metrics could not be collected: ${String(error)}` }),
      );
    }
  } else if (pathname === '/console') {
    // Relative asset paths in the page resolve under /console/.
    res.setHeader('Location', `/console/${url.slice(pathname.length)}`);
    send(res, 308, 'text/plain; charset=utf-8', 'moved to /console/');
  } else {
    void serveConsoleFile(res, options.consoleDir, pathname.slice('/console/'.length) || 'index.html');
  }
  return true;
}

async function serveConsoleFile(res: Response, dir: string | undefined, name: string): Promise<void> {
  if (dir === undefined || !CONSOLE_FILE.test(name)) return sendJson(res, 404, { error: 'not found' });
  let body: Buffer;
  try {
    body = await readFile(path.join(dir, name));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    if (missing && name === 'index.html') return sendJson(res, 503, { error: 'the console is not built: run `npm run build` (npm start builds it)' });
    return sendJson(res, missing ? 404 : 500, { error: missing ? 'not found' : 'the file could not be read' });
  }
  if (body.length > MAX_CONSOLE_FILE_BYTES) return sendJson(res, 500, { error: 'the file is too large to serve' });
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  // The page is read anew each time (it names the current bundle); assets may be kept briefly.
  res.setHeader('Cache-Control', name === 'index.html' ? 'no-cache' : 'public, max-age=300');
  send(res, 200, CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream', body);
}

/** The part of an http or http2 response (or Connect's view of either) that sendJson uses. */
export interface PlainResponse {
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(data: string | Buffer): unknown;
}

export function sendJson(res: PlainResponse, status: number, body: unknown): void {
  res.setHeader('Cache-Control', 'no-store');
  send(res, status, 'application/json', JSON.stringify(body));
}

function send(res: PlainResponse, status: number, contentType: string, body: string | Buffer): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
