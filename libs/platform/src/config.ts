/**
 * The service's configuration, read from the environment once at start. Every bad value is
 * reported, one clear line each, before anything starts.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const ROLES = ['all', 'api', 'worker'] as const;
/** all: API and worker in one process (the default); api: RPCs only; worker: applies operations only. */
export type Role = (typeof ROLES)[number];

/** Limits on the deployment's shape. */
export const MAX_PARTITIONS = 1024;

export const AUTH_MODES = ['required', 'off'] as const;
/** required: every RPC but health needs an API key; off: anyone who reaches a port may do anything (development). */
export type AuthMode = (typeof AUTH_MODES)[number];

/**
 * Per-caller budgets (per API key; per client address when auth is off), shared by every
 * process through Redis. `read` and `write` are requests per second, each with a burst on top
 * (a batch counts as its number of items); `watches` is how many streams one caller may hold open.
 */
export interface RateLimits {
  readonly read: { readonly perSecond: number; readonly burst: number };
  readonly write: { readonly perSecond: number; readonly burst: number };
  readonly watches: number;
}

/** PEM contents, read at start. With `ca`, clients must present a certificate it signed. */
export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

export interface Config {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Native gRPC (grpc-js) with reflection and grpc.health.v1. 0 picks a free port. */
  readonly grpcPort: number;
  /** Connect, gRPC-Web and gRPC over HTTP/1.1 and h2c; /healthz, /readyz. 0 picks a free port. */
  readonly httpPort: number;
  /** How many partition queues ledgers are spread over. */
  readonly partitions: number;
  readonly logLevel: LogLevel;
  /** Origins allowed by CORS; `*` allows any. */
  readonly corsOrigins: readonly string[];
  /** How long a request may take before the server gives up on it. */
  readonly requestTimeoutMs: number;
  readonly role: Role;
  /** How long operation results and failure reasons stay readable after an operation ends. */
  readonly retentionHours: number;
  /** The external exchange-rate provider (the project ships a mock: apps/rates-mock). */
  readonly ratesUrl: string;
  readonly ratesTimeoutMs: number;
  /** How long fetched rates are served from the Redis cache. */
  readonly ratesCacheTtlMs: number;
  /** How old the last known rates may be when the provider is down; beyond it, UNAVAILABLE. */
  readonly ratesMaxStalenessMs: number;
  /** How long a quote locks its rate. */
  readonly quoteTtlMs: number;
  /** The address both ports listen on. */
  readonly host: string;
  readonly auth: AuthMode;
  /** `undefined`: no per-caller limits (`TALLY_RATE_LIMITS=off`). */
  readonly rateLimits: RateLimits | undefined;
  /** Signs page tokens; empty: the one kept in the database (generated on first start). */
  readonly tokenSecret: string;
  /** Whether native gRPC serves server reflection. */
  readonly reflection: boolean;
  /** `undefined`: both ports speak plaintext. */
  readonly tls: TlsFiles | undefined;
}

export const DEFAULTS = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/tally',
  REDIS_URL: 'redis://127.0.0.1:6379',
  TALLY_GRPC_PORT: '50051',
  TALLY_HTTP_PORT: '8080',
  TALLY_PARTITIONS: '8',
  TALLY_LOG_LEVEL: 'info',
  TALLY_CORS_ORIGINS: '*',
  TALLY_REQUEST_TIMEOUT_MS: '10000',
  TALLY_ROLE: 'all',
  TALLY_RETENTION_HOURS: '168',
  TALLY_RATES_URL: 'http://127.0.0.1:8090',
  TALLY_RATES_TIMEOUT_MS: '2000',
  TALLY_RATES_CACHE_TTL_MS: '60000',
  TALLY_RATES_MAX_STALENESS_MS: '900000',
  TALLY_QUOTE_TTL_MS: '30000',
  TALLY_HOST: '0.0.0.0',
  TALLY_AUTH: 'off',
  TALLY_RATE_LIMITS: 'read=20000/s,write=20000/s,watches=10000',
  TALLY_TOKEN_SECRET: '',
  TALLY_REFLECTION: 'on',
  TALLY_TLS_CERT: '',
  TALLY_TLS_KEY: '',
  TALLY_TLS_CA: '',
  NODE_ENV: 'development',
} as const;

/** A secret shorter than this is refused: page tokens signed with it could be forged. */
export const MIN_TOKEN_SECRET_CHARS = 32;
/** The largest budget TALLY_RATE_LIMITS accepts for any one entry. */
const MAX_BUDGET = 10_000_000;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;
type Variable = keyof typeof DEFAULTS;

/** A whole number from `min` to `max`, written in digits only: no sign, point, exponent or spaces. */
function wholeNumber(min: number, max: number) {
  const error = `must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d+$/, { error })
    .transform(Number)
    .pipe(z.number().min(min, { error }).max(max, { error }));
}

/** A URL of one of `schemes`; the variable keeps the text as written (drivers parse it again). */
function url(schemes: readonly string[], example: string) {
  return z.url({
    protocol: new RegExp(`^(?:${schemes.join('|')})$`),
    error: (issue) =>
      URL.canParse(String(issue.input)) ? `must use ${schemes.map((s) => `${s}://`).join(' or ')}` : `is not a URL (example: ${example})`,
  });
}

const ORIGIN = /^https?:\/\/[^/\s]+$/;
const isOrigin = (origin: string) => origin === '*' || ORIGIN.test(origin);

/** Comma-separated; blanks between commas are ignored. */
const corsOrigins = z
  .string()
  .transform((list) => list.split(',').map((o) => o.trim()).filter((o) => o !== ''))
  .refine((origins) => origins.every(isOrigin), {
    error: (issue) => {
      const bad = (issue.input as string[]).filter((o) => !isOrigin(o));
      return `has ${bad.map((o) => JSON.stringify(o)).join(', ')}: each origin must be * or like https://app.example.com`;
    },
  });

const RATE_LIMITS_EXAMPLE = 'read=2000/s,write=500/s,watches=1000';

/**
 * `read=2000/s,write=500/s,watches=1000`, each optional (absent: the default's), a rate with an
 * optional burst after a colon (`read=2000/s:5000`; without one, the burst equals the rate), or
 * `off` for no limits.
 */
const rateLimits = z.string().transform((text, ctx): RateLimits | undefined => {
  if (text === 'off') return undefined;
  const limits = { ...defaultRateLimits() };
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const rate = /^(read|write)=(\d{1,8})\/s(?::(\d{1,8}))?$/.exec(part);
    const watches = /^watches=(\d{1,8})$/.exec(part);
    const name = rate?.[1] ?? (watches ? 'watches' : undefined);
    if (name !== undefined && seen.has(name)) problems.push(`${name} is given twice`);
    if (name !== undefined) seen.add(name);
    if (rate) {
      const perSecond = Number(rate[2]);
      const burst = rate[3] === undefined ? perSecond : Number(rate[3]);
      if (perSecond < 1 || perSecond > MAX_BUDGET || burst > MAX_BUDGET) problems.push(`${part}: rates go from 1 to ${MAX_BUDGET}/s`);
      else limits[rate[1] as 'read' | 'write'] = { perSecond, burst };
    } else if (watches) {
      const count = Number(watches[1]);
      if (count < 1 || count > MAX_BUDGET) problems.push(`${part}: watches go from 1 to ${MAX_BUDGET}`);
      else limits.watches = count;
    } else {
      problems.push(`"${part}" is not read=N/s, write=N/s (each with an optional :BURST) or watches=N`);
    }
  }
  if (problems.length > 0) ctx.addIssue({ code: 'custom', message: `${problems.join('; ')} (example: ${RATE_LIMITS_EXAMPLE}, or off)` });
  return limits;
});

function defaultRateLimits(): { read: RateLimits['read']; write: RateLimits['write']; watches: number } {
  return { read: { perSecond: 20_000, burst: 20_000 }, write: { perSecond: 20_000, burst: 20_000 }, watches: 10_000 };
}

/** A path to a readable PEM file, or empty for none; the variable's value is the file's contents. */
const pemFile = z.string().transform((path, ctx): Buffer | undefined => {
  if (path === '') return undefined;
  try {
    const contents = readFileSync(path);
    if (!contents.includes('-----BEGIN ')) ctx.addIssue({ code: 'custom', message: 'is not a PEM file (no -----BEGIN line)' });
    return contents;
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` });
    return undefined;
  }
});

/** One rule per variable, by its name in the environment. */
const variables = {
  DATABASE_URL: url(['postgres', 'postgresql'], DEFAULTS.DATABASE_URL),
  REDIS_URL: url(['redis', 'rediss'], DEFAULTS.REDIS_URL),
  TALLY_GRPC_PORT: wholeNumber(0, 65535),
  TALLY_HTTP_PORT: wholeNumber(0, 65535),
  TALLY_PARTITIONS: wholeNumber(1, MAX_PARTITIONS),
  TALLY_LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }),
  TALLY_CORS_ORIGINS: corsOrigins,
  TALLY_REQUEST_TIMEOUT_MS: wholeNumber(100, 600_000),
  TALLY_ROLE: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }),
  TALLY_RETENTION_HOURS: wholeNumber(1, 87_600),
  TALLY_RATES_URL: url(['http', 'https'], DEFAULTS.TALLY_RATES_URL),
  TALLY_RATES_TIMEOUT_MS: wholeNumber(50, 60_000),
  TALLY_RATES_CACHE_TTL_MS: wholeNumber(100, 86_400_000),
  TALLY_RATES_MAX_STALENESS_MS: wholeNumber(0, 7 * 86_400_000),
  TALLY_QUOTE_TTL_MS: wholeNumber(1_000, 86_400_000),
  TALLY_HOST: z.union([z.ipv4(), z.ipv6(), z.literal('localhost')], { error: 'must be an IP address (0.0.0.0, 127.0.0.1, ::) or localhost' }),
  TALLY_AUTH: z.enum(AUTH_MODES, { error: `must be one of ${AUTH_MODES.join(', ')}` }),
  TALLY_RATE_LIMITS: rateLimits,
  TALLY_TOKEN_SECRET: z.string().refine((s) => s === '' || s.length >= MIN_TOKEN_SECRET_CHARS, {
    error: `must be at least ${MIN_TOKEN_SECRET_CHARS} characters (or unset: a generated one is kept in the database)`,
  }),
  TALLY_REFLECTION: z.enum(['on', 'off'], { error: 'must be on or off' }),
  TALLY_TLS_CERT: pemFile,
  TALLY_TLS_KEY: pemFile,
  TALLY_TLS_CA: pemFile,
  NODE_ENV: z.string(),
} satisfies Record<Variable, z.ZodType<unknown, string>>;

const environment = z
  .object(variables)
  .refine((v) => v.TALLY_GRPC_PORT === 0 || v.TALLY_GRPC_PORT !== v.TALLY_HTTP_PORT, {
    path: ['TALLY_HTTP_PORT'],
    error: 'must differ from TALLY_GRPC_PORT',
    // Reported with the other problems, once both ports are numbers.
    when: (payload) => payload.issues.every((i) => i.path?.[0] !== 'TALLY_GRPC_PORT' && i.path?.[0] !== 'TALLY_HTTP_PORT'),
  })
  .refine((v) => v.NODE_ENV !== 'production' || v.TALLY_AUTH === 'required', {
    path: ['TALLY_AUTH'],
    error: 'must be required when NODE_ENV=production: refusing to serve without API keys',
    when: (payload) => payload.issues.every((i) => i.path?.[0] !== 'TALLY_AUTH'),
  })
  .refine((v) => (v.TALLY_TLS_CERT === undefined) === (v.TALLY_TLS_KEY === undefined), {
    path: ['TALLY_TLS_KEY'],
    error: 'TALLY_TLS_CERT and TALLY_TLS_KEY go together: set both or neither',
    when: (payload) => payload.issues.every((i) => !String(i.path?.[0]).startsWith('TALLY_TLS_')),
  })
  .refine((v) => v.TALLY_TLS_CA === undefined || v.TALLY_TLS_CERT !== undefined, {
    path: ['TALLY_TLS_CA'],
    error: 'checks client certificates, which needs TLS: set TALLY_TLS_CERT and TALLY_TLS_KEY too',
    when: (payload) => payload.issues.every((i) => !String(i.path?.[0]).startsWith('TALLY_TLS_')),
  })
  .transform(
    (v): Config => ({
      databaseUrl: v.DATABASE_URL,
      redisUrl: v.REDIS_URL,
      grpcPort: v.TALLY_GRPC_PORT,
      httpPort: v.TALLY_HTTP_PORT,
      partitions: v.TALLY_PARTITIONS,
      logLevel: v.TALLY_LOG_LEVEL,
      corsOrigins: v.TALLY_CORS_ORIGINS,
      requestTimeoutMs: v.TALLY_REQUEST_TIMEOUT_MS,
      role: v.TALLY_ROLE,
      retentionHours: v.TALLY_RETENTION_HOURS,
      ratesUrl: v.TALLY_RATES_URL,
      ratesTimeoutMs: v.TALLY_RATES_TIMEOUT_MS,
      ratesCacheTtlMs: v.TALLY_RATES_CACHE_TTL_MS,
      ratesMaxStalenessMs: v.TALLY_RATES_MAX_STALENESS_MS,
      quoteTtlMs: v.TALLY_QUOTE_TTL_MS,
      host: v.TALLY_HOST,
      auth: v.TALLY_AUTH,
      rateLimits: v.TALLY_RATE_LIMITS,
      tokenSecret: v.TALLY_TOKEN_SECRET,
      reflection: v.TALLY_REFLECTION === 'on',
      tls:
        v.TALLY_TLS_CERT && v.TALLY_TLS_KEY ? { cert: v.TALLY_TLS_CERT, key: v.TALLY_TLS_KEY, ca: v.TALLY_TLS_CA } : undefined,
    }),
  );

/** Variables whose values never appear in a message. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['TALLY_TOKEN_SECRET']);

/** Parses the environment; throws ConfigError listing every bad value, one line per variable. */
export function loadConfig(env: Env = process.env): Config {
  // Unset or blank means the default; values are read trimmed.
  const values: Record<string, string> = {};
  for (const name of Object.keys(DEFAULTS) as Variable[]) values[name] = env[name]?.trim() || DEFAULTS[name];
  const parsed = environment.safeParse(values);
  if (parsed.success) return parsed.data;
  const problems = new Map<string, string>();
  for (const issue of parsed.error.issues) {
    const name = issue.path[0];
    if (typeof name !== 'string') throw new Error(`a configuration rule names no variable: ${issue.message}`);
    const shown = SECRET_VARIABLES.has(name) ? `(${values[name]?.length ?? 0} characters, not shown)` : JSON.stringify(values[name]);
    if (!problems.has(name)) problems.set(name, `${name}=${shown} ${issue.message}`);
  }
  throw new ConfigError([...problems.values()]);
}
