import type { Accepted } from './exactly-once.js';
import type { Seen, SeenEntry } from './seen.js';
import { violation, type Violation } from './violation.js';

/**
 * Per-ledger order. Each ledger belongs to one client, which submits to it one at a time: the
 * order in which its submits were acknowledged is the order in which Tally accepted them
 * (an acknowledgement comes after the commit, and the next submit goes out after it). Tally
 * promises to apply a ledger's operations in that order. What shows it, through the API:
 *
 * 1. Entry ids increase in the order entries were written. So an operation's first entry on
 *    its ledger (a credit's, a debit's, an exchange's two legs, a transfer's debit) comes
 *    after that of every operation the ledger accepted before it.
 * 2. A debit that failed INSUFFICIENT_FUNDS names the balance it saw. That balance must be one
 *    the ledger held at its turn: after the last operation accepted before it had been
 *    applied, and before the next one was (money arriving by transfer, whose credit is applied
 *    in the ledger's order at hand-off, may come in between). And it must be below the amount.
 * 3. Each entry's balance_after is the previous one in its currency plus its amount, from zero,
 *    and never below zero: the run's ledgers allow no overdraft.
 *
 * Submits the client gave up on but that were accepted anyway have no known place in the
 * order: only their entries count, as money that arrived.
 */

export interface OrderResult {
  readonly violations: Violation[];
  /** Operations placed in their ledger's order (with an entry on it). */
  readonly placed: number;
  /** INSUFFICIENT_FUNDS failures whose balance was checked against the ledger's history. */
  readonly failuresPlaced: number;
}

export function checkOrder(accepted: readonly Accepted[], seen: Seen): OrderResult {
  const violations: Violation[] = [];
  let placed = 0;
  let failuresPlaced = 0;
  const byLedger = new Map<string, Accepted[]>();
  for (const a of accepted) {
    if (a.late) continue;
    const list = byLedger.get(a.record.ledgerId);
    if (list) list.push(a);
    else byLedger.set(a.record.ledgerId, [a]);
  }
  for (const [ledgerId, entries] of seen.entries) {
    violations.push(...checkChains(ledgerId, entries));
    const own = (byLedger.get(ledgerId) ?? []).sort((x, y) => x.record.clientSeq - y.record.clientSeq);
    const span = entrySpans(entries);
    const byCurrency = new Map<string, SeenEntry[]>();
    for (const e of entries) {
      const list = byCurrency.get(e.currency);
      if (list) list.push(e);
      else byCurrency.set(e.currency, [e]);
    }
    // Anchors: the ledger's own operations that wrote on it, in acceptance order.
    const anchors = own.flatMap((a, index) => {
      const s = span.get(a.operation.id);
      return s ? [{ a, index, ...s }] : [];
    });
    placed += anchors.length;
    // Each against the latest applied of those accepted before it: every operation that overtook is named.
    let latest = anchors[0];
    for (const after of anchors.slice(1)) {
      const before = latest!;
      if (after.first <= before.last) {
        violations.push(
          violation(
            'order',
            `ledger ${ledgerId}: ${after.a.record.transactionId} (operation ${after.a.operation.id}, first entry ${after.first}) was applied before ${before.a.record.transactionId} (operation ${before.a.operation.id}, entry ${before.last}), which was accepted first`,
          ),
        );
      }
      if (after.last > before.last) latest = after;
    }
    // Failed for want of funds: the balance it saw must be one the ledger held at its turn.
    let nextAnchor = 0;
    for (let index = 0; index < own.length; index++) {
      while (nextAnchor < anchors.length && anchors[nextAnchor]!.index <= index) nextAnchor++;
      const a = own[index]!;
      const details = a.operation.errorDetails;
      // Refused on this ledger, at its turn here, having written nothing here (not, say, a
      // transfer refused at its target and restored).
      if (a.operation.errorCode !== 'INSUFFICIENT_FUNDS' || details['ledger_id'] !== ledgerId || span.has(a.operation.id)) continue;
      if (details['balance'] === undefined || details['currency'] === undefined) continue;
      const from = anchors[nextAnchor - 1]?.last ?? 0n;
      const to = anchors[nextAnchor]?.first;
      const currency = details['currency'];
      const held = balancesHeld(byCurrency.get(currency) ?? [], from, to);
      const saw = BigInt(details['balance']);
      const amount = BigInt(details['amount'] ?? '0');
      failuresPlaced++;
      if (!held.has(saw)) {
        violations.push(
          violation(
            'order',
            `ledger ${ledgerId}: ${a.record.transactionId} (operation ${a.operation.id}) failed INSUFFICIENT_FUNDS on a ${currency} balance of ${saw}, which the ledger never held at its turn (between entries ${from} and ${to ?? 'the end'} it held ${[...held].slice(0, 10).join(', ')})`,
          ),
        );
      } else if (saw >= amount) {
        violations.push(violation('order', `ledger ${ledgerId}: ${a.record.transactionId} (operation ${a.operation.id}) failed INSUFFICIENT_FUNDS with ${saw} ${currency} for ${amount}`));
      }
    }
  }
  return { violations, placed, failuresPlaced };
}

/**
 * Each operation's turn on the ledger: its first entry there, up to the last of the entries
 * that follow it without another operation's in between (an exchange's two legs). A
 * transfer's restoring credit, much later, is not part of its turn.
 */
function entrySpans(entries: readonly SeenEntry[]): Map<string, { first: bigint; last: bigint }> {
  const spans = new Map<string, { first: bigint; last: bigint }>();
  let previous: SeenEntry | undefined;
  for (const e of entries) {
    const span = spans.get(e.operationId);
    if (!span) spans.set(e.operationId, { first: e.id, last: e.id });
    else if (previous?.operationId === e.operationId) span.last = e.id;
    previous = e;
  }
  return spans;
}

/**
 * Every balance a currency had from just after entry `from` up to just before entry `to`,
 * given that currency's entries in id order.
 */
export function balancesHeld(entries: readonly SeenEntry[], from: bigint, to: bigint | undefined): Set<bigint> {
  // The first entry after `from`, by binary search.
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (entries[mid]!.id <= from) lo = mid + 1;
    else hi = mid;
  }
  const held = new Set<bigint>([lo > 0 ? entries[lo - 1]!.balanceAfter : 0n]);
  for (let i = lo; i < entries.length && (to === undefined || entries[i]!.id < to); i++) held.add(entries[i]!.balanceAfter);
  return held;
}

/** Each currency's balance_after runs from zero by each entry's amount, never below zero. */
function checkChains(ledgerId: string, entries: readonly SeenEntry[]): Violation[] {
  const running = new Map<string, bigint>();
  const violations: Violation[] = [];
  for (const e of entries) {
    const next = (running.get(e.currency) ?? 0n) + e.amount;
    if (e.balanceAfter !== next) {
      violations.push(violation('order', `ledger ${ledgerId} ${e.currency}: entry ${e.id} (operation ${e.operationId}) says the balance became ${e.balanceAfter}; the entries before it and its amount make ${next}`));
    }
    if (e.balanceAfter < 0n) {
      violations.push(violation('order', `ledger ${ledgerId} ${e.currency}: entry ${e.id} (operation ${e.operationId}) overdrew the ledger to ${e.balanceAfter}, which allows no overdraft`));
    }
    running.set(e.currency, e.balanceAfter);
  }
  return violations;
}
