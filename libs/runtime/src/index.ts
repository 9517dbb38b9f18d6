/**
 * The composition both apps share: the modules that own tables (and so the migrations to run)
 * and the worker's wiring. Apps choose what to run (TALLY_ROLE); this says how the pieces fit.
 */
export { moduleSchemas, prepareDatabase } from './database.js';
export { openInfrastructure } from './infrastructure.js';
export type { Infrastructure } from './infrastructure.js';
export { appliersFor, preparersFor, startWorker } from './worker.js';
export { audit, isClean } from './audit.js';
export type { AuditReport } from './audit.js';
