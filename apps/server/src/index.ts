/** The Tally server as a library: what main.ts, tools and the end-to-end suites start. */
export { prepareDatabase, moduleSchemas } from './database-setup.js';
export { startServer, MAX_MESSAGE_BYTES } from './server.js';
export type { RunningServer } from './server.js';
export { grpcServiceDefinition } from './transport/index.js';
