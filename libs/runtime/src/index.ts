/**
 * Wiring, and nothing else: the composition both apps share. Which modules own tables (and so
 * the migrations to run), which module's facade plugs into which port (the operations module is
 * every async use case's intake), and which module applies each kind of operation. Apps choose
 * what to run (TALLY_ROLE); this says how the pieces fit.
 */
export { moduleSchemas, prepareDatabase } from './database.js';
export { openInfrastructure } from './infrastructure.js';
export type { Infrastructure } from './infrastructure.js';
export { appliersFor, preparersFor, startWorker } from './worker.js';
