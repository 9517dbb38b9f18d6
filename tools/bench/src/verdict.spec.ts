import { describe, expect, it } from 'vitest';
import { ErrorTally } from './errors.js';
import { fullResults, openPhase, submitPhase } from './results.testing.js';
import { problemsOf, unexpectedOutcomes } from './verdict.js';

const errorsOf = (...codes: string[]) => {
  const tally = new ErrorTally();
  codes.forEach((code) => tally.add(code, `${code.toLowerCase()} happened`));
  return tally.summary();
};

describe('unexpectedOutcomes', () => {
  const outcomes = [
    { status: 'COMPLETED', reason: '', count: 90 },
    { status: 'FAILED', reason: 'INSUFFICIENT_FUNDS', count: 8 },
    { status: 'FAILED', reason: 'RETRIES_EXHAUSTED', count: 1 },
    { status: 'CANCELLED', reason: '', count: 1 },
  ];

  it('expects only COMPLETED of credits', () => {
    expect(unexpectedOutcomes(outcomes, false).map((o) => o.reason || o.status)).toEqual(['INSUFFICIENT_FUNDS', 'RETRIES_EXHAUSTED', 'CANCELLED']);
  });

  it('expects overdrawn debits to fail INSUFFICIENT_FUNDS in the mix, and nothing else to fail', () => {
    expect(unexpectedOutcomes(outcomes, true).map((o) => o.reason || o.status)).toEqual(['RETRIES_EXHAUSTED', 'CANCELLED']);
  });
});

describe('problemsOf', () => {
  it('finds nothing wrong with a clean run, however many targets it missed', () => {
    expect(problemsOf(fullResults(), false)).toEqual([]);
  });

  it('reports load shedding without failing the run', () => {
    const results = { ...fullResults(), single64: submitPhase('single64', { errors: errorsOf('DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED') }) };
    expect(problemsOf(results, false)).toEqual([]);
  });

  it('fails on errors that mean something broke, wherever they happened', () => {
    const results = {
      ...fullResults(),
      single8: submitPhase('single8', { errors: errorsOf('UNAVAILABLE', 'UNAVAILABLE', 'DEADLINE_EXCEEDED') }),
      open: openPhase({ watchErrors: errorsOf('INTERNAL') }),
    };
    results.watches = { ...results.watches!, endings: errorsOf('UNAVAILABLE') };
    const problems = problemsOf(results, false);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^single submits, 8 in flight: 2 unexpected errors \(DEADLINE_EXCEEDED 1, UNAVAILABLE 2\)/);
    expect(problems[1]).toMatch(/^open loop watches: 1 unexpected errors \(INTERNAL 1\)/);
    expect(problems[2]).toMatch(/^watches: 1 unexpected errors \(UNAVAILABLE 1\)/);
  });

  it('fails on operations that ended in a way the workload does not ask for, and on a failed audit', () => {
    const results = {
      ...fullResults(),
      batched: submitPhase('batched', { outcomes: [{ status: 'FAILED', reason: 'RETRIES_EXHAUSTED', count: 3 }] }),
      audit: { passed: false, exitCode: 1, elapsedMs: 10 },
    };
    expect(problemsOf(results, true)).toEqual([
      'batched submits: 3 operations ended FAILED RETRIES_EXHAUSTED',
      'the audit failed (exit 1): see its report above',
    ]);
  });
});
