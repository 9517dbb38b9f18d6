import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, loadConfig } from './config.js';

const problemsOf = (env: Record<string, string>): readonly string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return [];
};

/** One bad value per variable, and the line that reports it. */
const BAD_VALUES: ReadonlyArray<[variable: keyof typeof DEFAULTS, value: string, line: string]> = [
  ['DATABASE_URL', 'mysql://x', 'DATABASE_URL="mysql://x" must use postgres:// or postgresql://'],
  ['REDIS_URL', 'not a url', 'REDIS_URL="not a url" is not a URL (example: redis://127.0.0.1:6379)'],
  ['TALLY_GRPC_PORT', '70000', 'TALLY_GRPC_PORT="70000" must be a whole number from 0 to 65535'],
  ['TALLY_HTTP_PORT', '-1', 'TALLY_HTTP_PORT="-1" must be a whole number from 0 to 65535'],
  ['TALLY_PARTITIONS', '1025', 'TALLY_PARTITIONS="1025" must be a whole number from 1 to 1024'],
  ['TALLY_LOG_LEVEL', 'loud', 'TALLY_LOG_LEVEL="loud" must be one of fatal, error, warn, info, debug, trace, silent'],
  [
    'TALLY_CORS_ORIGINS',
    'https://app.example.com, example.com,ftp://x',
    'TALLY_CORS_ORIGINS="https://app.example.com, example.com,ftp://x" has "example.com", "ftp://x": each origin must be * or like https://app.example.com',
  ],
  ['TALLY_REQUEST_TIMEOUT_MS', '99', 'TALLY_REQUEST_TIMEOUT_MS="99" must be a whole number from 100 to 600000'],
  ['TALLY_ROLE', 'both', 'TALLY_ROLE="both" must be one of all, api, worker'],
  ['TALLY_RETENTION_HOURS', '0', 'TALLY_RETENTION_HOURS="0" must be a whole number from 1 to 87600'],
  ['TALLY_RATES_URL', 'ftp://rates.example.com', 'TALLY_RATES_URL="ftp://rates.example.com" must use http:// or https://'],
  ['TALLY_RATES_TIMEOUT_MS', '1e3', 'TALLY_RATES_TIMEOUT_MS="1e3" must be a whole number from 50 to 60000'],
  ['TALLY_RATES_CACHE_TTL_MS', '60s', 'TALLY_RATES_CACHE_TTL_MS="60s" must be a whole number from 100 to 86400000'],
  ['TALLY_RATES_MAX_STALENESS_MS', '604800001', 'TALLY_RATES_MAX_STALENESS_MS="604800001" must be a whole number from 0 to 604800000'],
  ['TALLY_QUOTE_TTL_MS', '2.5', 'TALLY_QUOTE_TTL_MS="2.5" must be a whole number from 1000 to 86400000'],
];

describe('loadConfig', () => {
  it('uses the documented defaults, for unset and blank variables alike', () => {
    const defaults = {
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/tally',
      redisUrl: 'redis://127.0.0.1:6379',
      grpcPort: 50051,
      httpPort: 8080,
      partitions: 8,
      logLevel: 'info',
      corsOrigins: ['*'],
      requestTimeoutMs: 10_000,
      role: 'all',
      retentionHours: 168,
      ratesUrl: 'http://127.0.0.1:8090',
      ratesTimeoutMs: 2_000,
      ratesCacheTtlMs: 60_000,
      ratesMaxStalenessMs: 900_000,
      quoteTtlMs: 30_000,
    };
    expect(loadConfig({})).toEqual(defaults);
    expect(loadConfig(Object.fromEntries(Object.keys(DEFAULTS).map((name) => [name, '  '])))).toEqual(defaults);
  });

  it('reads every variable, trimmed', () => {
    expect(
      loadConfig({
        DATABASE_URL: ' postgresql://tally@db.internal:6432/ledger ',
        REDIS_URL: 'rediss://cache.internal:6380/2',
        TALLY_GRPC_PORT: '0',
        TALLY_HTTP_PORT: '0',
        TALLY_PARTITIONS: '1024',
        TALLY_LOG_LEVEL: 'debug',
        TALLY_CORS_ORIGINS: 'https://app.example.com, http://localhost:3000,',
        TALLY_REQUEST_TIMEOUT_MS: '600000',
        TALLY_ROLE: 'worker',
        TALLY_RETENTION_HOURS: '1',
        TALLY_RATES_URL: 'https://rates.example.com/api',
        TALLY_RATES_TIMEOUT_MS: '50',
        TALLY_RATES_CACHE_TTL_MS: '100',
        TALLY_RATES_MAX_STALENESS_MS: '0',
        TALLY_QUOTE_TTL_MS: '86400000',
      }),
    ).toEqual({
      databaseUrl: 'postgresql://tally@db.internal:6432/ledger',
      redisUrl: 'rediss://cache.internal:6380/2',
      grpcPort: 0,
      httpPort: 0,
      partitions: 1024,
      logLevel: 'debug',
      corsOrigins: ['https://app.example.com', 'http://localhost:3000'],
      requestTimeoutMs: 600_000,
      role: 'worker',
      retentionHours: 1,
      ratesUrl: 'https://rates.example.com/api',
      ratesTimeoutMs: 50,
      ratesCacheTtlMs: 100,
      ratesMaxStalenessMs: 0,
      quoteTtlMs: 86_400_000,
    });
  });

  it.each(BAD_VALUES)('reports a bad %s in one line naming it', (variable, value, line) => {
    expect(problemsOf({ [variable]: value })).toEqual([line]);
  });

  it('reports every bad value at once, one line per variable, in the order of the variables', () => {
    const problems = problemsOf(Object.fromEntries(BAD_VALUES.map(([variable, value]) => [variable, value])));
    expect(problems).toEqual(BAD_VALUES.map(([, , line]) => line));
    expect(new ConfigError(problems).message.split('\n')).toHaveLength(1 + BAD_VALUES.length);
  });

  it('refuses one port for both transports, along with any other problem', () => {
    expect(problemsOf({ TALLY_GRPC_PORT: '9000', TALLY_HTTP_PORT: '9000', TALLY_ROLE: 'both' })).toEqual([
      'TALLY_ROLE="both" must be one of all, api, worker',
      'TALLY_HTTP_PORT="9000" must differ from TALLY_GRPC_PORT',
    ]);
    expect(problemsOf({ TALLY_GRPC_PORT: '9000', TALLY_HTTP_PORT: '9001' })).toEqual([]);
  });
});
