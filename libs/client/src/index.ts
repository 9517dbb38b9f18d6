/**
 * @tally/client for Node: Connect, gRPC-Web and native gRPC (HTTP/2). Browsers get
 * browser.ts instead (package.json's `browser` export condition), which has no gRPC.
 */
import { createNodeGrpcTransport } from './grpc-transport.js';
import { buildTallyClient, type TallyClient, type TallyClientOptions } from './tally-client.js';

export * from './exports.js';

/** A client of one Tally: `transport` 'connect' (default), 'grpc-web' or 'grpc'. */
export function createTallyClient(options: TallyClientOptions): TallyClient {
  return buildTallyClient(options, createNodeGrpcTransport);
}
