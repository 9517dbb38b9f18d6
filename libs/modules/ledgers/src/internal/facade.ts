import type { Database, PageRequest } from '@tally/platform';
import { auditBooks, ledgerEntryCounts, unsettledTransit, type BooksFindings } from './audit.js';
import { createLedger } from './create-ledger.js';
import { disableCurrency } from './disable-currency.js';
import { enableCurrency } from './enable-currency.js';
import { requireCurrencies } from './ledger-store.js';
import { getBalances, getLedger, listEntries, listLedgers, type ListEntriesInput } from './read-ledgers.js';
import { applyTransactions, bookPostings, type ApplyContext, type ApplyResult, type Booking, type OperationToApply } from './apply-transactions.js';
import { prepareTransactions, type Prepared, type TransactionInput } from './submit-transaction.js';
import { prepareTransfer, type PreparedTransfer, type TransferInput } from './submit-transfer.js';
import type { Balance, Entry, Ledger, Page } from './types.js';
import type { CreateLedgerInput } from './validation.js';

export interface LedgersFacade {
  createLedger(input: CreateLedgerInput): Promise<Ledger>;
  getLedger(ledgerId: string): Promise<Ledger>;
  listLedgers(page: PageRequest): Promise<Page<Ledger>>;
  enableCurrency(ledgerId: string, currency: string): Promise<Ledger>;
  /** Stops new bookings in a currency on a ledger (money returning to it aside); its balance stays listed. */
  disableCurrency(ledgerId: string, currency: string): Promise<Ledger>;
  getBalances(ledgerId: string): Promise<Balance[]>;
  listEntries(input: ListEntriesInput): Promise<Page<Entry>>;
  /**
   * Checks credits and debits before they are accepted: fields, ledger, currency enabled.
   * One outcome per input; `fieldPrefix` names batch items in violations.
   */
  prepareTransactions(inputs: readonly TransactionInput[], fieldPrefix?: (index: number) => string): Promise<Prepared[]>;
  /** Checks a transfer before it is accepted; throws TallyError (INVALID_ARGUMENT with one violation per bad field, NOT_FOUND for a missing ledger, FAILED_PRECONDITION CURRENCY_NOT_ENABLED when the currency is not enabled on the source or the target). */
  prepareTransfer(input: TransferInput): Promise<PreparedTransfer>;
  /** Applies accepted credits and debits, in order, inside the worker's transaction; one result each. */
  applyTransactions(context: ApplyContext, operations: readonly OperationToApply[]): Promise<ApplyResult[]>;
  /**
   * Books what other modules decided (an exchange's two legs against the FX accounts): each
   * booking's legs together or not at all, inside the worker's transaction.
   */
  book(context: ApplyContext, bookings: readonly Booking[]): Promise<ApplyResult[]>;
  /** The books' invariants on one snapshot (for `npm run audit`). */
  auditBooks(): Promise<BooksFindings>;
  /** How many ledger-side entries each operation wrote (for `npm run audit`). */
  ledgerEntryCounts(operationIds: readonly string[]): Promise<Map<string, number>>;
  /** Of these operation ids, those whose entries on TRANSIT system accounts do not sum to zero in some currency (money left in transit), for the audit. */
  unsettledTransit(operationIds: readonly string[]): Promise<string[]>;
  /** Checks, before an exchange is accepted, that the ledger exists and has both currencies enabled. */
  requireCurrencies(ledgerId: string, currencies: readonly string[]): Promise<void>;
}

/** Every call gets its own unit of work. */
export function createLedgersFacade(db: Database): LedgersFacade {
  return {
    createLedger: (input) => createLedger(db.em(), input),
    getLedger: (ledgerId) => getLedger(db.em(), ledgerId),
    listLedgers: (page) => listLedgers(db.em(), page),
    enableCurrency: (ledgerId, currency) => enableCurrency(db.em(), ledgerId, currency),
    disableCurrency: (ledgerId, currency) => disableCurrency(db.em(), ledgerId, currency),
    getBalances: (ledgerId) => getBalances(db.em(), ledgerId),
    listEntries: (input) => listEntries(db.em(), input),
    prepareTransactions: (inputs, fieldPrefix) => prepareTransactions(db.em(), inputs, fieldPrefix),
    prepareTransfer: (input) => prepareTransfer(db.em(), input),
    applyTransactions,
    book: bookPostings,
    auditBooks: () => auditBooks(db.em()),
    ledgerEntryCounts: (ids) => ledgerEntryCounts(db.em(), ids),
    unsettledTransit: (ids) => unsettledTransit(db.em(), ids),
    requireCurrencies: (ledgerId, codes) => requireCurrencies(db.em(), [ledgerId], codes),
  };
}
