import type { Interceptor, Transport } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';

/**
 * Native gRPC over HTTP/2 (node:http2, so Node only): Tally's gRPC port, or its HTTP port,
 * which speaks gRPC over cleartext HTTP/2 too. Connect-node reports network failures as
 * UNAVAILABLE itself, and opens a new HTTP/2 session when the old one is gone.
 */
export function createNodeGrpcTransport(baseUrl: string, interceptors: Interceptor[]): Transport {
  return createGrpcTransport({ baseUrl, interceptors });
}
