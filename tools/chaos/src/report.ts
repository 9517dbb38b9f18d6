import { writeFileSync } from 'node:fs';
import { FAULT_KINDS, type FaultKind } from './faults/schedule.js';
import type { InjectedFault } from './faults/inject.js';
import type { LoadCounts } from './load/clients.js';
import type { ChaosOptions } from './options.js';
import type { UnplannedExit } from './processes/tally.js';
import type { Verdict } from './verify/verdict.js';
import type { Violation } from './verify/violation.js';

/** What a run did and found: the table on stdout, and the same as JSON with --json. */
export interface RunSummary {
  readonly options: ChaosOptions;
  readonly startedAt: Date;
  readonly totalMs: number;
  readonly loadMs: number;
  /** Undefined when patience ran out first. */
  readonly settleMs: number | undefined;
  readonly load: LoadCounts;
  readonly faults: readonly InjectedFault[];
  readonly tallyStarts: ReadonlyMap<string, number>;
  readonly unplannedExits: readonly UnplannedExit[];
  readonly startFailures: readonly string[];
  readonly verdict: Verdict;
  readonly audit: { readonly passed: boolean; readonly code: number; readonly output: string };
  /** Every violation: the verdict's and the audit's, settling's and crashes'. */
  readonly violations: readonly Violation[];
}

/** Violations listed in the table; the JSON has them all. */
const MAX_LISTED = 50;

export function faultCounts(faults: readonly InjectedFault[]): Map<FaultKind, number> {
  const counts = new Map<FaultKind, number>(FAULT_KINDS.map((k) => [k, 0]));
  for (const f of faults) counts.set(f.kind, counts.get(f.kind)! + 1);
  return counts;
}

export function formatReport(s: RunSummary): string {
  const o = s.options;
  const v = s.verdict;
  const faults = faultCounts(s.faults);
  const failed = sum(v.failedByReason.values());
  const refused = sum(v.refusedByReason.values());
  const unanswered = sum(s.load.unansweredTries.values());
  const rows: Array<[string, string]> = [
    ['ran', `${seconds(s.totalMs)}: load ${seconds(s.loadMs)}, then settling and checks`],
    ['load', `${o.ledgers} ledgers (USD, EUR, JPY), ${o.clients} clients, ${o.ratePerS} submits/s planned`],
    ['submitted', count(s.load.submitted)],
    ['accepted', `${count(v.accepted)} (acknowledged ${count(s.load.acknowledged)}; recorded although the client gave up ${count(v.acceptedAfterGivingUp)})`],
    ['completed', count(v.completed)],
    ['failed', `${count(failed)}${byName(v.failedByReason)}`],
    ['refused', `${count(refused)}${byName(v.refusedByReason)}`],
    ['given up, not recorded', count(v.gaveUpAbsent)],
    ['unanswered tries', `${count(unanswered)}${byName(s.load.unansweredTries)} (each retried with the same transaction id)`],
    ['quotes unavailable', `${count(s.load.quotesUnavailable)} (those exchanges went at the current rate)`],
    ['faults', `${count(s.faults.length)}: ${FAULT_KINDS.map((k) => `${k} ${faults.get(k)}`).join(', ')}`],
    ['Tally starts', `${[...s.tallyStarts].map(([role, n]) => `${role} ${n}`).join(', ')}; failed starts ${s.startFailures.length}; unplanned exits ${s.unplannedExits.length}`],
    ['order', `${count(v.placedInOrder)} operations placed in their ledger's order; ${count(v.failuresPlacedInOrder)} INSUFFICIENT_FUNDS failures placed`],
    ['time to settle', s.settleMs === undefined ? `not settled within ${seconds(o.settlePatienceMs)}` : seconds(s.settleMs)],
    ['audit', `${s.audit.passed ? 'passed' : `FAILED (exit ${s.audit.code})`}${auditSummary(s.audit.output)}`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  const narrowed = o.faultKinds.length < FAULT_KINDS.length ? ` --only ${o.faultKinds.join(',')}` : '';
  const lines = [`npm run chaos: seed ${o.seed} (replay with --seed ${o.seed}${o.short ? ' --short' : ''}${narrowed})`, ...rows.map(([name, value]) => `  ${name.padEnd(width)}${value}`)];
  lines.push(`violations: ${s.violations.length}`);
  for (const x of s.violations.slice(0, MAX_LISTED)) lines.push(`  [${x.check}] ${x.message}`);
  if (s.violations.length > MAX_LISTED) lines.push(`  ... and ${s.violations.length - MAX_LISTED} more (all of them with --json)`);
  return lines.join('\n');
}

export function summaryJson(s: RunSummary): unknown {
  const v = s.verdict;
  return {
    seed: s.options.seed,
    options: s.options,
    startedAt: s.startedAt.toISOString(),
    totalMs: s.totalMs,
    loadMs: s.loadMs,
    settleMs: s.settleMs ?? null,
    submitted: s.load.submitted,
    acknowledged: s.load.acknowledged,
    accepted: v.accepted,
    acceptedAfterGivingUp: v.acceptedAfterGivingUp,
    gaveUpAbsent: v.gaveUpAbsent,
    completed: v.completed,
    failedByReason: Object.fromEntries(v.failedByReason),
    refusedByReason: Object.fromEntries(v.refusedByReason),
    unansweredTriesByCode: Object.fromEntries(s.load.unansweredTries),
    quotesUnavailable: s.load.quotesUnavailable,
    faultsByKind: Object.fromEntries(faultCounts(s.faults)),
    faults: s.faults,
    tallyStarts: Object.fromEntries(s.tallyStarts),
    unplannedExits: s.unplannedExits,
    startFailures: s.startFailures,
    placedInOrder: v.placedInOrder,
    failuresPlacedInOrder: v.failuresPlacedInOrder,
    audit: s.audit,
    violations: s.violations,
  };
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, (_, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2)}\n`);
}

/** The audit's last line: how many it checked, how many in flight. */
function auditSummary(output: string): string {
  const last = output
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.includes('ended operations checked'));
  return last ? ` (${last.trim()})` : '';
}

const sum = (values: Iterable<number>): number => [...values].reduce((a, b) => a + b, 0);
const count = (n: number): string => n.toLocaleString('en-US');
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function byName(counts: ReadonlyMap<string, number>): string {
  if (counts.size === 0) return '';
  return `: ${[...counts].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${count(n)}`).join(', ')}`;
}
