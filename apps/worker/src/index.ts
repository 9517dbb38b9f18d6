/**
 * The worker: consumes the partition queues in Redis and applies operations in per-ledger
 * order. It arrives with asynchronous processing (issue #3); until then there is nothing to
 * consume, and the server runs no worker.
 */
export const WORKER_AVAILABLE = false;
