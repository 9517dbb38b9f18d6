/**
 * The service's configuration, read from the environment once at start. Every bad value is
 * reported, one clear line each, before anything starts.
 */

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

/** Parses the environment; throws ConfigError listing every bad value. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = (name: keyof typeof DEFAULTS): string => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? DEFAULTS[name] : value.trim();
  };

  const url = (name: 'DATABASE_URL' | 'REDIS_URL' | 'TALLY_RATES_URL', protocols: readonly string[]): string => {
    const raw = read(name);
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      problems.push(`${name}=${JSON.stringify(raw)} is not a URL (example: ${DEFAULTS[name]})`);
      return raw;
    }
    if (!protocols.includes(parsed.protocol)) {
      problems.push(`${name}=${JSON.stringify(raw)} must use ${protocols.map((p) => `${p}//`).join(' or ')}`);
    }
    return raw;
  };

  const integer = (name: keyof typeof DEFAULTS, min: number, max: number): number => {
    const raw = read(name);
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`);
      return min;
    }
    return value;
  };

  const logLevel = read('TALLY_LOG_LEVEL');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`TALLY_LOG_LEVEL=${JSON.stringify(logLevel)} must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const role = read('TALLY_ROLE');
  if (!(ROLES as readonly string[]).includes(role)) {
    problems.push(`TALLY_ROLE=${JSON.stringify(role)} must be one of ${ROLES.join(', ')}`);
  }

  const corsOrigins = read('TALLY_CORS_ORIGINS')
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  for (const origin of corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      problems.push(`TALLY_CORS_ORIGINS has ${JSON.stringify(origin)}: each origin must be * or like https://app.example.com`);
    }
  }

  const config: Config = {
    databaseUrl: url('DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url('REDIS_URL', ['redis:', 'rediss:']),
    grpcPort: integer('TALLY_GRPC_PORT', 0, 65535),
    httpPort: integer('TALLY_HTTP_PORT', 0, 65535),
    partitions: integer('TALLY_PARTITIONS', 1, MAX_PARTITIONS),
    logLevel: logLevel as LogLevel,
    corsOrigins,
    requestTimeoutMs: integer('TALLY_REQUEST_TIMEOUT_MS', 100, 600_000),
    role: role as Role,
    retentionHours: integer('TALLY_RETENTION_HOURS', 1, 87_600),
    ratesUrl: url('TALLY_RATES_URL', ['http:', 'https:']),
    ratesTimeoutMs: integer('TALLY_RATES_TIMEOUT_MS', 50, 60_000),
    ratesCacheTtlMs: integer('TALLY_RATES_CACHE_TTL_MS', 100, 86_400_000),
    ratesMaxStalenessMs: integer('TALLY_RATES_MAX_STALENESS_MS', 0, 7 * 86_400_000),
    quoteTtlMs: integer('TALLY_QUOTE_TTL_MS', 1_000, 86_400_000),
  };
  if (config.grpcPort !== 0 && config.grpcPort === config.httpPort) {
    problems.push(`TALLY_GRPC_PORT and TALLY_HTTP_PORT are both ${config.grpcPort}: they must differ`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
