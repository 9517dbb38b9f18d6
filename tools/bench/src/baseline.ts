import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Progress } from './progress.js';

/**
 * The yardstick: how many single-operation ledger transactions per second the same PostgreSQL
 * commits on this machine (baseline.sql under pgbench: 8 clients, 2 threads, over as many
 * ledgers as the bench uses), in a scratch database made for the purpose and dropped after.
 * Every Tally throughput is also reported as a multiple of it.
 */

export const BASELINE_DATABASE = 'tally_bench_baseline';
export const BASELINE_CLIENTS = 8;
export const BASELINE_THREADS = 2;
const SCRIPT = fileURLToPath(new URL('../baseline.sql', import.meta.url));

const SCHEMA = `
  CREATE TABLE baseline_entries (id bigserial PRIMARY KEY, ledger_id int NOT NULL, currency char(3) NOT NULL,
    amount bigint NOT NULL, transaction_id uuid NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now());
  CREATE INDEX ON baseline_entries (ledger_id, id);
  CREATE TABLE baseline_balances (ledger_id int NOT NULL, currency char(3) NOT NULL, balance bigint NOT NULL DEFAULT 0,
    version bigint NOT NULL DEFAULT 0, PRIMARY KEY (ledger_id, currency));
  CREATE TABLE baseline_operations (id uuid PRIMARY KEY, ledger_id int NOT NULL, status text NOT NULL, updated_at timestamptz NOT NULL);`;

export interface Baseline {
  readonly tps: number;
  /** What measured it: `pgbench` or the external script's path. */
  readonly source: string;
}

/** libpq's environment for the server of a postgres:// URL (pgbench and psql read it). */
export function libpqEnv(databaseUrl: string): Record<string, string> {
  const url = new URL(databaseUrl);
  const env: Record<string, string> = {
    PGHOST: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username) || 'postgres',
  };
  if (url.password !== '') env['PGPASSWORD'] = decodeURIComponent(url.password);
  return env;
}

/** The `tps = 1234.5 (without initial connection time)` of pgbench's summary. */
export function parsePgbenchTps(output: string): number | undefined {
  const match = /^tps = ([0-9.]+)/m.exec(output);
  return match ? Number(match[1]) : undefined;
}

/** The last `baseline_tps=<n>` line an external baseline script printed. */
export function parseBaselineTps(output: string): number | undefined {
  const matches = [...output.matchAll(/^baseline_tps=([0-9.]+)\s*$/gm)];
  const last = matches.at(-1);
  return last ? Number(last[1]) : undefined;
}

function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function adminQuery(databaseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function measureBaseline(databaseUrl: string, seconds: number, ledgers: number, progress: Progress): Promise<Baseline> {
  await adminQuery(databaseUrl, `DROP DATABASE IF EXISTS ${BASELINE_DATABASE}`);
  await adminQuery(databaseUrl, `CREATE DATABASE ${BASELINE_DATABASE}`);
  try {
    const client = new pg.Client({ connectionString: withDatabase(databaseUrl, BASELINE_DATABASE) });
    await client.connect();
    try {
      await client.query(SCHEMA);
      await client.query(`INSERT INTO baseline_balances (ledger_id, currency) SELECT g, 'USD' FROM generate_series(1, $1::int) g`, [ledgers]);
    } finally {
      await client.end();
    }
    // -P 1 only reports progress each second (for the progress line); the workload is the same.
    const args = ['-n', '-c', String(BASELINE_CLIENTS), '-j', String(BASELINE_THREADS), '-T', String(seconds), '-D', `ledgers=${ledgers}`, '-P', '1', '-f', SCRIPT, BASELINE_DATABASE];
    const output = await run('pgbench', args, libpqEnv(databaseUrl), seconds, progress);
    for (const line of output.split('\n')) {
      if (/^(number of clients|duration|number of transactions|number of failed|latency|tps)/.test(line)) progress.say(`  pgbench | ${line}`);
    }
    const tps = parsePgbenchTps(output);
    if (tps === undefined) throw new Error(`pgbench printed no tps:\n${output}`);
    return { tps, source: 'pgbench' };
  } finally {
    await adminQuery(databaseUrl, `DROP DATABASE IF EXISTS ${BASELINE_DATABASE}`);
  }
}

/** `--baseline-script PATH`: run as `bash PATH SECONDS CLIENTS LEDGERS`, against the same server. */
export async function runBaselineScript(path: string, databaseUrl: string, seconds: number, ledgers: number, progress: Progress): Promise<Baseline> {
  const output = await run('bash', [path, String(seconds), String(BASELINE_CLIENTS), String(ledgers)], libpqEnv(databaseUrl), seconds, progress);
  const tps = parseBaselineTps(output);
  if (tps === undefined) throw new Error(`${path} printed no baseline_tps=<n> line:\n${output}`);
  return { tps, source: path };
}

/** Runs a command to the end, with a progress line fed by pgbench's `progress: ... tps` lines; resolves with all it printed. */
async function run(command: string, args: readonly string[], env: Record<string, string>, seconds: number, progress: Progress): Promise<string> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let done = 0;
  const line = progress.begin('baseline', seconds * 1000, () => ({ done, errors: 0 }), 'transactions');
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString();
    output += text;
    for (const match of text.matchAll(/^progress: [0-9.]+ s, ([0-9.]+) tps/gm)) done += Number(match[1]);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`);
    return output;
  } finally {
    line.end();
  }
}
