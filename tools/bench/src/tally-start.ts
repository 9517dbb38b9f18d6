import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Progress } from './progress.js';
import { REPO_ROOT } from './repo.js';

/**
 * `--start`: Tally as `npm start` runs it (tools/start.sh: dependencies, services, build,
 * migrations, the mock rate provider), in the background with the bench's environment and
 * ports, until the bench is done.
 */

/** Start-up may include a build and migrations. */
export const START_PATIENCE_MS = 300_000;
/** After SIGTERM, how long Tally may take to finish its batch and release its partitions. */
export const STOP_PATIENCE_MS = 30_000;
const READY_POLL_MS = 500;

export interface StartedTally {
  stop(): Promise<void>;
}

export async function startTally(env: Record<string, string>, httpPort: number, progress: Progress): Promise<StartedTally> {
  const child = spawn('bash', [join(REPO_ROOT, 'tools/start.sh')], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  let exited: number | string | undefined;
  child.once('exit', (code, signal) => (exited = code ?? signal ?? 'unknown'));
  const startMs = Date.now();
  const line = progress.begin('starting', START_PATIENCE_MS, () => ({ done: 0, errors: 0, note: `waiting for GET :${httpPort}/readyz = 200` }), 'ready');
  try {
    for (;;) {
      if (exited !== undefined) throw new Error(`tools/start.sh exited (${exited}) before Tally was ready`);
      if (Date.now() - startMs > START_PATIENCE_MS) throw new Error(`Tally was not ready within ${START_PATIENCE_MS / 1000} s`);
      if (await ready(httpPort)) break;
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
  } catch (error) {
    await stop(child);
    throw error;
  } finally {
    line.end();
  }
  progress.say(`Tally started (tools/start.sh, pid ${child.pid}) in ${((Date.now() - startMs) / 1000).toFixed(1)} s`);
  return { stop: () => stop(child) };
}

async function ready(httpPort: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${httpPort}/readyz`, { signal: AbortSignal.timeout(2_000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

/** SIGTERM (start.sh forwards it to Tally and waits), then SIGKILL if it takes too long. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_PATIENCE_MS);
  await exited;
  clearTimeout(timer);
}
