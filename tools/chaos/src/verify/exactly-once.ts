import type { SubmitKind } from '../load/plan.js';
import type { SubmitRecord } from '../load/record.js';
import { TERMINAL, type Seen, type SeenKind, type SeenOperation } from './seen.js';
import { violation, type Violation } from './violation.js';

/**
 * Every acknowledged submit exists exactly once, is the operation its acknowledgement named,
 * and ended; a refused one does not exist; a given-up one exists at most once; and nothing
 * exists that no client submitted. A transaction id is unique per ledger, so a submit is
 * found by its ledger and transaction id.
 */

/** A submit and the operation it became (acknowledged, or accepted after the client gave up). */
export interface Accepted {
  readonly record: SubmitRecord;
  readonly operation: SeenOperation;
  /** The client gave up on it, yet it was recorded: its place in its ledger's order is unknown. */
  readonly late: boolean;
}

export interface ExactlyOnceResult {
  readonly accepted: Accepted[];
  readonly violations: Violation[];
  /** Given up by the client and never recorded. */
  readonly gaveUpAbsent: number;
}

const KIND_OF: Readonly<Record<SubmitKind, SeenKind>> = { CREDIT: 'TRANSACTION', DEBIT: 'TRANSACTION', TRANSFER: 'TRANSFER', EXCHANGE: 'EXCHANGE' };

/** Refusals a valid submit can get in this run: a quote that expired while the client retried. */
export function expectedRefusal(record: SubmitRecord): boolean {
  return record.outcome.kind === 'refused' && record.quote !== undefined && record.outcome.code === 'FAILED_PRECONDITION' && record.outcome.reason === 'QUOTE_EXPIRED';
}

const keyOf = (ledgerId: string, transactionId: string): string => `${ledgerId} ${transactionId}`;
const describe = (r: SubmitRecord): string => `${r.kind} ${r.transactionId} on ledger ${r.ledgerId}`;

export function checkExactlyOnce(records: readonly SubmitRecord[], seen: Seen): ExactlyOnceResult {
  const byKey = new Map<string, SeenOperation[]>();
  for (const op of seen.operations.values()) {
    const key = keyOf(op.ledgerId, op.transactionId);
    byKey.set(key, [...(byKey.get(key) ?? []), op]);
  }
  const violations: Violation[] = [];
  const accepted: Accepted[] = [];
  const submitted = new Set<string>();
  let gaveUpAbsent = 0;
  for (const record of records) {
    const key = keyOf(record.ledgerId, record.transactionId);
    submitted.add(key);
    const found = byKey.get(key) ?? [];
    const outcome = record.outcome;
    if (outcome.kind === 'refused') {
      if (found.length > 0) violations.push(violation('refusal', `${describe(record)} was refused (${outcome.code} ${outcome.reason ?? ''}: ${outcome.message}) yet exists as operation ${found.map((o) => o.id).join(', ')}`));
      else if (!expectedRefusal(record)) violations.push(violation('refusal', `${describe(record)}, a valid request, was refused: ${outcome.code} ${outcome.reason ?? ''} ${outcome.message}`));
      continue;
    }
    if (outcome.kind === 'gave-up' && found.length === 0) {
      gaveUpAbsent++;
      continue;
    }
    if (found.length !== 1) {
      violations.push(violation('exactly-once', `${describe(record)}, acknowledged as operation ${outcome.kind === 'acknowledged' ? outcome.operationId : '(none)'}, exists ${found.length} times${found.length > 0 ? `: ${found.map((o) => o.id).join(', ')}` : ''}`));
      continue;
    }
    const operation = found[0]!;
    if (outcome.kind === 'acknowledged') {
      if (outcome.ledgerId !== record.ledgerId || outcome.transactionId !== record.transactionId) {
        violations.push(violation('exactly-once', `${describe(record)} was acknowledged with operation ${outcome.operationId} of ${outcome.transactionId} on ledger ${outcome.ledgerId}`));
      }
      if (outcome.operationId !== operation.id) {
        violations.push(violation('exactly-once', `${describe(record)} was acknowledged as operation ${outcome.operationId}, but its transaction id belongs to operation ${operation.id}`));
      }
    }
    const problem = shapeProblem(record, operation);
    if (problem) violations.push(violation('exactly-once', `${describe(record)} (operation ${operation.id}) ${problem}`));
    accepted.push({ record, operation, late: outcome.kind === 'gave-up' });
  }
  for (const op of seen.operations.values()) {
    if (!submitted.has(keyOf(op.ledgerId, op.transactionId))) {
      violations.push(violation('phantom', `operation ${op.id} (${op.kind} ${op.transactionId} on ledger ${op.ledgerId}) was never submitted`));
    }
  }
  return { accepted, violations, gaveUpAbsent };
}

function shapeProblem(record: SubmitRecord, op: SeenOperation): string | undefined {
  if (op.kind !== KIND_OF[record.kind]) return `is a ${op.kind}, not a ${KIND_OF[record.kind]}`;
  if (record.kind === 'TRANSFER' && op.toLedgerId !== record.toLedgerId) return `goes to ledger ${op.toLedgerId}, not ${record.toLedgerId}`;
  if (!TERMINAL.has(op.status)) return `is still ${op.status}`;
  if (op.status === 'CANCELLED') return 'is CANCELLED, yet nobody cancelled it';
  return undefined;
}
