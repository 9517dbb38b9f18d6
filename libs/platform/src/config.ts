/**
 * The service's configuration, read from the environment once at start. Every bad value is
 * reported, one clear line each, before anything starts.
 */
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const ROLES = ['all', 'api', 'worker'] as const;
/** all: API and worker in one process (the default); api: RPCs only; worker: applies operations only. */
export type Role = (typeof ROLES)[number];

/** Limits on the deployment's shape. */
export const MAX_PARTITIONS = 1024;

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
} as const;

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
} satisfies Record<Variable, z.ZodType<unknown, string>>;

const environment = z
  .object(variables)
  .refine((v) => v.TALLY_GRPC_PORT === 0 || v.TALLY_GRPC_PORT !== v.TALLY_HTTP_PORT, {
    path: ['TALLY_HTTP_PORT'],
    error: 'must differ from TALLY_GRPC_PORT',
    // Reported with the other problems, once both ports are numbers.
    when: (payload) => payload.issues.every((i) => i.path?.[0] !== 'TALLY_GRPC_PORT' && i.path?.[0] !== 'TALLY_HTTP_PORT'),
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
    }),
  );

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
    if (!problems.has(name)) problems.set(name, `${name}=${JSON.stringify(values[name])} ${issue.message}`);
  }
  throw new ConfigError([...problems.values()]);
}
