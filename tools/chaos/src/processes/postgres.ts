import { chmodSync, chownSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './child.js';

/**
 * A PostgreSQL cluster of the run's own: made with initdb in the run's temporary directory,
 * listening on 127.0.0.1 and a port of its own, with its socket in that directory too, and
 * fsync on, as in production. Every pg_ctl call names its data directory, so no other
 * cluster on the machine is ever stopped or restarted. As root, it runs as the `postgres` OS
 * user (PostgreSQL refuses to run as root).
 */

export const POSTGRES_BIN = process.env['TALLY_CHAOS_PG_BIN'] ?? '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';
/** How long pg_ctl may wait for a start, a restart (crash recovery included) or a stop. */
const PG_CTL_WAIT_S = 120;

export type RestartMode = 'immediate' | 'fast';

export class OwnPostgres {
  readonly #home: string;
  readonly #data: string;
  readonly port: number;

  constructor(runDir: string, port: number) {
    this.#home = join(runDir, 'postgres');
    this.#data = join(this.#home, 'data');
    this.port = port;
  }

  /** The database Tally uses (Tally creates it at its first start). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/tally`;
  }

  get logPath(): string {
    return join(this.#home, 'postgres.log');
  }

  async init(): Promise<void> {
    mkdirSync(this.#home, { recursive: true });
    if (asRoot()) {
      const ids = await postgresIds();
      // The run's directory is root's: the postgres user needs to pass through it.
      chmodSync(join(this.#home, '..'), 0o711);
      chownSync(this.#home, ids.uid, ids.gid);
    }
    const initdb = await this.#run('initdb', ['-D', this.#data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    if (initdb.code !== 0) throw new Error(`initdb failed (${initdb.code}): ${initdb.output.trim()}`);
  }

  async start(): Promise<void> {
    const options = [`-p ${this.port}`, `-k ${this.#home}`, '-c listen_addresses=127.0.0.1', '-c fsync=on', '-c synchronous_commit=on', '-c max_connections=200'];
    await this.#pgCtl(['start', '-D', this.#data, '-l', this.logPath, '-w', '-t', String(PG_CTL_WAIT_S), '-o', options.join(' ')]);
  }

  /** `immediate` is a crash: no checkpoint, crash recovery at start; `fast` a clean stop that ends every session. */
  async restart(mode: RestartMode): Promise<void> {
    // -l again: pg_ctl restart keeps the server's options, not where its log goes.
    await this.#pgCtl(['restart', '-D', this.#data, '-l', this.logPath, '-m', mode, '-w', '-t', String(PG_CTL_WAIT_S)]);
  }

  /** Stops it if it runs; never throws (used on the way out). */
  async stop(): Promise<void> {
    if (!existsSync(join(this.#data, 'postmaster.pid'))) return;
    await this.#run('pg_ctl', ['stop', '-D', this.#data, '-m', 'immediate', '-w', '-t', '30']);
  }

  async #pgCtl(args: string[]): Promise<void> {
    const result = await this.#run('pg_ctl', args);
    if (result.code !== 0) throw new Error(`pg_ctl ${args[0]} failed (${result.code}): ${result.output.trim()} (log: ${this.logPath})`);
  }

  #run(program: string, args: string[]) {
    const binary = join(POSTGRES_BIN, program);
    return asRoot() ? runCommand('runuser', ['-u', OS_USER, '--', binary, ...args]) : runCommand(binary, args);
  }
}

const asRoot = (): boolean => process.getuid?.() === 0;

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([runCommand('id', ['-u', OS_USER]), runCommand('id', ['-g', OS_USER])]);
  if (uid.code !== 0 || gid.code !== 0) throw new Error(`running as root needs a "${OS_USER}" OS user to run PostgreSQL as: ${uid.output.trim()}`);
  return { uid: Number(uid.output.trim()), gid: Number(gid.output.trim()) };
}
