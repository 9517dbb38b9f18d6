/**
 * Ledgers: ledgers, their currencies and balances, and the immutable entries behind them.
 * Owns the PostgreSQL schema `ledgers`.
 */
import type { ModuleSchema } from '@tally/platform';
import { ledgersEntities, ledgersMigrations } from './internal/schema.js';

export { createLedgersFacade } from './internal/facade.js';
export type { LedgersFacade, LedgersDeps } from './internal/facade.js';
export type { BooksFindings } from './internal/audit.js';
export type { Balance, Entry, Ledger, Page } from './internal/types.js';
export type { CreateLedgerInput } from './internal/validation.js';
export type { ListEntriesInput } from './internal/read-ledgers.js';
export { MAX_CURRENCIES_PER_LEDGER } from './internal/validation.js';
export type { TransactionInput, TransactionRequest, TransactionType, Prepared, PreparedTransaction } from './internal/submit-transaction.js';
export type { TransferInput, TransferRequest, PreparedTransfer } from './internal/submit-transfer.js';
export { parseTransferRequest } from './internal/submit-transfer.js';
export type { ApplyContext, ApplyResult, Booking, Leg, OperationToApply, BalanceChangeMade } from './internal/apply-transactions.js';

export const ledgersSchema: ModuleSchema = {
  name: 'ledgers',
  entities: ledgersEntities,
  migrations: ledgersMigrations,
};
