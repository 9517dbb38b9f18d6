import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  CreateLedgerResponseSchema,
  EnableCurrencyResponseSchema,
  GetBalancesResponseSchema,
  GetLedgerResponseSchema,
  ListEntriesResponseSchema,
  ListLedgersResponseSchema,
  type LedgerService,
} from '@tally/contracts';
import type { LedgersFacade } from '@tally/ledgers';
import { balanceToProto, entryToProto, ledgerToProto } from './mapping.js';

/** LedgerService's sync RPCs. Async submits arrive with the worker (issue #3). */
export function ledgerServiceHandlers(ledgers: LedgersFacade): Partial<ServiceImpl<typeof LedgerService>> {
  return {
    async createLedger(req) {
      const ledger = await ledgers.createLedger({
        name: req.name,
        currencies: req.currencies,
        overdraftAllowed: req.overdraftAllowed,
        requestId: req.requestId,
      });
      return create(CreateLedgerResponseSchema, { ledger: ledgerToProto(ledger) });
    },

    async getLedger(req) {
      return create(GetLedgerResponseSchema, { ledger: ledgerToProto(await ledgers.getLedger(req.ledgerId)) });
    },

    async listLedgers(req) {
      const page = await ledgers.listLedgers({ pageSize: req.pageSize, pageToken: req.pageToken });
      return create(ListLedgersResponseSchema, {
        ledgers: page.items.map(ledgerToProto),
        nextPageToken: page.nextPageToken,
      });
    },

    async enableCurrency(req) {
      const ledger = await ledgers.enableCurrency(req.ledgerId, req.currency);
      return create(EnableCurrencyResponseSchema, { ledger: ledgerToProto(ledger) });
    },

    async getBalances(req) {
      const balances = await ledgers.getBalances(req.ledgerId);
      return create(GetBalancesResponseSchema, { balances: balances.map(balanceToProto) });
    },

    async listEntries(req) {
      const page = await ledgers.listEntries({
        ledgerId: req.ledgerId,
        currency: req.currency,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
      return create(ListEntriesResponseSchema, {
        entries: page.items.map(entryToProto),
        nextPageToken: page.nextPageToken,
      });
    },
  };
}
