import { CURRENCIES } from '../load/plan.js';
import type { Accepted } from './exactly-once.js';
import type { Seen, SeenEntry } from './seen.js';
import { violation, type Violation } from './violation.js';

/**
 * The client-side model of the books: each accepted operation's effect, worked out from what
 * the client asked for and the status the operation ended in, summed into balances. Each
 * operation's entries and result must be exactly that effect, and each balance the model's.
 *
 * COMPLETED: a credit adds its amount, a debit takes it, a transfer moves it from one ledger
 * to the other, an exchange takes its amount in one currency and adds, in the other, what its
 * result says it credited (the rate is the provider's, not the client's), which must be more
 * than zero, and the quote's amount exactly when it went at a quoted rate.
 * FAILED: nothing, except a transfer's debit and the credit that restored it (netting to
 * zero) or, after running out of retries (RETRIES_EXHAUSTED), the stages it got through.
 */

export interface Effect {
  readonly ledgerId: string;
  readonly currency: string;
  readonly amount: bigint;
}

const RETRIES_EXHAUSTED = 'RETRIES_EXHAUSTED';
const ledgerCurrency = (ledgerId: string, currency: string): string => `${ledgerId}/${currency}`;
const effectKey = (e: Effect): string => `${e.ledgerId}/${e.currency}/${e.amount}`;

/** What the operation should have done, or a problem when its own record contradicts the request. */
export function expectedEffects(a: Accepted, written: readonly Effect[]): { effects: Effect[] } | { problem: string } {
  const { record: r, operation: op } = a;
  if (op.status === 'FAILED') {
    const net = new Map<string, bigint>();
    for (const e of written) net.set(ledgerCurrency(e.ledgerId, e.currency), (net.get(ledgerCurrency(e.ledgerId, e.currency)) ?? 0n) + e.amount);
    const restored = [...net.values()].every((n) => n === 0n);
    if (written.length > 0 && !(r.kind === 'TRANSFER' && (restored || op.errorCode === RETRIES_EXHAUSTED))) {
      return { problem: `FAILED ${op.errorCode ?? ''} but wrote ${written.length} entries` };
    }
    return { effects: [...written] };
  }
  switch (r.kind) {
    case 'CREDIT':
      return { effects: [{ ledgerId: r.ledgerId, currency: r.currency, amount: r.amount }] };
    case 'DEBIT':
      return { effects: [{ ledgerId: r.ledgerId, currency: r.currency, amount: -r.amount }] };
    case 'TRANSFER':
      return {
        effects: [
          { ledgerId: r.ledgerId, currency: r.currency, amount: -r.amount },
          { ledgerId: r.toLedgerId!, currency: r.currency, amount: r.amount },
        ],
      };
    case 'EXCHANGE': {
      const credit = op.balanceChanges.find((c) => c.ledgerId === r.ledgerId && c.currency === r.toCurrency);
      if (!credit || credit.amount <= 0n) return { problem: `COMPLETED with no ${r.toCurrency} credit in its result` };
      if (r.quote && credit.amount !== r.quote.toAmount) return { problem: `credited ${credit.amount} ${r.toCurrency}, but its quote ${r.quote.id} promised ${r.quote.toAmount}` };
      return {
        effects: [
          { ledgerId: r.ledgerId, currency: r.currency, amount: -r.amount },
          { ledgerId: r.ledgerId, currency: r.toCurrency!, amount: credit.amount },
        ],
      };
    }
  }
}

function add(model: Map<string, bigint>, e: Effect): void {
  const key = ledgerCurrency(e.ledgerId, e.currency);
  model.set(key, (model.get(key) ?? 0n) + e.amount);
}

export interface EffectsResult {
  readonly violations: Violation[];
  /** The model's balance of each ledger and currency (`ledger/currency`). */
  readonly model: ReadonlyMap<string, bigint>;
}

export function checkEffects(accepted: readonly Accepted[], seen: Seen): EffectsResult {
  const violations: Violation[] = [];
  const entriesByOperation = new Map<string, SeenEntry[]>();
  for (const list of seen.entries.values()) {
    for (const e of list) entriesByOperation.set(e.operationId, [...(entriesByOperation.get(e.operationId) ?? []), e]);
  }
  const model = new Map<string, bigint>();
  const known = new Set<string>();
  for (const a of accepted) {
    const op = a.operation;
    known.add(op.id);
    if (op.status !== 'COMPLETED' && op.status !== 'FAILED') continue; // reported by the exactly-once check
    const written = entriesByOperation.get(op.id) ?? [];
    const expected = expectedEffects(a, written);
    const what = `${a.record.kind} ${a.record.transactionId} (operation ${op.id}, ${op.status}${op.errorCode ? ` ${op.errorCode}` : ''})`;
    if ('problem' in expected) {
      violations.push(violation('effects', `${what}: ${expected.problem}`));
      // Reported once, here: the balances go on from what it did write.
      for (const e of written) add(model, e);
      continue;
    }
    const want = expected.effects.map(effectKey).sort();
    const got = written.map(effectKey).sort();
    if (want.join() !== got.join()) violations.push(violation('effects', `${what}: wrote entries [${got.join(', ')}], expected [${want.join(', ')}]`));
    const reported = op.balanceChanges.map((c) => `${effectKey(c)}=${c.balanceAfter}`).sort();
    const entered = written.map((e) => `${effectKey(e)}=${e.balanceAfter}`).sort();
    if (reported.join() !== entered.join()) violations.push(violation('effects', `${what}: its result says [${reported.join(', ')}], its entries [${entered.join(', ')}]`));
    for (const e of expected.effects) add(model, e);
  }
  for (const [operationId, written] of entriesByOperation) {
    if (!known.has(operationId)) violations.push(violation('phantom', `${written.length} entries of operation ${operationId}, which no client's submit became`));
  }
  for (const [ledgerId, balances] of seen.balances) {
    for (const currency of new Set([...CURRENCIES, ...balances.keys()])) {
      const want = model.get(ledgerCurrency(ledgerId, currency)) ?? 0n;
      const got = balances.get(currency) ?? 0n;
      if (want !== got) violations.push(violation('balance', `ledger ${ledgerId} ${currency}: GetBalances says ${got}, the client-side model ${want} (off by ${got - want})`));
    }
  }
  return { violations, model };
}
