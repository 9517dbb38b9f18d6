/**
 * @tally/client for browsers: Connect and gRPC-Web over fetch(). Nothing here reaches
 * node:http2; transport 'grpc' is refused with a TallyError saying so (TRANSPORT_UNSUPPORTED).
 */
import { buildTallyClient, type TallyClient, type TallyClientOptions } from './tally-client.js';

export * from './exports.js';

/** A client of one Tally: `transport` 'connect' (default) or 'grpc-web'. */
export function createTallyClient(options: TallyClientOptions): TallyClient {
  return buildTallyClient(options, undefined);
}
