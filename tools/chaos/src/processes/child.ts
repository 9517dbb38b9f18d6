import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * A process the run started, with its output appended to a log file of its own. Only the
 * processes made here are ever signalled: the run touches nothing it did not start.
 */
export interface Child {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code, or the signal that ended it. */
  readonly exited: Promise<number | string>;
  /** Whether it has exited. */
  readonly done: boolean;
  /** Its last lines of output (stdout and stderr), oldest first. */
  lastLines(): string[];
  signal(signal: NodeJS.Signals): void;
}

export interface SpawnOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Added to this process's environment, or all of it when `ownEnvOnly`. */
  readonly env?: Readonly<Record<string, string>>;
  readonly ownEnvOnly?: boolean;
  readonly cwd?: string;
  readonly logPath: string;
  /** Resolves the start once a line of its output passes this test. */
  readonly readyWhen?: (line: string) => boolean;
  /** How long it may take to print that line. */
  readonly patienceMs?: number;
}

const DEFAULT_PATIENCE_MS = 60_000;
/** Lines of output kept in memory per process, to say why it ended. */
const KEPT_LINES = 40;
/** How much of a line an error message quotes. */
const MAX_QUOTED_CHARS = 400;

export async function startChild(options: SpawnOptions): Promise<Child> {
  const log = createWriteStream(options.logPath, { flags: 'a' });
  const spawned = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.ownEnvOnly ? { ...options.env } : { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = wrap(options.name, spawned, log);
  const ready = new Promise<void>((resolve, reject) => {
    if (!options.readyWhen) return resolve();
    const patienceMs = options.patienceMs ?? DEFAULT_PATIENCE_MS;
    const timer = setTimeout(() => reject(new Error(`${options.name} did not start within ${patienceMs / 1000} s (log: ${options.logPath})`)), patienceMs);
    void child.exited.then((how) => {
      clearTimeout(timer);
      const last = child.lastLines().at(-1)?.slice(0, MAX_QUOTED_CHARS);
      reject(new Error(`${options.name} exited (${how}) before it was ready (log: ${options.logPath})${last ? `; its last line: ${last}` : ''}`));
    });
    const test = options.readyWhen;
    child.onLine((line) => {
      if (test(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  try {
    await ready;
  } catch (error) {
    child.signal('SIGKILL');
    await child.exited;
    throw error;
  }
  return child;
}

function wrap(name: string, spawned: ChildProcess, log: WriteStream): Child & { onLine(listener: (line: string) => void): void } {
  spawned.stdout!.pipe(log, { end: false });
  spawned.stderr!.pipe(log, { end: false });
  const kept: string[] = [];
  const listeners: Array<(line: string) => void> = [];
  for (const stream of [spawned.stdout!, spawned.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      kept.push(line);
      if (kept.length > KEPT_LINES) kept.shift();
      for (const listener of listeners) listener(line);
    });
  }
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    spawned.once('error', (error) => {
      log.write(`\n[chaos] ${name} could not run: ${error.message}\n`);
    });
    spawned.once('close', (code, signal) => {
      done = true;
      log.end();
      resolve(code ?? signal ?? -1);
    });
  });
  if (spawned.pid === undefined) throw new Error(`${name} could not be started`);
  const pid = spawned.pid;
  return {
    name,
    pid,
    exited,
    get done() {
      return done;
    },
    lastLines: () => [...kept],
    onLine: (listener) => void listeners.push(listener),
    signal(signal) {
      if (!done) spawned.kill(signal);
    },
  };
}

/**
 * Runs a command to its end; resolves with its exit code and output (stdout then stderr).
 * Resolves at its exit even if something it started keeps its output open (a daemon).
 */
export function runCommand(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  timeoutMs = 120_000,
  ownEnvOnly = false,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { env: ownEnvOnly ? { ...env } : { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const finish = (code: number) => {
      clearTimeout(timer);
      resolve({ code, output: stdout + stderr });
    };
    child.once('error', (error) => {
      stderr += error.message;
      finish(127);
    });
    child.once('exit', (code, signal) => {
      const exitCode = code ?? (signal ? 128 : 1);
      // The last output may still be on its way: wait for the streams, but not for a daemon that inherited them.
      const grace = setTimeout(() => finish(exitCode), OUTPUT_GRACE_MS);
      child.once('close', () => {
        clearTimeout(grace);
        finish(exitCode);
      });
    });
  });
}

const OUTPUT_GRACE_MS = 1_000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
