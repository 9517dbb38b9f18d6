/**
 * What one client may hold or send on either port, and for how long: the limits that keep a
 * slow, silent or hostile client from holding the server's connections, memory or handlers.
 * docs/security.md lists them; the largest message is the server's `MAX_MESSAGE_BYTES`, passed
 * to both servers as `maxMessageBytes`.
 */

/**
 * A client that has not finished its TLS handshake by then is disconnected; in cleartext, one
 * that has not sent the first bytes that pick its protocol (the HTTP port reads them to choose
 * between HTTP/1.1 and HTTP/2; on the gRPC port a silent connection is an idle one).
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * A connection with no request in progress is closed after this (HTTP/1.1 keep-alive, HTTP/2
 * GOAWAY on both ports). Longer than the common 60 s idle timeout of load balancers, so they
 * close first; a connection holding a watch, however quiet, is not idle.
 */
export const IDLE_CONNECTION_TIMEOUT_MS = 65_000;

/** HTTP/1.1: time to receive a request's headers. */
export const HEADERS_TIMEOUT_MS = 10_000;

/**
 * Time to receive a whole request (headers and body) on either port, HTTP/1.1 and HTTP/2
 * alike: a client that opens a request and dribbles its body, or never ends it, loses it. Every
 * Tally RPC takes one request message (unary or server streaming), so a request that is still
 * arriving after this is not a slow network but a held slot. Watches are not concerned: their
 * request ends at once, and only their answer lasts.
 */
export const REQUEST_RECEIVE_TIMEOUT_MS = 30_000;

/**
 * Largest header block (all headers, or all gRPC metadata, of one request), on both ports:
 * larger ones are refused (RESOURCE_EXHAUSTED; HTTP 431 on HTTP/1.1). The gRPC port checks it
 * per call, grpc-js having no setting for it; Node's HTTP/2 already drops blocks of several
 * times that before they reach a call.
 */
export const MAX_HEADER_BYTES = 16 * 1024;

/** Connections the HTTP port holds at once; the gRPC port relies on the OS's file limit. */
export const MAX_CONNECTIONS = 10_000;

/**
 * Concurrent streams on one HTTP/2 connection (both ports): a client multiplexing thousands
 * of watches stays within it. A stream reset by its client no longer counts, which is what a
 * rapid reset (CVE-2023-44487) plays on; two things answer it. Node's HTTP/2 (nghttp2) sends
 * GOAWAY to a connection that keeps resetting streams (measured: after about 1,750 resets), and
 * both servers start a call's handler only after the frames that came with its request have
 * been read, so a stream reset as it arrives costs no handler work (afterResets in
 * grpc-server.ts, `gone` in http-server.ts).
 */
export const MAX_STREAMS_PER_CONNECTION = 10_000;

/**
 * TCP keep-alive on the HTTP port and HTTP/2 pings on the gRPC port find peers that vanished
 * without closing (a killed VM), and free the watches they held.
 */
export const KEEPALIVE_INTERVAL_MS = 60_000;
export const KEEPALIVE_PING_TIMEOUT_MS = 20_000;
