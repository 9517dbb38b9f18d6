import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('uses the documented defaults', () => {
    expect(loadConfig({})).toEqual({
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
    });
  });

  it('reports every bad value, one line each', () => {
    let problems: readonly string[] = [];
    try {
      loadConfig({
        DATABASE_URL: 'mysql://x',
        REDIS_URL: 'not a url',
        TALLY_GRPC_PORT: '70000',
        TALLY_PARTITIONS: '0',
        TALLY_LOG_LEVEL: 'loud',
        TALLY_ROLE: 'both',
        TALLY_CORS_ORIGINS: 'example.com',
      });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems;
    }
    expect(problems.map((p) => p.split('=')[0])).toEqual([
      'TALLY_LOG_LEVEL',
      'TALLY_ROLE',
      'TALLY_CORS_ORIGINS has "example.com": each origin must be * or like https://app.example.com',
      'DATABASE_URL',
      'REDIS_URL',
      'TALLY_GRPC_PORT',
      'TALLY_PARTITIONS',
    ]);
  });

  it('refuses one port for both transports', () => {
    expect(() => loadConfig({ TALLY_GRPC_PORT: '9000', TALLY_HTTP_PORT: '9000' })).toThrow(/must differ/);
  });
});
