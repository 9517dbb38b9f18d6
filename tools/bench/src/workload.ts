import { ExchangeService, LedgerService, TransactionType } from '@tally/contracts';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { GrpcConnections } from './grpc-clients.js';

/**
 * What the bench asks Tally to do: which requests, to which ledgers, for how much. Amounts are
 * minor units (USD cents). Every transaction id is `bench-<run id>-<phase>-<n>`, so that no two
 * runs (or phases) collide and each phase's operations can be counted apart in PostgreSQL.
 */

/** Currencies of every bench ledger. */
export const LEDGER_CURRENCIES = ['USD', 'EUR', 'JPY'] as const;
/** A credit of 1 cent to USD 100. */
export const MAX_CREDIT_MINOR = 10_000;
/**
 * Debits are log-uniform from 1 cent to USD 10 million: most fit the balance, some overdraw and
 * end FAILED INSUFFICIENT_FUNDS, however much earlier runs left on the ledger.
 */
export const MAX_DEBIT_DIGITS = 9;
/** `--mixed` single submits: the rest of the draws are credits. */
export const MIXED_DEBIT_SHARE = 0.25;
export const MIXED_TRANSFER_SHARE = 0.1;
export const MIXED_EXCHANGE_SHARE = 0.05;

export function phasePrefix(runId: string, phase: string): string {
  return `bench-${runId}-${phase}-`;
}

/** A run id: time-ordered, short, and made only of characters a transaction id may hold. */
export function newRunId(nowMs = Date.now(), random = Math.random): string {
  return `${nowMs.toString(36)}${Math.floor(random() * 36 ** 4).toString(36).padStart(4, '0')}`;
}

export function randomIndex(length: number): number {
  return Math.floor(Math.random() * length);
}

export function creditAmount(): bigint {
  return BigInt(1 + randomIndex(MAX_CREDIT_MINOR));
}

export function debitAmount(): bigint {
  return BigInt(Math.max(1, Math.floor(10 ** (Math.random() * MAX_DEBIT_DIGITS))));
}

type TransactionInit = MessageInitShape<typeof LedgerService.method.submitTransaction.input>;

export function credit(ledgerId: string, transactionId: string, amount = creditAmount()): TransactionInit {
  return { ledgerId, transactionId, type: TransactionType.CREDIT, amount, currency: 'USD' };
}

export type SubmitKind = 'credit' | 'debit' | 'transfer' | 'exchange';

/** One draw of the `--mixed` mix from a number in [0, 1). */
export function mixedKind(draw: number): SubmitKind {
  if (draw < MIXED_EXCHANGE_SHARE) return 'exchange';
  if (draw < MIXED_EXCHANGE_SHARE + MIXED_TRANSFER_SHARE) return 'transfer';
  if (draw < MIXED_EXCHANGE_SHARE + MIXED_TRANSFER_SHARE + MIXED_DEBIT_SHARE) return 'debit';
  return 'credit';
}

/** A USD transaction for a batch: a credit, or with `mixed` sometimes a debit. */
export function batchTransaction(ledgerIds: readonly string[], transactionId: string, mixed: boolean): TransactionInit {
  const ledgerId = ledgerIds[randomIndex(ledgerIds.length)]!;
  const debit = mixed && Math.random() < MIXED_DEBIT_SHARE / (1 - MIXED_TRANSFER_SHARE - MIXED_EXCHANGE_SHARE);
  return debit ? { ledgerId, transactionId, type: TransactionType.DEBIT, amount: debitAmount(), currency: 'USD' } : credit(ledgerId, transactionId);
}

/** One single submit of the closed loops: a credit, or with `mixed` any kind of the mix. */
export async function submitOne(grpc: GrpcConnections, ledgerIds: readonly string[], transactionId: string, mixed: boolean): Promise<void> {
  const from = randomIndex(ledgerIds.length);
  const ledgerId = ledgerIds[from]!;
  switch (mixed ? mixedKind(Math.random()) : 'credit') {
    case 'credit':
      await grpc.unary(LedgerService.method.submitTransaction, credit(ledgerId, transactionId));
      return;
    case 'debit':
      await grpc.unary(LedgerService.method.submitTransaction, { ledgerId, transactionId, type: TransactionType.DEBIT, amount: debitAmount(), currency: 'USD' });
      return;
    case 'transfer': {
      // Any other ledger: shift the source by 1 to n-1 places.
      const toLedgerId = ledgerIds[(from + 1 + randomIndex(ledgerIds.length - 1)) % ledgerIds.length]!;
      await grpc.unary(LedgerService.method.submitTransfer, { fromLedgerId: ledgerId, toLedgerId, transactionId, currency: 'USD', amount: creditAmount() });
      return;
    }
    case 'exchange':
      // No quote: converted at the rate when it is applied.
      await grpc.unary(ExchangeService.method.submitExchange, { ledgerId, transactionId, fromCurrency: 'USD', toCurrency: 'EUR', amount: creditAmount() });
      return;
  }
}
