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

/**
 * The host alone: grpc-js peers carry a port (`127.0.0.1:5678`, `[::1]:5678`, or with an
 * `ipv4:`/`ipv6:` prefix), Node's sockets do not (`::1`); `::ffff:127.0.0.1` is `127.0.0.1`.
 */
export function normalizeAddress(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  const bare = address.replace(/^ipv[46]:/, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(bare);
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(bare);
  const host = bracketed?.[1] ?? v4WithPort?.[1] ?? bare;
  return host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
}
