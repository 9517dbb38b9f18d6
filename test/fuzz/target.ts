import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { spawnTally, type TallyProcess } from '../support/process.js';

/**
 * The Tally under fuzz: the built server in a process of its own (as users run it), so a crash
 * is seen as an exit rather than taking the fuzzer down, and its memory is its own. A probe
 * loaded beside it (memory-probe.mjs) collects garbage and reports memory on request.
 */
export interface FuzzTarget {
  readonly grpcAddress: string;
  readonly httpUrl: string;
  readonly pid: number;
  /** Every exit seen since start (a crash, unless `stop` asked for it). */
  readonly exits: ReadonlyArray<number | string>;
  /** Log lines at error level or above, as the server wrote them. */
  readonly errorLogs: readonly string[];
  isRunning(): boolean;
  /** Heap and RSS after a full garbage collection, in bytes. */
  memory(): Promise<MemorySample>;
  stop(): Promise<void>;
}

export interface MemorySample {
  readonly rss: number;
  readonly heapUsed: number;
}

const PROBE = fileURLToPath(new URL('./memory-probe.mjs', import.meta.url));
/** pino's number for `error`. */
const PINO_ERROR = 50;
const PROBE_PATIENCE_MS = 10_000;

export async function startFuzzTarget(env: Record<string, string>): Promise<FuzzTarget> {
  const tally: TallyProcess = await spawnTally(env, 60_000, ['--expose-gc', '--import', PROBE]);
  const exits: Array<number | string> = [];
  const errorLogs: string[] = [];
  let running = true;
  let stopping = false;
  void tally.exited.then((how) => {
    running = false;
    if (!stopping) exits.push(how);
  });
  const probes: Array<(sample: MemorySample) => void> = [];
  createInterface({ input: tally.child.stdout! }).on('line', (line) => {
    let entry: { msg?: string; level?: number; rss?: number; heapUsed?: number };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    if (entry.msg === 'fuzz memory probe') probes.shift()?.({ rss: entry.rss ?? 0, heapUsed: entry.heapUsed ?? 0 });
    else if ((entry.level ?? 0) >= PINO_ERROR && errorLogs.length < 1_000) errorLogs.push(line);
  });
  return {
    grpcAddress: `127.0.0.1:${tally.grpcPort}`,
    httpUrl: `http://127.0.0.1:${tally.httpPort}`,
    pid: tally.child.pid ?? -1,
    exits,
    errorLogs,
    isRunning: () => running,
    memory: () =>
      new Promise<MemorySample>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the memory probe did not answer')), PROBE_PATIENCE_MS);
        probes.push((sample) => {
          clearTimeout(timer);
          resolve(sample);
        });
        tally.child.kill('SIGUSR2');
      }),
    async stop() {
      stopping = true;
      if (running) tally.child.kill('SIGTERM');
      await tally.exited;
    },
  };
}
