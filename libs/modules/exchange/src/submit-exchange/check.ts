import type { EntityManager } from '@mikro-orm/postgresql';
import { currencies } from '@tally/currencies';
import type { LedgersFacade } from '@tally/ledgers';
import {
  checkClientKey,
  checkMetadata,
  checkUuid,
  failedPrecondition,
  notFound,
  isVisibleTo,
  ownerFor,
  Violations,
  type OperationIntake,
  type TenantScope,
} from '@tally/platform';
import { checkPair, quoteMismatch, type QuoteRow } from '../internal/quotes.js';

/**
 * SubmitExchange, the synchronous half: check the request, its quote, and (from the ledgers
 * module) that the ledger has both currencies enabled; then record it through the intake port.
 * The worker then locks its rate (`prepare.ts`) and books both legs (`apply.ts`).
 */

/** The port the exchange module records exchanges through (the operations module, plugged in by the wiring). */
export type ExchangeIntake<Operation> = OperationIntake<'EXCHANGE', Operation>;

export interface ExchangeInput {
  readonly ledgerId: string;
  readonly transactionId: string;
  readonly fromCurrency: string;
  readonly toCurrency: string;
  readonly amount: bigint;
  readonly quoteId: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The request as accepted (JSON, canonical). */
export interface ExchangeRequest {
  readonly from_currency: string;
  readonly to_currency: string;
  readonly amount: string;
  /** Empty without a quote. */
  readonly quote_id: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export async function submitExchange<Operation>(
  em: EntityManager,
  ledgers: Pick<LedgersFacade, 'requireCurrencies'>,
  intake: ExchangeIntake<Operation>,
  input: ExchangeInput,
  scope: TenantScope,
): Promise<Operation> {
  const request = await checkExchange(em, input, scope);
  await ledgers.requireCurrencies(input.ledgerId, [request.from_currency, request.to_currency], scope);
  const [admission] = await intake.accept([
    { kind: 'EXCHANGE', ledgerId: input.ledgerId, transactionId: input.transactionId, tenant: ownerFor(scope), request: { ...request }, origin: scope.origin },
  ]);
  if (!admission!.ok) throw admission!.error;
  return admission!.operation;
}

/** Field checks and the quote's; the ledger's currencies are the ledgers module's to check. */
async function checkExchange(em: EntityManager, input: ExchangeInput, scope: TenantScope): Promise<ExchangeRequest> {
  const v = new Violations();
  checkUuid(v, 'ledger_id', input.ledgerId);
  checkClientKey(v, 'transaction_id', input.transactionId);
  checkPair(v, input.fromCurrency, input.toCurrency);
  currencies.checkPositiveAmount(v, 'amount', input.amount);
  if (input.quoteId !== '') checkUuid(v, 'quote_id', input.quoteId);
  const metadata = checkMetadata(v, 'metadata', input.metadata);
  v.throwIfAny();
  if (input.quoteId !== '') {
    const [quote] = await em.execute<QuoteRow[]>(`select * from exchange.quote where id = ?`, [input.quoteId]);
    // Another tenant's quote is not there at all, as their ledgers are not.
    if (!quote || !isVisibleTo(scope, quote.tenant)) throw notFound('quote', input.quoteId);
    const problem = quoteMismatch(quote, input.fromCurrency, input.toCurrency, input.amount.toString());
    if (problem) throw failedPrecondition(problem.code, problem.message, { quote_id: input.quoteId });
    // A retry of the exchange that used the quote goes on to the intake, which answers the
    // operation already recorded (or ALREADY_EXISTS for a different request under its id).
    const usedByThisRequest = quote.used_by_ledger_id === input.ledgerId && quote.used_by_transaction_id === input.transactionId;
    if (quote.used_by_operation_id && !usedByThisRequest) {
      throw failedPrecondition('QUOTE_ALREADY_USED', `quote ${input.quoteId} was used by operation ${quote.used_by_operation_id}`, {
        quote_id: input.quoteId,
      });
    }
    if (!usedByThisRequest && new Date(quote.expire_time).getTime() <= Date.now()) {
      throw failedPrecondition('QUOTE_EXPIRED', `quote ${input.quoteId} expired at ${new Date(quote.expire_time).toISOString()}`, { quote_id: input.quoteId });
    }
  }
  return { from_currency: input.fromCurrency, to_currency: input.toCurrency, amount: input.amount.toString(), quote_id: input.quoteId, metadata };
}
