import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './options.js';
import { formatReport, summaryJson, type RunSummary } from './report.js';

const options = (() => {
  const parsed = parseCommandLine(['--short', '--seed', '77']);
  if (parsed.kind !== 'run') throw new Error('bad options');
  return parsed.options;
})();

function summary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    options,
    startedAt: new Date('2026-01-01T00:00:00Z'),
    totalMs: 40_000,
    loadMs: 20_000,
    settleMs: 1_500,
    load: { submitted: 1_200, acknowledged: 1_190, refused: 0, gaveUp: 10, unansweredTries: new Map([['UNAVAILABLE', 80]]), quotesUnavailable: 4 },
    faults: [
      { kind: 'kill-api', atMs: 12_000, tookMs: 2_000, detail: 'killed api, down 300 ms, back as all' },
      { kind: 'redis-freeze', atMs: 15_000, tookMs: 1_000, detail: 'stopped 1000 ms' },
    ],
    tallyStarts: new Map([
      ['api', 1],
      ['all', 1],
      ['worker', 1],
    ]),
    unplannedExits: [],
    startFailures: [],
    verdict: {
      accepted: 1_192,
      acceptedAfterGivingUp: 2,
      gaveUpAbsent: 8,
      completed: 1_000,
      failedByReason: new Map([['INSUFFICIENT_FUNDS', 192]]),
      refusedByReason: new Map(),
      placedInOrder: 990,
      failuresPlacedInOrder: 180,
      violations: [],
    },
    audit: { passed: true, code: 0, output: 'ok   postings that do not balance: none\n1192 ended operations checked; 0 in flight\n' },
    violations: [],
    ...overrides,
  };
}

describe('the report', () => {
  it('says what was done, what broke and what was found, ending with the violations line', () => {
    const text = formatReport(summary());
    expect(text).toContain('npm run chaos: seed 77 (replay with --seed 77 --short)');
    expect(text).toMatch(/accepted +1,192 \(acknowledged 1,190; recorded although the client gave up 2\)/);
    expect(text).toMatch(/failed +192: INSUFFICIENT_FUNDS 192/);
    expect(text).toMatch(/faults +2: kill-api 1, kill-worker 0, kill-both 0, redis-restart 0, postgres-restart 0, redis-freeze 1, provider-cut 0/);
    expect(text).toMatch(/time to settle +1\.5 s/);
    expect(text).toMatch(/audit +passed \(1192 ended operations checked; 0 in flight\)/);
    expect(text.split('\n').at(-1)).toBe('violations: 0');
  });

  it('lists each violation under its check', () => {
    const text = formatReport(summary({ violations: [{ check: 'balance', message: 'ledger L USD: GetBalances says 5, the client-side model 6 (off by -1)' }], settleMs: undefined }));
    expect(text).toContain('violations: 1\n  [balance] ledger L USD: GetBalances says 5');
    expect(text).toMatch(/time to settle +not settled within 60\.0 s/);
  });

  it('writes the same as JSON, counts by name', () => {
    expect(summaryJson(summary())).toMatchObject({
      seed: 77,
      accepted: 1_192,
      failedByReason: { INSUFFICIENT_FUNDS: 192 },
      faultsByKind: { 'kill-api': 1, 'redis-freeze': 1, 'provider-cut': 0 },
      unansweredTriesByCode: { UNAVAILABLE: 80 },
      settleMs: 1_500,
      violations: [],
    });
  });
});
