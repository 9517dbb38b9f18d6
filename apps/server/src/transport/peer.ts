import { createContextKey, createContextValues, type ContextValues, type HandlerContext } from '@connectrpc/connect';

/**
 * The network address a call came from, as each transport saw its connection (no header can
 * set it). Calls without an API key are counted against it (rate limits with TALLY_AUTH=off).
 */
const PEER_ADDRESS = createContextKey<string>('unknown', { description: 'the address of the connection a call came in on' });

export function peerContextValues(address: string | undefined): ContextValues {
  return createContextValues().set(PEER_ADDRESS, normalizeAddress(address));
}

export function peerAddressOf(context: Pick<HandlerContext, 'values'>): string {
  return context.values.get(PEER_ADDRESS);
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one client; grpc-js peers carry a port (`ipv4:1.2.3.4:5678`, `ipv6:[::1]:5678`). */
function normalizeAddress(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  const grpcPeer = /^ipv[46]:\[?([^\]]+?)\]?:\d+$/.exec(address);
  const host = grpcPeer?.[1] ?? address;
  return host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
}
