import { join } from 'node:path';
import { startChild, sleep, type Child } from './child.js';

/**
 * A redis-server of the run's own, as a child process on a port of its own, keeping nothing
 * on disk (no RDB, no AOF): killed and started again, it comes back empty, as a Redis that
 * lost its memory does. Only this child is ever killed, stopped or continued.
 */

const REDIS_SERVER = process.env['TALLY_CHAOS_REDIS_SERVER'] ?? 'redis-server';
const START_PATIENCE_MS = 20_000;

export class OwnRedis {
  readonly port: number;
  readonly #logPath: string;
  #child: Child | undefined;
  #frozen = false;

  constructor(runDir: string, port: number) {
    this.port = port;
    this.#logPath = join(runDir, 'redis.log');
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    this.#child = await startChild({
      name: 'redis-server',
      command: REDIS_SERVER,
      args: ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--daemonize', 'no'],
      logPath: this.#logPath,
      readyWhen: (line) => line.includes('Ready to accept connections'),
      patienceMs: START_PATIENCE_MS,
    });
  }

  /** SIGKILL, then a new, empty server on the same port. */
  async restartEmpty(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** SIGSTOP: the process stays, its connections stay open, and nothing answers. */
  freeze(): void {
    this.#child?.signal('SIGSTOP');
    this.#frozen = true;
  }

  thaw(): void {
    this.#child?.signal('SIGCONT');
    this.#frozen = false;
  }

  async freezeFor(ms: number): Promise<void> {
    this.freeze();
    try {
      await sleep(ms);
    } finally {
      this.thaw();
    }
  }

  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.done) return;
    child.signal('SIGKILL');
    if (this.#frozen) this.thaw();
    await child.exited;
  }
}
