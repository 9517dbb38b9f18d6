import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Tally as users run it: the built server (`apps/server/dist/main.js`, made by `npm test`'s
 * build step) in a process of its own, which a test can SIGKILL or SIGTERM.
 */
export interface TallyProcess {
  readonly child: ChildProcess;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly exited: Promise<number | string>;
}

/** `nodeArgs` go to node before the script (the fuzz suite's memory probe: `--expose-gc --import ...`). */
export async function spawnTally(env: Record<string, string>, patienceMs = 30_000, nodeArgs: readonly string[] = []): Promise<TallyProcess> {
  const child = spawn(process.execPath, [...nodeArgs, 'apps/server/dist/main.js'], {
    env: { ...process.env, TALLY_GRPC_PORT: '0', TALLY_HTTP_PORT: '0', TALLY_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const ready = new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tally did not start in time')), patienceMs);
    void exited.then((how) => reject(new Error(`tally exited (${how}) before it was running`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { msg?: string; grpcPort?: number; httpPort?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg === 'tally is running' && entry.grpcPort && entry.httpPort) {
        clearTimeout(timer);
        resolve({ grpcPort: entry.grpcPort, httpPort: entry.httpPort });
      }
    });
  });
  return { child, exited, ...(await ready) };
}
