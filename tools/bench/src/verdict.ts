import { formatByCode, type ErrorSummary } from './errors.js';
import type { Outcome } from './pg-counts.js';
import type { RunResults } from './results.js';

/**
 * What makes a run fail (exit 1) rather than merely miss targets: an audit finding, an error
 * that is not load shedding, or an operation that ended in a way the workload never asks for
 * (a credit that FAILED, a debit that failed for another reason than the funds).
 */

/** Failure reasons the --mixed workload provokes on purpose: debits and transfers beyond the balance. */
export const EXPECTED_FAILURE_REASONS: ReadonlySet<string> = new Set(['INSUFFICIENT_FUNDS']);

/** Operations that did not end as the workload expects: credits-only phases expect COMPLETED only. */
export function unexpectedOutcomes(outcomes: readonly Outcome[], mixed: boolean): Outcome[] {
  return outcomes.filter(
    (o) => o.status === 'CANCELLED' || (o.status === 'FAILED' && !(mixed && EXPECTED_FAILURE_REASONS.has(o.reason))),
  );
}

export function problemsOf(r: RunResults, mixed: boolean): string[] {
  const problems: string[] = [];
  const errors = (what: string, summary: ErrorSummary | undefined): void => {
    if (summary && summary.unexpected > 0) {
      problems.push(`${what}: ${summary.unexpected} unexpected errors (${formatByCode(summary.byCode)}): ${JSON.stringify(summary.messages)}`);
    }
  };
  const outcomes = (what: string, list: readonly Outcome[] | undefined, mixedPhase: boolean): void => {
    for (const o of unexpectedOutcomes(list ?? [], mixedPhase)) problems.push(`${what}: ${o.count} operations ended ${o.status} ${o.reason}`.trimEnd());
  };
  for (const [what, phase, mixedPhase] of [
    ['single submits, 8 in flight', r.single8, mixed],
    ['single submits, 64 in flight', r.single64, mixed],
    ['batched submits', r.batched, mixed],
    ['open loop', r.open, false],
    ['soak', r.soak?.load, false],
  ] as const) {
    errors(what, phase?.errors);
    outcomes(what, phase?.outcomes, mixedPhase);
  }
  errors('open loop watches', r.open?.watchErrors);
  errors('soak watches', r.soak?.load.watchErrors);
  errors('GetBalances', r.balances?.errors);
  errors('watches', r.watches?.endings);
  errors('watch probes', r.watches?.probeErrors);
  if (r.audit && !r.audit.passed) problems.push(`the audit failed (exit ${r.audit.exitCode}): see its report above`);
  return problems;
}
