import { OperationKind, OperationStatus, StepStatus, type Operation } from '@tally/client';
import { formatMinorUnits } from './amounts.js';

/** Operations in words, the same in the forms and in the live list. Pure. */

export function statusName(status: OperationStatus): string {
  return OperationStatus[status] ?? `STATUS_${status}`;
}

export function stepStatusName(status: StepStatus): string {
  return StepStatus[status] ?? `STATUS_${status}`;
}

/** `Credit 10.50 USD`, `Transfer 5.00 EUR`: an amount with its currency, for people. */
export function money(amount: bigint, currency: string, exponent: number): string {
  return `${formatMinorUnits(amount, exponent)} ${currency}`;
}

/**
 * What an operation is, when the page did not submit it itself. An Operation does not carry
 * its request: the amount and direction come from its balance changes (once applied) or from
 * its failure's details (`amount`, `currency`), and an INSUFFICIENT_FUNDS failure is a debit's.
 */
export function operationTitle(op: Operation, viewedLedgerId: string, exponentOf: (code: string) => number): string {
  const changes = (op.result?.balanceChanges ?? []).filter((c) => c.ledgerId === viewedLedgerId);
  const out = changes.find((c) => c.amount < 0n);
  const into = changes.find((c) => c.amount > 0n);
  const show = (amount: bigint, currency: string) => money(amount < 0n ? -amount : amount, currency, exponentOf(currency));
  const details = op.error?.details ?? {};
  const asked = details['amount'] && details['currency'] && /^\d+$/.test(details['amount']) ? show(BigInt(details['amount']), details['currency']) : undefined;
  switch (op.kind) {
    case OperationKind.TRANSACTION:
      if (out) return `Debit ${show(out.amount, out.currency)}`;
      if (into) return `Credit ${show(into.amount, into.currency)}`;
      if (asked) return `${op.error?.code === 'INSUFFICIENT_FUNDS' ? 'Debit' : 'Transaction'} ${asked}`;
      return 'Transaction';
    case OperationKind.TRANSFER: {
      const incoming = op.ledgerId !== viewedLedgerId;
      const moved = incoming ? into : out;
      return `Transfer ${incoming ? 'in' : 'out'}${moved ? ` ${show(moved.amount, moved.currency)}` : asked ? ` ${asked}` : ''}`;
    }
    case OperationKind.EXCHANGE:
      if (out && into) return `Exchange ${show(out.amount, out.currency)} to ${into.currency}`;
      return asked ? `Exchange ${asked}` : 'Exchange';
    default:
      return `Operation (kind ${op.kind})`;
  }
}

/**
 * A failure's money facts in the currency's units (`balance 980.50 GBP, amount 2,500.00 GBP`):
 * the server's message states them in minor units.
 */
export function failureFacts(details: Readonly<Record<string, string>>, exponentOf: (code: string) => number): string | undefined {
  const currency = details['currency'];
  if (!currency) return undefined;
  let exponent: number;
  try {
    exponent = exponentOf(currency);
  } catch {
    return undefined; // not a currency the catalogue knows: the server's message says it all
  }
  const facts = (['balance', 'amount'] as const)
    .filter((key) => /^-?\d+$/.test(details[key] ?? ''))
    .map((key) => `${key} ${money(BigInt(details[key]!), currency, exponent)}`);
  return facts.length > 0 ? facts.join(', ') : undefined;
}

/** One line on how a submit ended, for the form that made it. */
export function outcomeText(wording: string, op: Operation): string {
  switch (op.status) {
    case OperationStatus.COMPLETED:
      return `${wording}: completed.`;
    case OperationStatus.FAILED:
      return `${wording} failed: ${op.error ? `${op.error.code}: ${op.error.message}` : 'no reason given'}.`;
    case OperationStatus.CANCELLED:
      return `${wording} was cancelled before it applied.`;
    default:
      return `${wording}: ${statusName(op.status)}; follow it in the live list.`;
  }
}
