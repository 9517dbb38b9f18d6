import type { Admission, Applier, ApplyContext, ChannelHub, Database, Logger, PageRequest, PageTokens, Redis, TenantScope } from '@tally/platform';
import { applyTransactions } from '../submit-transaction/apply.js';
import { submitTransactions, type TransactionInput } from '../submit-transaction/check.js';
import { applyTransfers } from '../submit-transfer/apply.js';
import { submitTransfer, type TransferInput } from '../submit-transfer/check.js';
import { auditBooks, ledgerEntryCounts, unsettledTransit, type BooksFindings } from './audit.js';
import { book } from './booking/book.js';
import type { Booking, BookingResult } from './booking/decide.js';
import { createLedger } from './create-ledger.js';
import { disableCurrency } from './disable-currency.js';
import { enableCurrency } from './enable-currency.js';
import type { LedgersIntake, LedgersOperationKind } from './intake.js';
import { LedgerDirectory } from './ledger-directory.js';
import { requireCurrencies } from './ledger-store.js';
import { createBalanceReader, getLedger, listEntries, listLedgers, type ListEntriesInput } from './read-ledgers.js';
import type { Balance, Entry, Ledger, Page } from './types.js';
import { validateLedgerCurrency, validateLedgerId, type CreateLedgerInput } from './validation.js';

/**
 * `Operation` is what the intake port answers for an accepted request; this module only passes it on.
 *
 * Every call that names a ledger takes the caller's TenantScope: a ledger of another tenant is
 * answered NOT_FOUND, exactly as one that does not exist, and lists show only the scope's own.
 */
export interface LedgersFacade<Operation = unknown> {
  /** The new ledger belongs to the scope's tenant. */
  createLedger(input: CreateLedgerInput, scope: TenantScope): Promise<Ledger>;
  getLedger(ledgerId: string, scope: TenantScope): Promise<Ledger>;
  /** Throws INVALID_ARGUMENT for a malformed id, NOT_FOUND for an unknown (or invisible) ledger; cheap (the directory caches it). */
  requireLedger(ledgerId: string, scope: TenantScope): Promise<void>;
  listLedgers(page: PageRequest, scope: TenantScope): Promise<Page<Ledger>>;
  enableCurrency(ledgerId: string, currency: string, scope: TenantScope): Promise<Ledger>;
  /** Stops new bookings in a currency on a ledger (money returning to it aside); its balance stays listed. */
  disableCurrency(ledgerId: string, currency: string, scope: TenantScope): Promise<Ledger>;
  getBalances(ledgerId: string, scope: TenantScope): Promise<Balance[]>;
  listEntries(input: ListEntriesInput, scope: TenantScope): Promise<Page<Entry>>;
  /**
   * SubmitTransaction(s): checks credits and debits (fields, ledger, currency enabled) and
   * records those that pass; one admission per input, in order. `fieldPrefix` names batch
   * items in refusals. Throws INVALID_ARGUMENT for an empty or oversized batch.
   */
  submitTransactions(inputs: readonly TransactionInput[], scope: TenantScope, fieldPrefix?: (index: number) => string): Promise<Array<Admission<Operation>>>;
  /** SubmitTransfer: checks and records a transfer; throws TallyError (INVALID_ARGUMENT with one violation per bad field, NOT_FOUND for a missing ledger, FAILED_PRECONDITION CURRENCY_NOT_ENABLED when the currency is not enabled on the source or the target, or the intake's refusal). */
  submitTransfer(input: TransferInput, scope: TenantScope): Promise<Operation>;
  /** The worker halves of this module's async use cases, by operation kind. */
  readonly appliers: Readonly<Record<LedgersOperationKind, Applier>>;
  /**
   * Books what other modules decided (an exchange's two legs against the FX accounts): each
   * booking's legs together or not at all, inside the worker's transaction.
   */
  book(context: ApplyContext, bookings: readonly Booking[]): Promise<BookingResult[]>;
  /** Checks, before another module's operation on a ledger is accepted, that the ledger exists and has these currencies enabled. */
  requireCurrencies(ledgerId: string, currencies: readonly string[], scope: TenantScope): Promise<void>;
  /** The books' invariants on one snapshot (for `npm run audit`). */
  auditBooks(): Promise<BooksFindings>;
  /** How many ledger-side entries each operation wrote (for `npm run audit`). */
  ledgerEntryCounts(operationIds: readonly string[]): Promise<Map<string, number>>;
  /** Of these operation ids, those whose entries on TRANSIT system accounts do not sum to zero in some currency (money left in transit), for the audit. */
  unsettledTransit(operationIds: readonly string[]): Promise<string[]>;
}

export interface LedgersDeps<Operation> {
  readonly db: Database;
  readonly logger: Logger;
  /** Where this module's async use cases are recorded (the operations module, plugged in by the wiring). */
  readonly intake: LedgersIntake<Operation>;
  /**
   * An API process's subscriptions and a connection to publish on: what a submit checks of a
   * ledger is then cached, and changes are told to the other processes (see LedgerDirectory).
   */
  readonly invalidation?: { readonly channels: ChannelHub; readonly publisher: Redis };
  /** Signs ListLedgers' and ListEntries' page tokens. */
  readonly pageTokens: PageTokens;
}

/** Every call gets its own unit of work. */
export function createLedgersFacade<Operation>(deps: LedgersDeps<Operation>): LedgersFacade<Operation> {
  const { db } = deps;
  const directory = new LedgerDirectory({ sql: db.sql, logger: deps.logger, ...(deps.invalidation && { invalidation: deps.invalidation }) });
  const getBalances = createBalanceReader(db.sql);
  /** A change of the ledger's currencies, committed: what submits check must be read again. */
  const changed = async (ledger: Promise<Ledger>): Promise<Ledger> => {
    const after = await ledger;
    directory.changed(after.id);
    return after;
  };
  /** NOT_FOUND unless the ledger exists and `scope` may see it. A ledger's tenant never changes: checked once, it holds. */
  const visible = (scope: TenantScope, ledgerId: string): Promise<void> =>
    requireCurrencies(directory, scope, [validateLedgerId(ledgerId)], []);
  const noPrefix = (): string => '';
  return {
    createLedger: (input, scope) => createLedger(db.sql, input, scope),
    getLedger: async (ledgerId, scope) => {
      await visible(scope, ledgerId);
      return getLedger(db.em(), ledgerId);
    },
    requireLedger: (ledgerId, scope) => visible(scope, ledgerId),
    listLedgers: (page, scope) => listLedgers(db.em(), deps.pageTokens, page, scope),
    enableCurrency: async (ledgerId, currency, scope) => {
      validateLedgerCurrency(ledgerId, currency);
      await visible(scope, ledgerId);
      return changed(enableCurrency(db.em(), ledgerId, currency));
    },
    disableCurrency: async (ledgerId, currency, scope) => {
      validateLedgerCurrency(ledgerId, currency);
      await visible(scope, ledgerId);
      return changed(disableCurrency(db.em(), ledgerId, currency));
    },
    getBalances: async (ledgerId, scope) => {
      if (scope.tenant !== null) await visible(scope, ledgerId);
      return getBalances(ledgerId);
    },
    listEntries: (input, scope) => listEntries(db.em(), deps.pageTokens, input, scope, (ledgerId) => visible(scope, ledgerId)),
    submitTransactions: (inputs, scope, fieldPrefix = noPrefix) => submitTransactions(directory, deps.intake, inputs, fieldPrefix, scope),
    submitTransfer: (input, scope) => submitTransfer(directory, deps.intake, input, scope),
    appliers: { TRANSACTION: applyTransactions, TRANSFER: applyTransfers },
    book,
    requireCurrencies: (ledgerId, codes, scope) => requireCurrencies(directory, scope, [ledgerId], codes),
    auditBooks: () => auditBooks(db.em()),
    ledgerEntryCounts: (ids) => ledgerEntryCounts(db.sql, ids),
    unsettledTransit: (ids) => unsettledTransit(db.sql, ids),
  };
}
