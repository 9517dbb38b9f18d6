/**
 * The worker as a process of its own: applies operations from the partition queues, without
 * serving the API. `npm run worker` (or TALLY_ROLE=worker with `npm start`) runs it; start as
 * many as load needs: they share the partitions between them.
 */
export { startWorker } from '@tally/runtime';
