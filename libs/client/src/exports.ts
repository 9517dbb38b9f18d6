/**
 * What both entries (index.ts for Node, browser.ts for browsers) export besides
 * createTallyClient, which each builds with the transports its platform has.
 */
export { buildTallyClient, createTallyClientWithTransport, TRANSPORT_KINDS } from './tally-client.js';
export type { GrpcTransportFactory, TallyClient, TallyClientOptions, TransportKind } from './tally-client.js';
export type { CallHeaders, HeaderValues } from './call-headers.js';
export { CALL_TIMEOUT_MS, DEFAULT_SUBMIT_AND_WAIT_TIMEOUT_MS, WATCH_SPAN_MS } from './submit-and-wait.js';
export type { SubmitAndWaitOptions, TallyServices } from './submit-and-wait.js';
export { isTerminal } from './submission.js';
export type { ExchangeSubmission, Submission, TransactionSubmission, TransferSubmission } from './submission.js';
export { backoffDelayMs, DEFAULT_RETRY_LIMITS, isTransient } from './retry-policy.js';
export type { RetryLimits } from './retry-policy.js';
export { CLIENT_ERROR_DOMAIN, REQUEST_ID_HEADER, TallyError, toTallyError } from './tally-error.js';
export type { FieldViolation, TallyErrorFacts } from './tally-error.js';
export { TIMEOUT_MAX_MS } from './deadline.js';
export { Code, ConnectError } from '@connectrpc/connect';
// The generated messages, enums and services (TransactionType, OperationStatus, Operation, ...).
export * from '@tally/contracts';
