import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Progress } from '../progress.js';
import { REPO_ROOT } from '../repo.js';

/**
 * The books after the load: `npm run audit`'s program (apps/server/dist/audit.js) on the
 * database the bench counted in, with the Redis of the environment; its report streams to
 * stderr as it runs. A benchmark whose load broke an invariant has no figures worth keeping.
 */
export interface AuditResult {
  readonly passed: boolean;
  readonly exitCode: number;
  readonly elapsedMs: number;
}

export async function runAudit(databaseUrl: string, progress: Progress): Promise<AuditResult> {
  const script = join(REPO_ROOT, 'apps/server/dist/audit.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: build the server first (npm run bench does)`);
  const startMs = Date.now();
  const child = spawn(process.execPath, [script], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => progress.say(`  audit | ${line}`));
  }
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  return { passed: exitCode === 0, exitCode, elapsedMs: Date.now() - startMs };
}
