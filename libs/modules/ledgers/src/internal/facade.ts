import type { ChannelHub, Database, Logger, PageRequest, Redis } from '@tally/platform';
import { auditBooks, ledgerEntryCounts, unsettledTransit, type BooksFindings } from './audit.js';
import { createLedger } from './create-ledger.js';
import { disableCurrency } from './disable-currency.js';
import { enableCurrency } from './enable-currency.js';
import { LedgerDirectory } from './ledger-directory.js';
import { requireCurrencies } from './ledger-store.js';
import { createBalanceReader, getLedger, listEntries, listLedgers, type ListEntriesInput } from './read-ledgers.js';
import { applyTransactions, bookPostings, type ApplyContext, type ApplyResult, type Booking, type OperationToApply } from './apply-transactions.js';
import { prepareTransactions, type Prepared, type TransactionInput } from './submit-transaction.js';
import { prepareTransfer, type PreparedTransfer, type TransferInput } from './submit-transfer.js';
import type { Balance, Entry, Ledger, Page } from './types.js';
import { validateLedgerId, type CreateLedgerInput } from './validation.js';

export interface LedgersFacade {
  createLedger(input: CreateLedgerInput): Promise<Ledger>;
  getLedger(ledgerId: string): Promise<Ledger>;
  /** Throws INVALID_ARGUMENT for a malformed id, NOT_FOUND for an unknown ledger; cheap (the directory caches it). */
  requireLedger(ledgerId: string): Promise<void>;
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

export interface LedgersDeps {
  readonly db: Database;
  readonly logger: Logger;
  /**
   * An API process's subscriptions and a connection to publish on: what a submit checks of a
   * ledger is then cached, and changes are told to the other processes (see LedgerDirectory).
   */
  readonly invalidation?: { readonly channels: ChannelHub; readonly publisher: Redis };
}

/** Every call gets its own unit of work. */
export function createLedgersFacade(deps: LedgersDeps): LedgersFacade {
  const { db } = deps;
  const directory = new LedgerDirectory({ sql: db.sql, logger: deps.logger, ...(deps.invalidation && { invalidation: deps.invalidation }) });
  const getBalances = createBalanceReader(db.sql);
  /** A change of the ledger's currencies, committed: what submits check must be read again. */
  const changed = async (ledger: Promise<Ledger>): Promise<Ledger> => {
    const after = await ledger;
    directory.changed(after.id);
    return after;
  };
  return {
    createLedger: (input) => createLedger(db.sql, input),
    getLedger: (ledgerId) => getLedger(db.em(), ledgerId),
    requireLedger: async (ledgerId) => requireCurrencies(directory, [validateLedgerId(ledgerId)], []),
    listLedgers: (page) => listLedgers(db.em(), page),
    enableCurrency: (ledgerId, currency) => changed(enableCurrency(db.em(), ledgerId, currency)),
    disableCurrency: (ledgerId, currency) => changed(disableCurrency(db.em(), ledgerId, currency)),
    getBalances,
    listEntries: (input) => listEntries(db.em(), input),
    prepareTransactions: (inputs, fieldPrefix) => prepareTransactions(directory, inputs, fieldPrefix),
    prepareTransfer: (input) => prepareTransfer(directory, input),
    applyTransactions,
    book: bookPostings,
    auditBooks: () => auditBooks(db.em()),
    ledgerEntryCounts: (ids) => ledgerEntryCounts(db.sql, ids),
    unsettledTransit: (ids) => unsettledTransit(db.sql, ids),
    requireCurrencies: (ledgerId, codes) => requireCurrencies(directory, [ledgerId], codes),
  };
}
