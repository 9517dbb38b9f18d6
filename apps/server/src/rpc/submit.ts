import { create } from '@bufbuild/protobuf';
import {
  SubmitTransactionResponseSchema,
  SubmitTransferResponseSchema,
  SubmitTransactionsResponseSchema,
  SubmitTransactionsResultSchema,
  TransactionType,
  type SubmitTransactionRequest,
  type SubmitTransactionResponse,
  type SubmitTransactionsRequest,
  type SubmitTransactionsResponse,
  type SubmitTransferRequest,
  type SubmitTransferResponse,
} from '@tally/contracts';
import type { LedgersFacade, TransactionInput } from '@tally/ledgers';
import type { Operation } from '@tally/operations';
import type { Logger, TenantScope } from '@tally/platform';
import { toConnectError, toStatus } from '../transport/index.js';
import { operationToProto } from './mapping.js';

/**
 * SubmitTransaction, SubmitTransactions and SubmitTransfer: protobuf in, the ledgers module's
 * use cases (libs/modules/ledgers/src/submit-*), protobuf out.
 */

function toInput(req: SubmitTransactionRequest): TransactionInput {
  return {
    ledgerId: req.ledgerId,
    transactionId: req.transactionId,
    type: req.type === TransactionType.CREDIT ? 'CREDIT' : req.type === TransactionType.DEBIT ? 'DEBIT' : undefined,
    amount: req.amount,
    currency: req.currency,
    metadata: req.metadata,
  };
}

export async function submitTransaction(
  ledgers: LedgersFacade<Operation>,
  req: SubmitTransactionRequest,
  scope: TenantScope,
): Promise<SubmitTransactionResponse> {
  const [admission] = await ledgers.submitTransactions([toInput(req)], scope);
  if (!admission!.ok) throw admission!.error;
  return create(SubmitTransactionResponseSchema, { operation: operationToProto(admission!.operation) });
}

export async function submitTransactions(
  ledgers: LedgersFacade<Operation>,
  req: SubmitTransactionsRequest,
  scope: TenantScope,
  logger: Logger,
): Promise<SubmitTransactionsResponse> {
  const admissions = await ledgers.submitTransactions(req.transactions.map(toInput), scope, (i) => `transactions[${i}].`);
  return create(SubmitTransactionsResponseSchema, {
    results: admissions.map((admission, index) =>
      create(SubmitTransactionsResultSchema, {
        index,
        outcome: admission.ok
          ? { case: 'operation', value: operationToProto(admission.operation) }
          : { case: 'error', value: toStatus(toConnectError(admission.error, logger, 'tally.v1.LedgerService/SubmitTransactions')) },
      }),
    ),
  });
}

export async function submitTransfer(ledgers: LedgersFacade<Operation>, req: SubmitTransferRequest, scope: TenantScope): Promise<SubmitTransferResponse> {
  const operation = await ledgers.submitTransfer(
    {
      fromLedgerId: req.fromLedgerId,
      toLedgerId: req.toLedgerId,
      transactionId: req.transactionId,
      currency: req.currency,
      amount: req.amount,
      metadata: req.metadata,
    },
    scope,
  );
  return create(SubmitTransferResponseSchema, { operation: operationToProto(operation) });
}
