import { accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FAULT_KINDS, type FaultKind } from './faults/schedule.js';
import { MAX_SEED } from './random.js';

/**
 * The command line of `npm run chaos`, checked before anything starts: every bad value is
 * reported on a line of its own (exit 2), never discovered minutes into a run.
 */

/** A range of milliseconds, both ends included; each fault draws its length from one. */
export interface MsRange {
  readonly min: number;
  readonly max: number;
}

/** How long faults last and how far apart they come. */
export interface FaultTiming {
  /** Between a SIGKILL and the restart of what was killed. */
  readonly deadMs: MsRange;
  /** How long Redis stays stopped (SIGSTOP to SIGCONT). */
  readonly freezeMs: MsRange;
  /** How long the rate provider drops every connection. */
  readonly cutMs: MsRange;
  /** Between the end of one fault and the start of the next. */
  readonly gapMs: MsRange;
}

export interface ChaosOptions {
  /** The load runs at least this long, and on until every kind of fault reached `faultsPerKind`. */
  readonly durationS: number;
  readonly faultsPerKind: number;
  /** The kinds injected: all of them, unless --only narrows them. */
  readonly faultKinds: readonly FaultKind[];
  readonly short: boolean;
  readonly seed: number;
  readonly jsonPath: string | undefined;
  /** Concurrent clients; each owns a share of the ledgers and submits to them one at a time. */
  readonly clients: number;
  readonly ledgers: number;
  /** Submits per second, all clients together, when nothing is failing. */
  readonly ratePerS: number;
  /** Keep the temporary directory (data, logs) instead of removing it at the end. */
  readonly keep: boolean;
  readonly timing: FaultTiming;
  /** How long, once the faults stop, every accepted operation may take to end. */
  readonly settlePatienceMs: number;
}

export const LONG_DEFAULTS = { durationS: 120, faultsPerKind: 5, clients: 8, ledgers: 24, ratePerS: 150 } as const;
/** `--short`, the form `npm test` runs: one fault of each kind, well under a minute and a half. */
export const SHORT_DEFAULTS = { durationS: 12, faultsPerKind: 1, clients: 4, ledgers: 8, ratePerS: 100 } as const;

export const LONG_TIMING: FaultTiming = {
  deadMs: { min: 300, max: 3_000 },
  freezeMs: { min: 2_000, max: 6_000 },
  cutMs: { min: 2_000, max: 8_000 },
  gapMs: { min: 1_000, max: 4_000 },
};
export const SHORT_TIMING: FaultTiming = {
  deadMs: { min: 200, max: 600 },
  freezeMs: { min: 1_000, max: 2_000 },
  cutMs: { min: 1_000, max: 2_000 },
  gapMs: { min: 300, max: 800 },
};
const LONG_SETTLE_PATIENCE_MS = 300_000;
const SHORT_SETTLE_PATIENCE_MS = 60_000;

/** Bounds on what a run may ask for: each keeps the run's memory and the machine's load sane. */
export const MAX_DURATION_S = 24 * 3_600;
export const MAX_FAULTS_PER_KIND = 10_000;
export const MAX_CLIENTS = 64;
export const MAX_LEDGERS = 1_000;
export const MAX_RATE_PER_S = 5_000;

export type ParsedCommandLine =
  | { readonly kind: 'run'; readonly options: ChaosOptions }
  | { readonly kind: 'help' }
  | { readonly kind: 'invalid'; readonly problems: readonly string[] };

const FLAGS = ['--short', '--keep', '--help'] as const;
const VALUED = ['--duration', '--faults-per-kind', '--only', '--seed', '--json', '--clients', '--ledgers', '--rate'] as const;
type Valued = (typeof VALUED)[number];

export function parseCommandLine(
  argv: readonly string[],
  randomSeed: () => number = () => Math.floor(Math.random() * MAX_SEED),
  canWrite: (path: string) => boolean = writableDirectory,
): ParsedCommandLine {
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
      problems.push(`${JSON.stringify(arg)} is not an option of npm run chaos (see --help)`);
    }
  }
  if (flags.has('--help')) return { kind: 'help' };

  const short = flags.has('--short');
  const defaults = short ? SHORT_DEFAULTS : LONG_DEFAULTS;
  const integer = (name: Valued, fallback: number, min: number, max: number): number => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d{1,10}$/.test(raw) || value < min || value > max) {
      problems.push(`${name} ${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const durationS = integer('--duration', defaults.durationS, 1, MAX_DURATION_S);
  const faultsPerKind = integer('--faults-per-kind', defaults.faultsPerKind, 0, MAX_FAULTS_PER_KIND);
  const seed = values.has('--seed') ? integer('--seed', 0, 0, MAX_SEED) : randomSeed();
  const clients = integer('--clients', defaults.clients, 1, MAX_CLIENTS);
  const ledgers = integer('--ledgers', Math.max(defaults.ledgers, clients), 2, MAX_LEDGERS);
  const ratePerS = integer('--rate', defaults.ratePerS, 1, MAX_RATE_PER_S);
  if (ledgers < clients) problems.push(`--ledgers ${ledgers} must be at least --clients ${clients}: each client owns at least one ledger`);

  let faultKinds: readonly FaultKind[] = FAULT_KINDS;
  const only = values.get('--only');
  if (only !== undefined) {
    const names = only.split(',').map((n) => n.trim());
    const unknown = names.filter((n) => !(FAULT_KINDS as readonly string[]).includes(n));
    if (unknown.length > 0 || names.length === 0) problems.push(`--only ${JSON.stringify(only)}: not a kind of fault: ${unknown.join(', ')}; kinds: ${FAULT_KINDS.join(', ')}`);
    faultKinds = FAULT_KINDS.filter((k) => names.includes(k));
  }

  const rawJson = values.get('--json');
  let jsonPath: string | undefined;
  if (rawJson !== undefined) {
    if (rawJson.trim() === '') problems.push('--json needs a path');
    else if (!canWrite(rawJson)) problems.push(`--json ${JSON.stringify(rawJson)}: its directory does not exist or is not writable`);
    else jsonPath = rawJson;
  }

  if (problems.length > 0) return { kind: 'invalid', problems };
  return {
    kind: 'run',
    options: {
      durationS,
      faultsPerKind,
      faultKinds,
      short,
      seed,
      jsonPath,
      clients,
      ledgers,
      ratePerS,
      keep: flags.has('--keep'),
      timing: short ? SHORT_TIMING : LONG_TIMING,
      settlePatienceMs: short ? SHORT_SETTLE_PATIENCE_MS : LONG_SETTLE_PATIENCE_MS,
    },
  };
}

function writableDirectory(path: string): boolean {
  try {
    accessSync(dirname(resolve(path)), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export const USAGE = `npm run chaos [-- options]

Starts a PostgreSQL, a Redis, a mock rate provider and Tally (an API process and a worker
process) of its own, puts a mixed load on them (credits, debits that sometimes overdraw,
transfers, exchanges with and without quotes; unanswered submits retried with the same
transaction id), and meanwhile SIGKILLs and restarts Tally's processes, restarts Redis empty,
restarts PostgreSQL, freezes Redis and cuts the rate provider. Then it lets the system settle
and proves that the audit passes, that every acknowledged submit exists exactly once and
ended, that balances equal the client's own model, and that each ledger kept its order.
It never touches a PostgreSQL or Redis it did not start.

  --duration S          load for at least S seconds (default ${LONG_DEFAULTS.durationS}; --short ${SHORT_DEFAULTS.durationS}), and on
                        until every kind of fault was injected --faults-per-kind times
  --faults-per-kind N   faults of each kind to inject (default ${LONG_DEFAULTS.faultsPerKind}; --short ${SHORT_DEFAULTS.faultsPerKind})
  --only KIND,KIND      inject only these kinds (to reproduce what one does); kinds:
                        ${FAULT_KINDS.join(', ')}
  --seed N              replay the load plan and fault order of an earlier run (printed at start)
  --clients N           concurrent clients (default ${LONG_DEFAULTS.clients}; --short ${SHORT_DEFAULTS.clients})
  --ledgers N           ledgers, shared out between the clients (default ${LONG_DEFAULTS.ledgers}; --short ${SHORT_DEFAULTS.ledgers})
  --rate N              submits per second, all clients together (default ${LONG_DEFAULTS.ratePerS}; --short ${SHORT_DEFAULTS.ratePerS})
  --short               the form npm test runs: shorter faults, one of each kind, under a minute
  --json PATH           also write every count, fault and violation as JSON
  --keep                keep the temporary directory (PostgreSQL data, every process's log);
                        it is kept anyway when the run finds a violation or cannot complete
  --help                this text

Exit status: 0 when there is no violation and the audit passed; 1 otherwise (or when the run
could not complete); 2 for a bad option; 130 when interrupted.`;
