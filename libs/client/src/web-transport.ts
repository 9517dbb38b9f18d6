import type { Interceptor, Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-web';
import { networkFailuresAsUnavailable } from './network-failures.js';

/**
 * Connect or gRPC-Web over fetch(): browsers and Node 20 alike, HTTP/1.1 or whatever the
 * platform's fetch negotiates. Tally serves both on its HTTP port.
 */
export function createWebTransport(protocol: 'connect' | 'grpc-web', baseUrl: string, interceptors: Interceptor[]): Transport {
  // Innermost, so that it sees fetch()'s own failures before anything else does.
  const all = [...interceptors, networkFailuresAsUnavailable];
  return protocol === 'connect' ? createConnectTransport({ baseUrl, interceptors: all }) : createGrpcWebTransport({ baseUrl, interceptors: all });
}
