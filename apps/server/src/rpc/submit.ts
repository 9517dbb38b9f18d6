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
import { MAX_ACCEPT_BATCH, type AcceptOutcome, type OperationsFacade, type OperationSpec } from '@tally/operations';
import { invalidArgument, type Logger, type TallyError } from '@tally/platform';
import { toConnectError, toStatus } from '../transport/index.js';
import { operationToProto } from './mapping.js';

/**
 * SubmitTransaction, SubmitTransactions and SubmitTransfer: the ledgers module checks each
 * request, the operations module records and queues what passed. The same path serves one
 * transaction or a batch.
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

/** One outcome per request, in order: the accepted operation or the error refusing it. */
async function submit(
  ledgers: LedgersFacade,
  operations: OperationsFacade,
  requests: readonly SubmitTransactionRequest[],
  fieldPrefix: (index: number) => string,
): Promise<AcceptOutcome[]> {
  const prepared = await ledgers.prepareTransactions(requests.map(toInput), fieldPrefix);
  const specs: OperationSpec[] = prepared.flatMap((p) =>
    p.ok ? [{ kind: 'TRANSACTION' as const, ledgerId: p.prepared.ledgerId, transactionId: p.prepared.transactionId, request: { ...p.prepared.request } }] : [],
  );
  const accepted = await operations.accept(specs);
  let next = 0;
  return prepared.map((p): AcceptOutcome => (p.ok ? accepted[next++]! : p));
}

export async function submitTransaction(
  ledgers: LedgersFacade,
  operations: OperationsFacade,
  req: SubmitTransactionRequest,
): Promise<SubmitTransactionResponse> {
  const [outcome] = await submit(ledgers, operations, [req], () => '');
  if (!outcome!.ok) throw outcome!.error;
  return create(SubmitTransactionResponseSchema, { operation: operationToProto(outcome!.operation) });
}

export async function submitTransactions(
  ledgers: LedgersFacade,
  operations: OperationsFacade,
  req: SubmitTransactionsRequest,
  logger: Logger,
): Promise<SubmitTransactionsResponse> {
  const count = req.transactions.length;
  if (count === 0 || count > MAX_ACCEPT_BATCH) {
    throw invalidArgument([{ field: 'transactions', description: `must hold 1 to ${MAX_ACCEPT_BATCH} transactions (got ${count})` }]);
  }
  const outcomes = await submit(ledgers, operations, req.transactions, (i) => `transactions[${i}].`);
  return create(SubmitTransactionsResponseSchema, {
    results: outcomes.map((outcome, index) =>
      create(SubmitTransactionsResultSchema, {
        index,
        outcome: outcome.ok
          ? { case: 'operation', value: operationToProto(outcome.operation) }
          : { case: 'error', value: toStatus(toConnectError(outcome.error satisfies TallyError, logger, 'tally.v1.LedgerService/SubmitTransactions')) },
      }),
    ),
  });
}

/** A transfer is recorded on its source ledger (its transaction id is unique there) and listed on both. */
export async function submitTransfer(
  ledgers: LedgersFacade,
  operations: OperationsFacade,
  req: SubmitTransferRequest,
): Promise<SubmitTransferResponse> {
  const prepared = await ledgers.prepareTransfer({
    fromLedgerId: req.fromLedgerId,
    toLedgerId: req.toLedgerId,
    transactionId: req.transactionId,
    currency: req.currency,
    amount: req.amount,
    metadata: req.metadata,
  });
  const [outcome] = await operations.accept([
    {
      kind: 'TRANSFER',
      ledgerId: prepared.fromLedgerId,
      toLedgerId: prepared.toLedgerId,
      transactionId: prepared.transactionId,
      request: { ...prepared.request },
    },
  ]);
  if (!outcome!.ok) throw outcome!.error;
  return create(SubmitTransferResponseSchema, { operation: operationToProto(outcome!.operation) });
}
