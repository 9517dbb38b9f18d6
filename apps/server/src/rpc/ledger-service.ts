import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  ConvertedTotalSchema,
  CreateLedgerResponseSchema,
  DisableCurrencyResponseSchema,
  EnableCurrencyResponseSchema,
  GetBalancesResponseSchema,
  GetLedgerResponseSchema,
  ListEntriesResponseSchema,
  ListLedgersResponseSchema,
  type LedgerService,
} from '@tally/contracts';
import type { ExchangeFacade } from '@tally/exchange';
import type { LedgersFacade } from '@tally/ledgers';
import type { Operation } from '@tally/operations';
import type { Logger } from '@tally/platform';
import { scopeOf } from '../access/caller.js';
import { rateToProto } from './exchange-service.js';
import { balanceToProto, entryToProto, ledgerToProto } from './mapping.js';
import { submitTransaction, submitTransactions, submitTransfer } from './submit.js';

/** LedgerService: sync reads and writes of ledgers; async credits, debits and transfers. */
export function ledgerServiceHandlers(
  ledgers: LedgersFacade<Operation>,
  exchange: ExchangeFacade,
  logger: Logger,
): Partial<ServiceImpl<typeof LedgerService>> {
  return {
    submitTransaction: (req, ctx) => submitTransaction(ledgers, req, scopeOf(ctx)),
    submitTransactions: (req, ctx) => submitTransactions(ledgers, req, scopeOf(ctx), logger),
    submitTransfer: (req, ctx) => submitTransfer(ledgers, req, scopeOf(ctx)),

    async createLedger(req, ctx) {
      const ledger = await ledgers.createLedger(
        { name: req.name, currencies: req.currencies, overdraftAllowed: req.overdraftAllowed, requestId: req.requestId },
        scopeOf(ctx),
      );
      return create(CreateLedgerResponseSchema, { ledger: ledgerToProto(ledger) });
    },

    async getLedger(req, ctx) {
      return create(GetLedgerResponseSchema, { ledger: ledgerToProto(await ledgers.getLedger(req.ledgerId, scopeOf(ctx))) });
    },

    async listLedgers(req, ctx) {
      const page = await ledgers.listLedgers({ pageSize: req.pageSize, pageToken: req.pageToken }, scopeOf(ctx));
      return create(ListLedgersResponseSchema, {
        ledgers: page.items.map(ledgerToProto),
        nextPageToken: page.nextPageToken,
      });
    },

    async enableCurrency(req, ctx) {
      const ledger = await ledgers.enableCurrency(req.ledgerId, req.currency, scopeOf(ctx));
      return create(EnableCurrencyResponseSchema, { ledger: ledgerToProto(ledger) });
    },

    async disableCurrency(req, ctx) {
      const ledger = await ledgers.disableCurrency(req.ledgerId, req.currency, scopeOf(ctx));
      return create(DisableCurrencyResponseSchema, { ledger: ledgerToProto(ledger) });
    },

    async getBalances(req, ctx) {
      const balances = await ledgers.getBalances(req.ledgerId, scopeOf(ctx));
      const total = req.convertTo === '' ? undefined : await exchange.convertTotal(balances, req.convertTo);
      return create(GetBalancesResponseSchema, {
        balances: balances.map(balanceToProto),
        ...(total && {
          convertedTotal: create(ConvertedTotalSchema, { ...total, rates: total.rates.map((r) => rateToProto(r)) }),
        }),
      });
    },

    async listEntries(req, ctx) {
      const page = await ledgers.listEntries(
        { ledgerId: req.ledgerId, currency: req.currency, pageSize: req.pageSize, pageToken: req.pageToken },
        scopeOf(ctx),
      );
      return create(ListEntriesResponseSchema, {
        entries: page.items.map(entryToProto),
        nextPageToken: page.nextPageToken,
      });
    },
  };
}
