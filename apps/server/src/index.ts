/** The Tally server as a library: what main.ts, tools and the end-to-end suites start. */
export { startServer, MAX_MESSAGE_BYTES } from './server.js';
export type { RunningServer, ServerOptions } from './server.js';
export { grpcServiceDefinition } from './transport/index.js';
export { audit, isClean } from './books-audit.js';
export type { AuditReport } from './books-audit.js';
