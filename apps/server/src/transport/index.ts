/**
 * The transport layer: serves the app's Connect handler objects over native gRPC (grpc-js,
 * with reflection and grpc.health.v1) and over HTTP (Connect, gRPC-Web, gRPC; HTTP/1.1 and
 * h2c), enforcing each RPC's processing pattern and mapping errors the same way on both.
 */
export { bindService, DEFAULT_SHUTDOWN_GRACE_MS } from './binding.js';
export type { ListeningServer, ServiceBinding } from './binding.js';
export { checkProcessingPatterns } from './processing-patterns.js';
export { ERROR_DOMAIN, toConnectError, toStatus } from './errors.js';
export { startGrpcServer } from './grpc-server.js';
export type { GrpcServerOptions } from './grpc-server.js';
export { grpcServiceDefinition } from './grpc-definitions.js';
export { startHttpServer } from './http-server.js';
export type { HttpServerOptions } from './http-server.js';
export { HealthMonitor, DEFAULT_PROBE_INTERVAL_MS, DEFAULT_PROBE_TIMEOUT_MS } from './health.js';
export type { HealthMonitorOptions, Probe, ProbeResult, ReadinessSnapshot } from './health.js';
