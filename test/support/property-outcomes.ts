import { Code, ConnectError } from '@connectrpc/connect';
import { OperationStatus, StepStatus, type Operation, type Quote } from '@tally/contracts';
import { conversion, currencies } from '@tally/currencies';
import { connectDetails } from './errors.js';

/**
 * The property suite's vocabulary (what it submits, what became of it) and its judgement: which
 * ends each kind of operation may reach, and what a ledger's entries must add up to. Pure: the
 * suite (test/properties.test.ts) drives the server and hands these what it saw.
 */

export interface Book {
  readonly id: string;
  readonly currencies: readonly string[];
}

export type Submission =
  | { readonly kind: 'transfer'; readonly from: number; readonly to: number; readonly currency: string; readonly amount: bigint; readonly oversized: boolean }
  | { readonly kind: 'exchange'; readonly ledger: number; readonly from: string; readonly to: string; readonly amount: bigint; readonly oversized: boolean; readonly withQuote: boolean }
  | { readonly kind: 'credit' | 'debit'; readonly ledger: number; readonly currency: string; readonly amount: bigint; readonly oversized: boolean };
export type Toggle = { readonly kind: 'toggle'; readonly ledger: number; readonly currency: string; readonly enable: boolean; readonly delayMs: number };
export type Action = Submission | Toggle;

/** One submission and what became of it: refused inside the request, or accepted and ended. */
export interface Sent {
  readonly action: Submission;
  readonly label: string;
  /** It names a currency never enabled on its ledger. */
  readonly mustBeRefused: boolean;
  /** It names a currency disabled (or being disabled) on its ledger when it was sent. */
  readonly mayBeRefused: boolean;
  readonly quote?: Quote;
  readonly accepted?: Operation;
  readonly refused?: ConnectError;
  end?: Operation;
}

/** What the run knows while it judges outcomes. */
export interface Run {
  readonly books: readonly Book[];
  /** `ledger/currency` pairs disabled at some moment of the run. */
  readonly everDisabled: ReadonlySet<string>;
  /** The provider's rate, as an exchange locks it (12 decimals). */
  rateOf(from: string, to: string): string;
}

export const pairKey = (ledger: number, currency: string) => `${ledger}/${currency}`;

export function namedPairs(action: Submission): Array<[ledger: number, currency: string]> {
  switch (action.kind) {
    case 'transfer':
      return [[action.from, action.currency], [action.to, action.currency]];
    case 'exchange':
      return [[action.ledger, action.from], [action.ledger, action.to]];
    default:
      return [[action.ledger, action.currency]];
  }
}

export function refusalFindings(s: Sent): string[] {
  if (!s.refused) return s.mustBeRefused ? [`${s.label}: accepted, though it names a currency never enabled on its ledger`] : [];
  const reason = connectDetails(s.refused).errorInfo?.reason;
  if (s.refused.code !== Code.FailedPrecondition || reason !== 'CURRENCY_NOT_ENABLED') return [`${s.label}: refused ${Code[s.refused.code]} ${reason}: ${s.refused.rawMessage}`];
  return s.mustBeRefused || s.mayBeRefused ? [] : [`${s.label}: refused CURRENCY_NOT_ENABLED, though every currency it names was enabled`];
}

const EXCHANGE_DONE = 'RATE_LOCKED COMPLETED, SOURCE_DEBITED COMPLETED, TARGET_CREDITED COMPLETED, COMPLETED COMPLETED';
const TRANSFER_DONE = 'SOURCE_DEBITED COMPLETED, TARGET_CREDITED COMPLETED, COMPLETED COMPLETED';
const TRANSFER_RETURNED = 'SOURCE_DEBITED COMPLETED, TARGET_CREDITED FAILED, SOURCE_RESTORED COMPLETED';

/** Whether an ended operation ended in a way its kind allows, given what it asked and what was disabled meanwhile. */
export function outcomeFindings(run: Run, s: Sent): string[] {
  const op = s.end!;
  const a = s.action;
  const code = op.error?.code ?? '';
  const steps = op.steps.map((x) => `${x.name} ${StepStatus[x.status]}`).join(', ');
  const changes = (op.result?.balanceChanges ?? []).map((c) => `#${run.books.findIndex((b) => b.id === c.ledgerId)} ${c.currency} ${c.amount}`).join(', ');
  const bad = (expectation: string) => [`${s.label}: ${expectation}; got ${OperationStatus[op.status]} ${code} [${steps}] {${changes}}`];
  const wasDisabled = (ledger: number, currency: string) => run.everDisabled.has(pairKey(ledger, currency));
  if (op.status === OperationStatus.COMPLETED && a.oversized) return bad('completed, though beyond any balance');
  if (op.status !== OperationStatus.COMPLETED && op.status !== OperationStatus.FAILED) return bad('ends COMPLETED or FAILED');
  switch (a.kind) {
    case 'credit':
    case 'debit': {
      const change = a.kind === 'credit' ? a.amount : -a.amount;
      if (op.status === OperationStatus.COMPLETED) return changes === `#${a.ledger} ${a.currency} ${change}` ? [] : bad(`changes its balance by ${change}`);
      const allowed = [...(a.kind === 'debit' ? ['INSUFFICIENT_FUNDS'] : []), ...(wasDisabled(a.ledger, a.currency) ? ['CURRENCY_NOT_ENABLED'] : [])];
      return allowed.includes(code) && changes === '' ? [] : bad(`fails only with one of [${allowed}], changing nothing`);
    }
    case 'exchange': {
      const atRate = conversion.convertMinorUnits(a.amount, currencies.find(a.from)!.exponent, currencies.find(a.to)!.exponent, conversion.parseRate(run.rateOf(a.from, a.to))!)!;
      const findings: string[] = [];
      if (s.quote && (s.quote.rate !== run.rateOf(a.from, a.to) || s.quote.toAmount !== atRate)) findings.push(`${s.label}: quoted ${s.quote.rate} (${s.quote.toAmount}), not the provider's ${run.rateOf(a.from, a.to)} (${atRate})`);
      if (op.status === OperationStatus.COMPLETED) {
        if (changes !== `#${a.ledger} ${a.from} ${-a.amount}, #${a.ledger} ${a.to} ${atRate}` || atRate <= 0n) findings.push(...bad(`debits ${a.amount} ${a.from} and credits ${atRate} ${a.to}, at the provider's rate`));
        if (steps !== EXCHANGE_DONE) findings.push(...bad('records every step'));
        return findings;
      }
      const atBooking = ['INSUFFICIENT_FUNDS', ...(wasDisabled(a.ledger, a.from) || wasDisabled(a.ledger, a.to) ? ['CURRENCY_NOT_ENABLED'] : [])];
      const atLocking = s.quote ? ['QUOTE_EXPIRED'] : ['RATES_UNAVAILABLE'];
      if (changes !== '') return [...findings, ...bad('a failed exchange changes no balance')];
      if (atBooking.includes(code)) return steps === 'RATE_LOCKED COMPLETED, SOURCE_DEBITED FAILED' ? findings : [...findings, ...bad('is refused at booking, after locking its rate')];
      if (atLocking.includes(code)) return steps === 'RATE_LOCKED FAILED' ? findings : [...findings, ...bad('fails at locking its rate')];
      return [...findings, ...bad(`fails only with one of [${[...atBooking, ...atLocking]}]`)];
    }
    case 'transfer': {
      if (op.toLedgerId !== run.books[a.to]!.id) return bad(`names its target, not ${op.toLedgerId}`);
      if (op.status === OperationStatus.COMPLETED) {
        if (changes !== `#${a.from} ${a.currency} ${-a.amount}, #${a.to} ${a.currency} ${a.amount}`) return bad('moves its amount from the source to the target');
        return steps === TRANSFER_DONE ? [] : bad('records every step');
      }
      if (steps === 'SOURCE_DEBITED FAILED') {
        const allowed = ['INSUFFICIENT_FUNDS', ...(wasDisabled(a.from, a.currency) ? ['CURRENCY_NOT_ENABLED'] : [])];
        return allowed.includes(code) && changes === '' ? [] : bad(`is refused at its debit only with one of [${allowed}], changing nothing`);
      }
      if (steps === TRANSFER_RETURNED) {
        const returned = wasDisabled(a.to, a.currency) && code === 'CURRENCY_NOT_ENABLED' && op.error?.details['restored_to'] === run.books[a.from]!.id;
        const netZero = changes === `#${a.from} ${a.currency} ${-a.amount}, #${a.from} ${a.currency} ${a.amount}`;
        return returned && netZero ? [] : bad('is returned to its source (CURRENCY_NOT_ENABLED, the target currency disabled meanwhile) in full');
      }
      return bad('fails at its debit, or is returned to its source');
    }
  }
}

interface Change {
  readonly operationId: string;
  readonly currency: string;
  readonly amount: bigint;
  readonly balanceAfter: bigint;
}

/** Each balance: the sum of its entries, every entry's balance_after the sum up to it (entries come newest first). */
export function entryFindings(balances: ReadonlyArray<{ currency: string; amount: bigint }>, entries: ReadonlyArray<Change & { readonly id: string }>): string[] {
  const findings: string[] = [];
  for (const balance of balances) {
    let running = 0n;
    for (const entry of entries.filter((e) => e.currency === balance.currency).reverse()) {
      running += entry.amount;
      if (entry.balanceAfter !== running) findings.push(`entry ${entry.id} says balance_after ${entry.balanceAfter}; the entries up to it sum to ${running}`);
    }
    if (running !== balance.amount) findings.push(`${balance.currency} balance ${balance.amount}; its entries sum to ${running}`);
  }
  return findings;
}

/** Balance changes by operation, each operation's sorted: comparable however they were listed. */
export function byOperation(changes: readonly Change[]): Record<string, string[]> {
  const grouped: Record<string, string[]> = {};
  for (const c of changes) (grouped[c.operationId] ??= []).push(`${c.currency} ${c.amount} -> ${c.balanceAfter}`);
  for (const list of Object.values(grouped)) list.sort();
  return grouped;
}

export const sumOf = (changes: ReadonlyArray<{ amount: bigint }>) => changes.reduce((sum, c) => sum + c.amount, 0n);

export function describeAction(a: Submission): string {
  switch (a.kind) {
    case 'transfer':
      return `transfer ${a.amount} ${a.currency} #${a.from}->#${a.to}`;
    case 'exchange':
      return `exchange ${a.amount} ${a.from}->${a.to} on #${a.ledger}${a.withQuote ? ' (quote asked)' : ''}`;
    default:
      return `${a.kind} ${a.amount} ${a.currency} on #${a.ledger}`;
  }
}

/** How the run went, so that a reader sees what the faults and toggles exercised. */
export function outcomeSummary(sent: readonly Sent[]): string {
  const counts = new Map<string, number>();
  for (const s of sent) {
    const kind = s.action.kind === 'exchange' && s.quote ? 'exchange (quoted)' : s.action.kind;
    const returned = s.end?.steps.some((x) => x.name === 'SOURCE_RESTORED') ? ' returned' : '';
    const key = s.refused ? `${kind} refused` : `${kind} ${OperationStatus[s.end!.status]}${s.end!.error ? ` ${s.end!.error.code}` : ''}${returned}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort().map(([k, n]) => `${k}: ${n}`).join(', ');
}
