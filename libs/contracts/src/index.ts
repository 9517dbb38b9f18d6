/**
 * The wire contracts of Tally, generated from proto/ by `npm run gen` (protobuf-es v2).
 * Never edit src/gen by hand; CI fails when it is stale.
 */
export * from './gen/tally/v1/options_pb.js';
export * from './gen/tally/v1/operation_pb.js';
export * from './gen/tally/v1/ledger_pb.js';
export * from './gen/tally/v1/exchange_pb.js';
export * from './gen/google/rpc/status_pb.js';
export * from './gen/google/rpc/error_details_pb.js';
export * from './gen/grpc/health/v1/health_pb.js';
