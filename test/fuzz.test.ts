import { mkdirSync, writeFileSync } from 'node:fs';
import { startRatesMock, type RatesMock } from '@tally/rates-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSummary, namesTheField, runFuzz, type FuzzSummary } from './fuzz/runner.js';
import { startFuzzTarget, type FuzzTarget } from './fuzz/target.js';
import { testSeed } from './support/seed.js';
import { isolatedEnv } from './support/server.js';

/**
 * Hostile input over native gRPC, Connect JSON and Connect binary, generated with fast-check
 * (test/fuzz/): every RPC, valid requests with one field broken or the whole body, batches of
 * 1,001 and 100,000 items, and beside them deadlines expiring mid-call, clients vanishing
 * mid-stream, thousands of streams on one connection, slow and silent connections, oversized
 * bodies and rapid resets. `npm test` runs a short form (FUZZ_COUNT requests, 2,000 by
 * default); `npm run fuzz -- --count 100000` runs the long one and prints the same summary.
 *
 * Also read from the environment: TALLY_TEST_SEED (replay a run), FUZZ_CONCURRENCY (requests
 * in flight, 8), FUZZ_SCENARIOS (`off`, or names from test/fuzz/scenarios.ts, comma-separated),
 * FUZZ_PROGRESS (requests between progress lines), FUZZ_REPORT (a file for the summary as JSON).
 */

const COUNT = Number(process.env['FUZZ_COUNT'] ?? 2_000);
/** Heap growth from idle to after the run (after garbage collection) still called "near idle". */
const HEAP_SLACK_BYTES = 64 * 1024 * 1024;
/** Per request, on a busy two-core machine, with room to spare; plus the fixtures and scenarios. */
const TIMEOUT_MS = 120_000 + COUNT * 20;

const seed = testSeed();
let provider: RatesMock;
let target: FuzzTarget;

describe("the fuzzer's judgement of a refusal", () => {
  const refusal = (...fields: string[]) => ({ code: 'invalid_argument', message: '', violations: fields.map((field) => ({ field, description: 'bad' })) });

  it('asks for a BadRequest naming the broken field, or a field inside or around it', () => {
    expect(namesTheField({ brokenField: 'amount' }, { code: 'invalid_argument', message: 'amount is bad' })).toBe(false);
    expect(namesTheField({ brokenField: 'amount' }, refusal('currency'))).toBe(false);
    expect(namesTheField({ brokenField: 'transactions[1].amount' }, refusal('transactions[10].amount'))).toBe(false);
    expect(namesTheField({ brokenField: 'amount' }, refusal('amount'))).toBe(true);
    expect(namesTheField({ brokenField: 'metadata["k"]' }, refusal('metadata'))).toBe(true);
    expect(namesTheField({ brokenField: 'transactions' }, refusal('transactions[3].amount'))).toBe(true);
  });

  it('lets only a body broken as a whole be named by the empty field', () => {
    expect(namesTheField({ brokenField: 'amount' }, refusal(''))).toBe(false);
    expect(namesTheField({}, refusal(''))).toBe(false);
    expect(namesTheField({ brokenField: '' }, refusal(''))).toBe(true);
  });
});

describe('the server under fuzz', () => {
  beforeAll(async () => {
    provider = await startRatesMock({ port: 0 });
    target = await startFuzzTarget({ ...isolatedEnv('fuzz', 13), TALLY_RATES_URL: provider.url });
  });
  afterAll(async () => {
    await target?.stop();
    await provider?.close();
  });

  it(`never crashes, never answers INTERNAL, names the field of every refusal, and gives its memory back (${seed.replay})`, async () => {
    const summary = await runFuzz({
      target,
      count: COUNT,
      seed: seed.value,
      concurrency: Number(process.env['FUZZ_CONCURRENCY'] ?? 8),
      progressEvery: Number(process.env['FUZZ_PROGRESS'] ?? Math.max(1_000, Math.floor(COUNT / 20))),
      ...scenarioChoice(process.env['FUZZ_SCENARIOS']),
      onProgress: (s) => console.log(progressLine(s)),
      onScenario: (result, ms) => console.log(`fuzz: scenario ${result.name} ${result.problems.length === 0 ? 'held' : `had ${result.problems.length} problems`} (${ms} ms)`),
    });
    const report = describeSummary(summary);
    console.log(report);
    if (process.env['FUZZ_REPORT']) {
      mkdirSync('tmp', { recursive: true });
      writeFileSync(process.env['FUZZ_REPORT'], `${JSON.stringify(summary, null, 2)}\n`);
    }
    expect(summary.crashes, `${seed.replay}\n${report}`).toBe(0);
    expect(summary.requests, seed.replay).toBe(COUNT);
    expect(summary.internals, `${seed.replay}\n${report}`).toBe(0);
    expect(summary.unnamed, `${seed.replay}\n${report}`).toBe(0);
    expect(summary.scenarios.flatMap((s) => s.problems.map((p) => `${s.name}: ${p}`)), seed.replay).toEqual([]);
    // Error-level log lines are INTERNALs or worse, whatever the client was told.
    expect(target.errorLogs.slice(0, 5), seed.replay).toEqual([]);
    expect(summary.memory, seed.replay).toBeDefined();
    expect(summary.memory!.after.heapUsed, `${seed.replay}\n${report}`).toBeLessThan(summary.memory!.idle.heapUsed + HEAP_SLACK_BYTES);
  }, TIMEOUT_MS);
});

/** FUZZ_SCENARIOS: `off`, or the names of the scenarios to run (comma-separated); all when unset. */
function scenarioChoice(value: string | undefined): { scenarioEvery?: number; scenarioNames?: string[] } {
  if (value === undefined || value === '') return {};
  if (value === 'off') return { scenarioEvery: 0 };
  return { scenarioNames: value.split(',').map((name) => name.trim()) };
}

function progressLine(s: FuzzSummary): string {
  const codes = Object.entries(s.byCode)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  return `fuzz: ${s.requests} requests (${codes}); INTERNAL ${s.internals}, unnamed refusals ${s.unnamed}, crashes ${target.exits.length}`;
}
