import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * `npm run chaos -- --short` end to end: the built tool (`npm test` builds it) starts its own
 * PostgreSQL, Redis, rate provider and Tally processes, kills, restarts, freezes and cuts each
 * of them at least once under load, and proves the books afterwards. It touches neither the
 * suite's database nor its Redis. What is asserted is its verdict: the run completed, found
 * no violation, and Tally's audit passed.
 */
const CHAOS = 'tools/chaos/dist/main.js';

function chaos(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CHAOS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run chaos -- --short', () => {
  it('injects every kind of fault under load and finds the books whole', { timeout: 180_000 }, async () => {
    const run = await chaos(['--short']);
    // On failure, the whole report and progress say what broke.
    expect([run.code, run.stdout, run.stderr]).toEqual([0, expect.stringMatching(/^violations: 0$/m), expect.any(String)]);
    for (const kind of ['kill-api', 'kill-worker', 'kill-both', 'redis-restart', 'postgres-restart', 'redis-freeze', 'provider-cut']) {
      expect(run.stdout).toMatch(new RegExp(`${kind} [1-9]`));
    }
    expect(run.stdout).toMatch(/audit +passed/);
    expect(run.stdout).toMatch(/completed +[1-9]/);
  });
});
