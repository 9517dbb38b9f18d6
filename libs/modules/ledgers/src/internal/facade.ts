import type { Database, PageRequest } from '@tally/platform';
import { createLedger } from './create-ledger.js';
import { enableCurrency } from './enable-currency.js';
import { getBalances, getLedger, listEntries, listLedgers, type ListEntriesInput } from './read-ledgers.js';
import type { Balance, Entry, Ledger, Page } from './types.js';
import type { CreateLedgerInput } from './validation.js';

export interface LedgersFacade {
  createLedger(input: CreateLedgerInput): Promise<Ledger>;
  getLedger(ledgerId: string): Promise<Ledger>;
  listLedgers(page: PageRequest): Promise<Page<Ledger>>;
  enableCurrency(ledgerId: string, currency: string): Promise<Ledger>;
  getBalances(ledgerId: string): Promise<Balance[]>;
  listEntries(input: ListEntriesInput): Promise<Page<Entry>>;
}

/** Every call gets its own unit of work. */
export function createLedgersFacade(db: Database): LedgersFacade {
  return {
    createLedger: (input) => createLedger(db.em(), input),
    getLedger: (ledgerId) => getLedger(db.em(), ledgerId),
    listLedgers: (page) => listLedgers(db.em(), page),
    enableCurrency: (ledgerId, currency) => enableCurrency(db.em(), ledgerId, currency),
    getBalances: (ledgerId) => getBalances(db.em(), ledgerId),
    listEntries: (input) => listEntries(db.em(), input),
  };
}
