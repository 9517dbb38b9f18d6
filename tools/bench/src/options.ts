import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * The command line of `npm run bench`, parsed and validated before anything runs: every bad
 * value is reported on a line of its own (exit 2), never discovered minutes into a run.
 */

/** The phases, in the order they run. `setup` runs whenever a phase that needs ledgers does. */
export const PHASES = ['baseline', 'setup', 'single', 'batched', 'open', 'balances', 'watches', 'audit'] as const;
export type PhaseName = (typeof PHASES)[number];
const LOAD_PHASES: readonly PhaseName[] = ['single', 'batched', 'open', 'balances', 'watches'];

/** How long each timed phase runs, and how big the fixed-size ones are. */
export interface PhasePlan {
  readonly single8Ms: number;
  readonly single64Ms: number;
  readonly batchedMs: number;
  readonly openMs: number;
  readonly balancesMs: number;
  readonly watches: number;
  /** How long the watches are left to settle before the probe credits go out. */
  readonly watchSettleMs: number;
}

export const FULL_PLAN: PhasePlan = {
  single8Ms: 15_000,
  single64Ms: 60_000,
  batchedMs: 20_000,
  openMs: 30_000,
  balancesMs: 15_000,
  watches: 5_000,
  watchSettleMs: 3_000,
};

/** `--quick`: a smoke test of every phase in well under a minute. */
export const QUICK_PLAN: PhasePlan = {
  single8Ms: 3_000,
  single64Ms: 4_000,
  batchedMs: 3_000,
  openMs: 4_000,
  balancesMs: 3_000,
  watches: 200,
  watchSettleMs: 1_000,
};

export const DEFAULT_LEDGERS = 1_000;
export const QUICK_LEDGERS = 100;
export const DEFAULT_BASELINE_SECONDS = 20;
export const QUICK_BASELINE_SECONDS = 3;
export const DEFAULT_CONNECTIONS = 4;
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tally';

/** Bounds on what a run may ask for: each keeps the bench's own memory and the run's length sane. */
export const MAX_LEDGERS = 100_000;
export const MAX_CONNECTIONS = 64;
export const MAX_SOAK_SECONDS = 7 * 24 * 3_600;
export const MAX_BASELINE_SECONDS = 3_600;
export const MAX_OPEN_RATE_PER_S = 100_000;

export interface BenchOptions {
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly databaseUrl: string;
  /** The server process; undefined: found from the process listening on the gRPC port. */
  readonly pid: number | undefined;
  readonly ledgers: number;
  readonly connections: number;
  readonly jsonPath: string | undefined;
  readonly mixed: boolean;
  readonly soakSeconds: number;
  readonly start: boolean;
  readonly phases: ReadonlySet<PhaseName>;
  readonly quick: boolean;
  readonly baselineSeconds: number;
  readonly baselineScript: string | undefined;
  /** Submits per second of the open loop (and soak); undefined: half of the measured peak. */
  readonly openRatePerS: number | undefined;
  readonly plan: PhasePlan;
}

export type ParsedCommandLine =
  | { readonly kind: 'run'; readonly options: BenchOptions }
  | { readonly kind: 'help' }
  | { readonly kind: 'invalid'; readonly problems: readonly string[] };

type Env = Readonly<Record<string, string | undefined>>;

/** What option checking asks of the file system: a run of minutes should not end on a typo in a path. */
export interface PathChecks {
  exists(path: string): boolean;
  /** Whether a file can be written at `path` (its directory exists and is writable). */
  canWrite(path: string): boolean;
}

const LOCAL_PATHS: PathChecks = {
  exists: (path) => existsSync(path),
  canWrite: (path) => {
    try {
      accessSync(dirname(resolve(path)), constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
};

const FLAGS = ['--mixed', '--start', '--quick', '--no-baseline', '--help'] as const;
const VALUED = [
  '--grpc',
  '--http-port',
  '--database-url',
  '--pid',
  '--ledgers',
  '--connections',
  '--json',
  '--soak',
  '--only',
  '--baseline-seconds',
  '--baseline-script',
  '--open-rate',
] as const;
type Valued = (typeof VALUED)[number];

export function parseCommandLine(argv: readonly string[], env: Env = process.env, paths: PathChecks = LOCAL_PATHS): ParsedCommandLine {
  const problems: string[] = [];
  const flags = new Set<string>();
  const values = new Map<Valued, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') {
      flags.add('--help');
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if ((FLAGS as readonly string[]).includes(name)) {
      if (eq !== -1) problems.push(`${name} takes no value (got ${JSON.stringify(arg)})`);
      flags.add(name);
    } else if ((VALUED as readonly string[]).includes(name)) {
      const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq === -1 && value.startsWith('--'))) {
        problems.push(`${name} needs a value`);
        if (value !== undefined) i--;
      } else {
        if (values.has(name as Valued)) problems.push(`${name} is given more than once`);
        values.set(name as Valued, value);
      }
    } else {
      problems.push(`${JSON.stringify(arg)} is not an option of npm run bench (see --help)`);
    }
  }
  if (flags.has('--help')) return { kind: 'help' };

  const quick = flags.has('--quick');
  /** `source` names where the value came from: the option, or the variable its default is read from. */
  const integer = (source: string, raw: string | undefined, fallback: number, min: number, max: number): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${source} ${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };

  const grpc = grpcAddress(values.get('--grpc'), env, problems);
  const httpPort =
    values.get('--http-port') !== undefined
      ? integer('--http-port', values.get('--http-port'), 0, 1, 65_535)
      : integer('TALLY_HTTP_PORT (the default of --http-port)', env['TALLY_HTTP_PORT'] || '8080', 0, 1, 65_535);
  const databaseUrl = postgresUrl(values.get('--database-url'), env, problems);
  const pidRaw = values.get('--pid');
  const pid = pidRaw === undefined ? undefined : integer('--pid', pidRaw, 1, 1, 4_194_304);
  const ledgers = integer('--ledgers', values.get('--ledgers'), quick ? QUICK_LEDGERS : DEFAULT_LEDGERS, 2, MAX_LEDGERS);
  const connections = integer('--connections', values.get('--connections'), DEFAULT_CONNECTIONS, 1, MAX_CONNECTIONS);
  const soakSeconds = integer('--soak', values.get('--soak'), 0, 0, MAX_SOAK_SECONDS);
  const baselineSeconds = integer(
    '--baseline-seconds',
    values.get('--baseline-seconds'),
    quick ? QUICK_BASELINE_SECONDS : DEFAULT_BASELINE_SECONDS,
    1,
    MAX_BASELINE_SECONDS,
  );
  const jsonPath = nonEmpty('--json', values.get('--json'), problems);
  if (jsonPath !== undefined && !paths.canWrite(jsonPath)) problems.push(`--json ${JSON.stringify(jsonPath)}: its directory does not exist or is not writable`);
  const baselineScript = nonEmpty('--baseline-script', values.get('--baseline-script'), problems);
  if (baselineScript !== undefined && !paths.exists(baselineScript)) problems.push(`--baseline-script ${JSON.stringify(baselineScript)} does not exist`);

  let openRatePerS: number | undefined;
  const rateRaw = values.get('--open-rate');
  if (rateRaw !== undefined) {
    const rate = Number(rateRaw);
    if (!/^\d+(\.\d+)?$/.test(rateRaw) || rate <= 0 || rate > MAX_OPEN_RATE_PER_S) {
      problems.push(`--open-rate ${JSON.stringify(rateRaw)} must be a number of submits per second above 0 and at most ${MAX_OPEN_RATE_PER_S}`);
    } else {
      openRatePerS = rate;
    }
  }

  const phases = selectPhases(values.get('--only'), !flags.has('--no-baseline'), soakSeconds > 0, problems);
  const plan = quick ? QUICK_PLAN : FULL_PLAN;
  if (openRatePerS === undefined && !phases.has('single') && (phases.has('open') || soakSeconds > 0)) {
    problems.push('the open loop and the soak run at half of the single-submit peak: select the single phase too, or give --open-rate');
  }
  if (problems.length > 0) return { kind: 'invalid', problems };
  return {
    kind: 'run',
    options: {
      grpcHost: grpc.host,
      grpcPort: grpc.port,
      httpPort,
      databaseUrl,
      pid,
      ledgers,
      connections,
      jsonPath,
      mixed: flags.has('--mixed'),
      soakSeconds,
      start: flags.has('--start'),
      phases,
      quick,
      baselineSeconds,
      baselineScript,
      openRatePerS,
      plan,
    },
  };
}

function grpcAddress(raw: string | undefined, env: Env, problems: string[]): { host: string; port: number } {
  if (raw === undefined) {
    const port = env['TALLY_GRPC_PORT'] || '50051';
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65_535) {
      problems.push(`TALLY_GRPC_PORT ${JSON.stringify(port)} (the default of --grpc) must be a whole number from 1 to 65535`);
    }
    return { host: '127.0.0.1', port: Number(port) };
  }
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65_535) {
    problems.push(`--grpc ${JSON.stringify(raw)} must be host:port, for example 127.0.0.1:50051`);
    return { host: '', port: 0 };
  }
  return { host: match[1]!, port };
}

function postgresUrl(raw: string | undefined, env: Env, problems: string[]): string {
  const source = raw === undefined ? 'DATABASE_URL (the default of --database-url)' : '--database-url';
  const value = raw ?? (env['DATABASE_URL'] || DEFAULT_DATABASE_URL);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${source} ${JSON.stringify(value)} is not a URL (example: ${DEFAULT_DATABASE_URL})`);
    return value;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    problems.push(`${source} ${JSON.stringify(value)} must use postgres:// or postgresql://`);
  } else if (url.pathname.length <= 1) {
    problems.push(`${source} ${JSON.stringify(value)} must name a database (…/tally)`);
  }
  return value;
}

function nonEmpty(name: string, raw: string | undefined, problems: string[]): string | undefined {
  if (raw !== undefined && raw.trim() === '') problems.push(`${name} needs a path`);
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

function selectPhases(only: string | undefined, baseline: boolean, soak: boolean, problems: string[]): ReadonlySet<PhaseName> {
  let chosen: PhaseName[] = [...PHASES];
  if (only !== undefined) {
    const names = only.split(',').map((n) => n.trim());
    const unknown = names.filter((n) => !(PHASES as readonly string[]).includes(n));
    if (unknown.length > 0 || names.length === 0) {
      problems.push(`--only ${JSON.stringify(only)}: ${unknown.map((n) => JSON.stringify(n)).join(', ')} not a phase; phases: ${PHASES.join(', ')}`);
    }
    chosen = PHASES.filter((p) => names.includes(p));
  }
  if (!baseline) chosen = chosen.filter((p) => p !== 'baseline');
  if (soak || LOAD_PHASES.some((p) => chosen.includes(p))) chosen.push('setup');
  // In running order, whatever order they were named in.
  return new Set(PHASES.filter((p) => chosen.includes(p)));
}

export const USAGE = `npm run bench [-- options]

Measures a running Tally (npm start) over native gRPC from a process of its own, and compares
every throughput with a PostgreSQL baseline measured on the same machine in the same run.

  --grpc HOST:PORT        Tally's gRPC address (default 127.0.0.1:$TALLY_GRPC_PORT, or 50051)
  --http-port N           Tally's HTTP port, for /readyz (default $TALLY_HTTP_PORT, or 8080)
  --database-url URL      Tally's database, where operations are counted
                          (default $DATABASE_URL, or ${DEFAULT_DATABASE_URL})
  --pid N                 the server process, for its memory and CPU (default: the process
                          listening on the gRPC port)
  --ledgers N             ledgers to spread the load over (default ${DEFAULT_LEDGERS}; --quick ${QUICK_LEDGERS})
  --connections N         HTTP/2 connections to spread calls over (default ${DEFAULT_CONNECTIONS})
  --mixed                 single submits mix credits, debits that may overdraw, transfers and
                          exchanges instead of credits only
  --open-rate N           submits per second of the open loop (default: half of the peak)
  --soak SECONDS          after the phases, run the open loop this long watching memory (0: off)
  --only P,P              only these phases: ${PHASES.join(', ')}
  --quick                 every phase a few seconds long, ${QUICK_PLAN.watches} watches: a smoke test
  --no-baseline           skip the PostgreSQL baseline (no ratios then)
  --baseline-seconds N    how long the baseline runs (default ${DEFAULT_BASELINE_SECONDS}; --quick ${QUICK_BASELINE_SECONDS})
  --baseline-script PATH  measure the baseline with this script instead (run as
                          bash PATH SECONDS CLIENTS LEDGERS; prints baseline_tps=<n>)
  --json PATH             also write every figure, with the machine's facts, as JSON
  --start                 start Tally (bash tools/start.sh) first and stop it at the end
  --help                  this text

Exit status: 0 when the run completed and the audit passed; 1 when the audit failed, a phase
met an unexpected error, or the run could not complete; 2 for a bad option.`;
