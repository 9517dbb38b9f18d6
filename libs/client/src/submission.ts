import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import {
  OperationStatus,
  type SubmitExchangeRequestSchema,
  type SubmitTransactionRequestSchema,
  type SubmitTransferRequestSchema,
} from '@tally/contracts';
import { clientError } from './tally-error.js';

type Request<Schema extends DescMessage> = Omit<MessageInitShape<Schema>, '$typeName'>;

/** A credit or debit (SubmitTransaction); transactionId is made when not given. */
export type TransactionSubmission = Request<typeof SubmitTransactionRequestSchema>;
/** A move between two ledgers (SubmitTransfer); transactionId is made when not given. */
export type TransferSubmission = Request<typeof SubmitTransferRequestSchema>;
/** A conversion within one ledger (SubmitExchange); transactionId is made when not given. */
export type ExchangeSubmission = Request<typeof SubmitExchangeRequestSchema>;

/** What submitAndWait moves: exactly one of a transaction, a transfer or an exchange. */
export type Submission =
  | { readonly transaction: TransactionSubmission; readonly transfer?: never; readonly exchange?: never }
  | { readonly transfer: TransferSubmission; readonly transaction?: never; readonly exchange?: never }
  | { readonly exchange: ExchangeSubmission; readonly transaction?: never; readonly transfer?: never };

/** A submission with its transaction id fixed: the request sent, identically, on every try. */
export type PreparedSubmission =
  | { readonly kind: 'transaction'; readonly transactionId: string; readonly request: TransactionSubmission }
  | { readonly kind: 'transfer'; readonly transactionId: string; readonly request: TransferSubmission }
  | { readonly kind: 'exchange'; readonly transactionId: string; readonly request: ExchangeSubmission };

const KINDS = ['transaction', 'transfer', 'exchange'] as const;

/**
 * Checks that exactly one kind is given and fixes the transaction id (the caller's, else
 * `newTransactionId()`): the same id on every try is what makes retrying the submit safe.
 */
export function prepareSubmission(submission: Submission, newTransactionId: () => string): PreparedSubmission {
  const given = KINDS.filter((kind) => submission[kind] !== undefined);
  if (given.length !== 1) {
    throw clientError(
      `submitAndWait takes exactly one of transaction, transfer or exchange; got ${given.length ? given.join(' and ') : 'none'}`,
      Code.InvalidArgument,
      'SUBMISSION_INVALID',
    );
  }
  const kind = given[0]!;
  const request = submission[kind]!;
  const transactionId = request.transactionId || newTransactionId();
  return { kind, transactionId, request: { ...request, transactionId } } as PreparedSubmission;
}

const TERMINAL_STATUSES: ReadonlySet<OperationStatus> = new Set([
  OperationStatus.COMPLETED,
  OperationStatus.FAILED,
  OperationStatus.CANCELLED,
]);

/** COMPLETED, FAILED and CANCELLED are final: an operation never leaves them. */
export function isTerminal(status: OperationStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}
