import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRatesMock, type RatesMock } from '@tally/rates-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, startTestServer, type TestServer } from './support/server.js';

/**
 * `npm run bench` end to end, as a smoke test: the built bench (`npm test` builds it) runs
 * --quick --mixed against a Tally of this suite's own, as a separate process, and leaves
 * every figure in its JSON. Nothing here asserts a speed: speed is what the benchmark
 * reports, not what a test on a busy machine can promise. What it asserts is that the
 * figures exist, that PostgreSQL agrees with the client, and that the books still balance.
 */
const BENCH = 'tools/bench/dist/main.js';
const env = isolatedEnv('bench', 12);
let provider: RatesMock;
let t: TestServer;
let dir: string;

beforeAll(async () => {
  provider = await startRatesMock({ port: 0 });
  t = await startTestServer({ ...env, TALLY_RATES_URL: provider.url });
  dir = mkdtempSync(join(tmpdir(), 'tally-bench-'));
});
afterAll(async () => {
  await t?.stop();
  await provider?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface BenchRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The bench as users run it, in a process of its own (the server it measures is this one). */
function bench(args: string[]): Promise<BenchRun> {
  const child = spawn(process.execPath, [BENCH, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every figure a --quick run (no soak) reports. */
const FIGURES = [
  'baseline_tps',
  'setup_s',
  ...['single8', 'single64', 'batched'].flatMap((p) =>
    ['accepted_per_s', 'completed_per_s', 'p50_ms', 'p95_ms', 'p99_ms', 'errors', 'drain_s', 'settle_s', 'bench_cpu_pct', 'server_cpu_pct'].map((f) => `${p}_${f}`),
  ),
  'open_rate_per_s',
  'open_accepted_per_s',
  'open_p50_ms',
  'open_p99_ms',
  'open_completed_p50_ms',
  'open_completed_p99_ms',
  'open_never_seen_completed',
  'open_send_lag_p99_ms',
  'open_skipped',
  'open_errors',
  'balances_per_s',
  'balances_p50_ms',
  'balances_p99_ms',
  'balances_errors',
  'watches_opened',
  'watches_held',
  'watches_ended_early',
  'watches_not_delivered',
  'watches_without_probe',
  'watches_delivery_p50_ms',
  'watches_delivery_p99_ms',
  'watches_rss_mb',
  'rss_peak_mb',
  ...['setup', 'single8', 'single64', 'batched', 'open', 'balances', 'watches'].map((p) => `rss_after_${p}_mb`),
];

describe('npm run bench', () => {
  it('refuses bad options with one message each, before running anything', async () => {
    const run = await bench(['--ledgers', 'many', '--grpc', 'nowhere', '--json', join(dir, 'missing-dir', 'x.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--ledgers "many" must be a whole number');
    expect(run.stderr).toContain('--grpc "nowhere" must be host:port');
    expect(run.stderr).toContain('its directory does not exist or is not writable');
    expect(run.stdout).toBe('');
  });

  it('measures every phase of a quick run, counts what the client was told in PostgreSQL, and leaves the books balanced', async () => {
    expect(existsSync(BENCH), `${BENCH} is built by npm test's build step (or: npx nx run @tally/bench:build)`).toBe(true);
    const json = join(dir, 'bench.json');
    const run = await bench([
      '--quick',
      '--mixed',
      '--baseline-seconds', '2',
      '--json', json,
      '--grpc', t.grpcAddress,
      '--http-port', new URL(t.httpUrl).port,
      '--database-url', env.DATABASE_URL,
      '--pid', String(process.pid),
    ]);
    expect(existsSync(json), run.stderr).toBe(true);
    const report = JSON.parse(readFileSync(json, 'utf8'));

    // Every figure, a finite number.
    expect(Object.keys(report.figures)).toEqual(expect.arrayContaining(FIGURES));
    for (const [key, value] of Object.entries(report.figures)) expect(Number.isFinite(value), key).toBe(true);
    expect(report.figures.watches_opened).toBe(200);
    const w = report.results.watches;
    expect(w.held + w.endedEarly + w.notDelivered + w.withoutProbe).toBe(w.opened);
    expect(report.serverPid).toBe(process.pid);
    expect(report.postgres.fsync).toMatch(/^(on|off)$/);

    // What the client was answered OK for is exactly what PostgreSQL accepted, phase by phase.
    for (const phase of ['single8', 'single64', 'batched', 'open']) {
      const r = report.results[phase];
      expect(r.clientOk, phase).toBeGreaterThan(0);
      expect(r.accepted, phase).toBe(r.clientOk);
      expect(r.completed, phase).toBeLessThanOrEqual(r.accepted);
      expect(r.leftInFlight, phase).toBe(0);
      const ended = r.outcomes.reduce((n: number, o: { count: number }) => n + o.count, 0);
      expect(ended, phase).toBe(r.accepted);
    }
    // The mix ends as it should: applied, or refused for want of funds.
    const statuses = report.results.single64.outcomes.map((o: { status: string; reason: string }) => `${o.status} ${o.reason}`.trim());
    expect(statuses).toContain('COMPLETED');
    for (const status of statuses) expect(['COMPLETED', 'FAILED INSUFFICIENT_FUNDS']).toContain(status);
    expect(report.results.open.neverSeenCompleted).toBe(0);

    // The audit ran on this suite's database, and passed.
    expect(report.audit).toMatchObject({ passed: true, exitCode: 0 });
    expect(run.stderr).toContain('audit | ok   currencies whose entries do not sum to zero: none');
    expect(run.stdout).toMatch(/^audit: passed$/m);
    expect(run.code).toBe(report.exitCode);
    if (run.code !== 0) expect(report.problems.length, run.stderr).toBeGreaterThan(0);
  }, 240_000);
});
