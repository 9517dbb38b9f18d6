import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  ['TALLY_HOST', 'example.com', 'TALLY_HOST="example.com" must be an IP address (0.0.0.0, 127.0.0.1, ::) or localhost'],
  ['TALLY_AUTH', 'optional', 'TALLY_AUTH="optional" must be one of required, off'],
  [
    'TALLY_RATE_LIMITS',
    'read=10/m,watches=0',
    'TALLY_RATE_LIMITS="read=10/m,watches=0" "read=10/m" is not read=N/s, write=N/s (each with an optional :BURST) or watches=N; watches=0: watches go from 1 to 10000000 (example: read=2000/s,write=500/s,watches=1000, or off)',
  ],
  [
    'TALLY_TOKEN_SECRET',
    'short-secret',
    'TALLY_TOKEN_SECRET=(12 characters, not shown) must be at least 32 characters (or unset: a generated one is kept in the database)',
  ],
  ['TALLY_REFLECTION', 'no', 'TALLY_REFLECTION="no" must be on or off'],
  ['TALLY_TLS_CERT', '/nonexistent/cert.pem', 'TALLY_TLS_CERT="/nonexistent/cert.pem" cannot be read (ENOENT)'],
  ['TALLY_TLS_KEY', '/etc/hostname', 'TALLY_TLS_KEY="/etc/hostname" is not a PEM file (no -----BEGIN line)'],
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
      host: '0.0.0.0',
      auth: 'off',
      rateLimits: { read: { perSecond: 20_000, burst: 20_000 }, write: { perSecond: 20_000, burst: 20_000 }, watches: 10_000 },
      tokenSecret: '',
      reflection: true,
      tls: undefined,
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
        TALLY_HOST: '::1',
        TALLY_AUTH: 'required',
        TALLY_RATE_LIMITS: 'read=2000/s:5000, watches=1000',
        TALLY_TOKEN_SECRET: 's'.repeat(32),
        TALLY_REFLECTION: 'off',
        NODE_ENV: 'production',
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
      host: '::1',
      auth: 'required',
      rateLimits: { read: { perSecond: 2_000, burst: 5_000 }, write: { perSecond: 20_000, burst: 20_000 }, watches: 1_000 },
      tokenSecret: 's'.repeat(32),
      reflection: false,
      tls: undefined,
    });
    expect(loadConfig({ TALLY_RATE_LIMITS: 'off' }).rateLimits).toBeUndefined();
  });

  it('refuses to run in production without API keys', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'TALLY_AUTH="off" must be required when NODE_ENV=production: refusing to serve without API keys',
    ]);
  });

  it('reads TLS files, and wants the certificate and its key together', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-config-'));
    const pem = join(dir, 'x.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n');
    expect(loadConfig({ TALLY_TLS_CERT: pem, TALLY_TLS_KEY: pem }).tls).toEqual({ cert: readFileSync(pem), key: readFileSync(pem), ca: undefined });
    expect(problemsOf({ TALLY_TLS_CERT: pem })).toEqual(['TALLY_TLS_KEY="" TALLY_TLS_CERT and TALLY_TLS_KEY go together: set both or neither']);
    expect(problemsOf({ TALLY_TLS_CA: pem })).toEqual([
      'TALLY_TLS_CA="' + pem + '" checks client certificates, which needs TLS: set TALLY_TLS_CERT and TALLY_TLS_KEY too',
    ]);
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
