import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';

/**
 * The HTTP port's connections, below any request: which protocol a cleartext connection speaks,
 * and the timeouts that keep silent or dribbling clients from holding connections and streams
 * (http-server.ts wires them in; limits.ts has the figures).
 */

/** Bytes every HTTP/2 connection starts with (RFC 9113 §3.4). */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Whether the client has already reset the request's stream or closed its connection. */
export function gone(req: http.IncomingMessage | http2.Http2ServerRequest): boolean {
  return 'stream' in req ? req.stream.destroyed || req.stream.closed : req.socket.destroyed;
}

/**
 * Closes an HTTP/2 connection (GOAWAY) once no stream has been open on it for `idleMs`, as
 * HTTP/1.1's keep-alive timeout does: silent connections do not pile up, while one holding a
 * watch, however quiet, stays.
 */
export function closeWhenIdle(session: http2.ServerHttp2Session, idleMs: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    timer = setTimeout(() => session.close(), idleMs);
    timer.unref();
  };
  arm();
  session.on('stream', (stream) => {
    open++;
    clearTimeout(timer);
    stream.once('close', () => {
      open--;
      if (open === 0 && !session.closed && !session.destroyed) arm();
    });
  });
  session.once('close', () => clearTimeout(timer));
}

/**
 * Resets an HTTP/2 stream whose request has not arrived whole (its END_STREAM flag) within
 * `receiveMs`, as HTTP/1.1's requestTimeout does for a connection: a client dribbling a body,
 * or never ending it, does not hold a stream, and the handler that waits for it, for ever.
 */
export function cancelUnlessReceived(stream: http2.ServerHttp2Stream, receiveMs: number): void {
  if (stream.state.remoteClose) return;
  const timer = setTimeout(() => {
    if (!stream.destroyed && !stream.closed && !stream.state.remoteClose) stream.close(http2.constants.NGHTTP2_CANCEL);
  }, receiveMs);
  timer.unref();
  stream.once('close', () => clearTimeout(timer));
}

/** HTTP/1.1: closes the connection of a request whose body has not arrived whole within `receiveMs`. */
export function closeUnlessReceived(req: http.IncomingMessage, receiveMs: number): void {
  if (req.complete) return;
  const timer = setTimeout(() => {
    if (!req.complete) req.socket.destroy();
  }, receiveMs);
  timer.unref();
  req.once('close', () => clearTimeout(timer));
}

/**
 * Reads until the first bytes either match the HTTP/2 preface or cannot, then hands the
 * socket, with those bytes put back, to the server for that protocol.
 */
export function routeByPreface(socket: net.Socket, h1: http.Server, h2: http2.Http2Server, timeoutMs: number): void {
  let received = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const giveUp = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    received = Buffer.concat([received, chunk]);
    const compared = Math.min(received.length, H2_PREFACE.length);
    const isH2 = received.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared));
    if (isH2 && received.length < H2_PREFACE.length) return; // `P` could still be `POST`
    clearTimeout(timer);
    socket.off('data', onData).off('error', giveUp).off('end', giveUp);
    socket.pause();
    socket.unshift(received);
    if (isH2) {
      h2.emit('connection', socket); // the http2 session reads the put-back bytes first
    } else {
      h1.emit('connection', socket);
      socket.resume(); // the http parser waits for 'data' and would not see the put-back bytes
    }
  };
  socket.on('data', onData).on('error', giveUp).on('end', giveUp);
}
