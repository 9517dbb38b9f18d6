import { join } from 'node:path';
import type { Random } from '../random.js';
import { runCommand, sleep, startChild, type Child } from './child.js';
import { REPO_ROOT } from './repo.js';

/**
 * Tally as its operators run it, apart: an API process (`apps/server`, TALLY_ROLE=api, or
 * sometimes TALLY_ROLE=all, the API and a worker in one process) and a worker process
 * (`apps/worker`), each built, each on the run's own PostgreSQL, Redis and rate provider.
 * The API keeps its ports across restarts, so clients reconnect to the same address.
 *
 * A process that exits without being killed by the run is an unplanned exit: recorded, and
 * started again, as a supervisor (systemd, Kubernetes) would.
 */

export type TallySlot = 'api' | 'worker';
export type ApiRole = 'api' | 'all';

export interface TallyAddresses {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly ratesUrl: string;
  readonly grpcPort: number;
  readonly httpPort: number;
}

export interface UnplannedExit {
  readonly slot: TallySlot;
  readonly role: string;
  readonly pid: number;
  readonly how: number | string;
  readonly atMs: number;
  /** The last error it logged, if any: why it went. */
  readonly lastError: string | undefined;
}

/** How often the API process is started as TALLY_ROLE=all rather than api. */
const ALL_ROLE_CHANCE = 1 / 3;
/** A start (migrations included) may take this long on a busy machine. */
const START_PATIENCE_MS = 60_000;
/** Tries to start a process before the run gives up on it, and the pause between two. */
const START_ATTEMPTS = 5;
const START_RETRY_PAUSE_MS = 1_000;
/** The audit reads every operation and entry: long runs make big books. */
const AUDIT_PATIENCE_MS = 600_000;

/**
 * Rates are cached briefly and used stale only briefly, so that a cut of the provider reaches
 * exchanges within the run's faults (the defaults would ride out a cut on the cache).
 */
const RATES_ENV = { TALLY_RATES_CACHE_TTL_MS: '1000', TALLY_RATES_MAX_STALENESS_MS: '2000', TALLY_RATES_TIMEOUT_MS: '1000' };

export class TallyProcesses {
  readonly #runDir: string;
  readonly #addresses: TallyAddresses;
  readonly #random: Random;
  readonly #clock: () => number;
  readonly #children = new Map<TallySlot, { child: Child; role: string; planned: boolean }>();
  readonly unplannedExits: UnplannedExit[] = [];
  readonly startsByRole = new Map<string, number>();
  /** Starts that failed (and were tried again): the process exited or hung before it was ready. */
  readonly startFailures: string[] = [];
  #closing = false;

  constructor(runDir: string, addresses: TallyAddresses, random: Random, clock: () => number) {
    this.#runDir = runDir;
    this.#addresses = addresses;
    this.#random = random;
    this.#clock = clock;
  }

  get apiRole(): string | undefined {
    return this.#children.get('api')?.role;
  }

  /** Starts the API process; its role is drawn (api, or sometimes all) unless given. */
  async startApi(role?: ApiRole): Promise<void> {
    const chosen = role ?? (this.#random.chance(ALL_ROLE_CHANCE) ? 'all' : 'api');
    await this.#start('api', chosen);
  }

  async startWorker(): Promise<void> {
    await this.#start('worker', 'worker');
  }

  async start(slot: TallySlot): Promise<void> {
    await (slot === 'api' ? this.startApi() : this.startWorker());
  }

  /** SIGKILL: no shutdown, no hand-back; whatever it held stays held until its leases expire. */
  async kill(slot: TallySlot): Promise<void> {
    const running = this.#children.get(slot);
    if (!running) return;
    running.planned = true;
    running.child.signal('SIGKILL');
    await running.child.exited;
  }

  isRunning(slot: TallySlot): boolean {
    const running = this.#children.get(slot);
    return running !== undefined && !running.child.done;
  }

  /** `npm run audit` as built, on the run's database: its exit code (0: clean) and what it printed. */
  audit(): Promise<{ code: number; output: string }> {
    return runCommand(process.execPath, [join(REPO_ROOT, 'apps/server/dist/audit.js')], this.#env(), AUDIT_PATIENCE_MS, true);
  }

  /** Kills both (SIGKILL, no waiting for a clean stop); used on the way out. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all((['api', 'worker'] as const).map((slot) => this.kill(slot)));
  }

  async #start(slot: TallySlot, role: string): Promise<void> {
    // Already started again after an unplanned exit: two API processes cannot share a port.
    if (this.isRunning(slot)) return;
    let lastError: unknown;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      if (this.#closing) return;
      try {
        const child = await this.#spawn(slot, role);
        const running = { child, role, planned: false };
        this.#children.set(slot, running);
        this.startsByRole.set(role, (this.startsByRole.get(role) ?? 0) + 1);
        void child.exited.then((how) => this.#exited(slot, running, how));
        return;
      } catch (error) {
        lastError = error;
        this.startFailures.push(`${slot} (${role}) at ${(this.#clock() / 1000).toFixed(1)} s: ${(error as Error).message}`);
        await sleep(START_RETRY_PAUSE_MS);
      }
    }
    throw new Error(`Tally's ${slot} process (${role}) did not start in ${START_ATTEMPTS} tries: ${(lastError as Error).message}`);
  }

  #env(): Record<string, string> {
    const a = this.#addresses;
    return {
      ...inheritedEnv(),
      DATABASE_URL: a.databaseUrl,
      REDIS_URL: a.redisUrl,
      TALLY_RATES_URL: a.ratesUrl,
      TALLY_AUTH: 'off',
      TALLY_HOST: '127.0.0.1',
      TALLY_LOG_LEVEL: 'info',
      ...RATES_ENV,
    };
  }

  async #spawn(slot: TallySlot, role: string): Promise<Child> {
    const a = this.#addresses;
    const env = this.#env();
    const logPath = join(this.#runDir, `tally-${slot}.log`);
    if (slot === 'worker') {
      return startChild({
        name: 'tally worker',
        command: process.execPath,
        args: [join(REPO_ROOT, 'apps/worker/dist/main.js')],
        env,
        ownEnvOnly: true,
        logPath,
        readyWhen: (line) => line.includes('"worker started"'),
        patienceMs: START_PATIENCE_MS,
      });
    }
    return startChild({
      name: `tally ${role}`,
      command: process.execPath,
      args: [join(REPO_ROOT, 'apps/server/dist/main.js')],
      env: { ...env, TALLY_ROLE: role, TALLY_GRPC_PORT: String(a.grpcPort), TALLY_HTTP_PORT: String(a.httpPort) },
      ownEnvOnly: true,
      logPath,
      readyWhen: (line) => line.includes('"tally is running"'),
      patienceMs: START_PATIENCE_MS,
    });
  }

  #exited(slot: TallySlot, running: { child: Child; role: string; planned: boolean }, how: number | string): void {
    if (running.planned || this.#closing || this.#children.get(slot) !== running) return;
    this.unplannedExits.push({ slot, role: running.role, pid: running.child.pid, how, atMs: this.#clock(), lastError: lastError(running.child.lastLines()) });
    // Started again as a supervisor would; a failure to start surfaces at the next fault.
    void sleep(START_RETRY_PAUSE_MS).then(() => (this.#closing ? undefined : this.start(slot).catch(() => undefined)));
  }
}

/**
 * Why a process ended, from its last lines of output: its last error or fatal log line
 * (message and error), or else the last line that is not a log line (an uncaught exception's).
 */
export function lastError(lines: readonly string[]): string | undefined {
  let bare: string | undefined;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    let entry: { level?: unknown; msg?: unknown; err?: { message?: unknown } | string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      if (bare === undefined && /error/i.test(line)) bare = line.trim();
      continue;
    }
    if (entry.level === 'error' || entry.level === 'fatal' || (typeof entry.level === 'number' && entry.level >= 50)) {
      const err = typeof entry.err === 'string' ? entry.err : entry.err?.message;
      return `${String(entry.msg)}${err ? `: ${String(err)}` : ''}`;
    }
  }
  return bare;
}

/**
 * This process's environment without Tally's own variables (a caller's DATABASE_URL or
 * TALLY_* must not point the run's processes at anything else) and without NODE_ENV.
 */
function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith('TALLY_') || name === 'DATABASE_URL' || name === 'REDIS_URL' || name === 'NODE_ENV') continue;
    env[name] = value;
  }
  return env;
}
