/**
 * Ledgers: ledgers, their currencies and balances, and the immutable entries behind them; and
 * the async use cases that move money on them, each in its own folder with its sync half
 * (`check.ts`) and its worker half (`apply.ts`): submit-transaction, submit-transfer.
 * Owns the PostgreSQL schema `ledgers`.
 */
import type { ModuleSchema } from '@tally/platform';
import { ledgersEntities, ledgersMigrations } from './internal/schema.js';

export { createLedgersFacade } from './internal/facade.js';
export type { LedgersFacade, LedgersDeps } from './internal/facade.js';
export type { LedgersIntake, LedgersOperationKind } from './internal/intake.js';
export type { BooksFindings } from './internal/audit.js';
export type { Balance, Entry, Ledger, Page } from './internal/types.js';
export type { CreateLedgerInput } from './internal/validation.js';
export type { ListEntriesInput } from './internal/read-ledgers.js';
export type { Booking, BookingResult, Leg } from './internal/booking/decide.js';
export { MAX_CURRENCIES_PER_LEDGER } from './internal/validation.js';
export { MAX_TRANSACTIONS_PER_SUBMIT } from './submit-transaction/check.js';
export type { TransactionInput, TransactionType } from './submit-transaction/check.js';
export type { TransferInput } from './submit-transfer/check.js';

export const ledgersSchema: ModuleSchema = {
  name: 'ledgers',
  entities: ledgersEntities,
  migrations: ledgersMigrations,
};
