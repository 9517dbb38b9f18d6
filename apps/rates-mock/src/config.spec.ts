import { describe, expect, it } from 'vitest';
import { loadRatesMockConfig, RatesMockConfigError } from './config.js';

const problemsOf = (env: Record<string, string>): readonly string[] => {
  try {
    loadRatesMockConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(RatesMockConfigError);
    return (error as RatesMockConfigError).problems;
  }
  return [];
};

describe('loadRatesMockConfig', () => {
  it('uses the documented defaults', () => {
    expect(loadRatesMockConfig({})).toEqual({
      port: 8090,
      host: '127.0.0.1',
      logLevel: 'info',
      faults: { latencyMs: 0, errorRate: 0, outage: false },
      frozenAt: undefined,
    });
  });

  it('reads every variable', () => {
    expect(
      loadRatesMockConfig({
        RATES_MOCK_PORT: '0',
        RATES_MOCK_HOST: '::1',
        RATES_MOCK_LOG: 'debug',
        RATES_MOCK_LATENCY_MS: '250',
        RATES_MOCK_ERROR_RATE: '0.25',
        RATES_MOCK_OUTAGE: 'true',
        RATES_MOCK_FROZEN_AT: '2024-06-25T12:00:00Z',
      }),
    ).toEqual({
      port: 0,
      host: '::1',
      logLevel: 'debug',
      faults: { latencyMs: 250, errorRate: 0.25, outage: true },
      frozenAt: new Date('2024-06-25T12:00:00.000Z'),
    });
  });

  it('reports every bad value, one line each, naming the variable', () => {
    const problems = problemsOf({
      RATES_MOCK_PORT: '70000',
      RATES_MOCK_HOST: 'exa mple',
      RATES_MOCK_LOG: 'trace',
      RATES_MOCK_LATENCY_MS: '-1',
      RATES_MOCK_ERROR_RATE: '1.5',
      RATES_MOCK_OUTAGE: 'yes',
      RATES_MOCK_FROZEN_AT: '2024-02-30T00:00:00Z',
    });
    expect(problems.map((p) => p.split('=')[0]).sort()).toEqual([
      'RATES_MOCK_ERROR_RATE',
      'RATES_MOCK_FROZEN_AT',
      'RATES_MOCK_HOST',
      'RATES_MOCK_LATENCY_MS',
      'RATES_MOCK_LOG',
      'RATES_MOCK_OUTAGE',
      'RATES_MOCK_PORT',
    ]);
    for (const problem of problems) expect(problem).not.toContain('\n');
  });

  it('refuses error rates and times that only look right', () => {
    for (const rate of ['1.1', '.5', '0.1234567', '1e-1', '-0']) {
      expect(problemsOf({ RATES_MOCK_ERROR_RATE: rate }), rate).toHaveLength(1);
    }
    for (const time of ['2024-06-25', '2024-06-25T12:00:00+02:00', 'now', '2024-13-01T00:00:00Z', '2023-02-29T00:00:00Z', '2024-06-25T12:00:00.1234Z']) {
      expect(problemsOf({ RATES_MOCK_FROZEN_AT: time }), time).toEqual([`RATES_MOCK_FROZEN_AT=${JSON.stringify(time)} must be a UTC time such as 2024-06-25T12:00:00Z`]);
    }
    expect(loadRatesMockConfig({ RATES_MOCK_FROZEN_AT: '2024-02-29T23:59:59.5Z' }).frozenAt).toEqual(new Date('2024-02-29T23:59:59.500Z'));
  });

  it('says what each bad value should be', () => {
    expect(problemsOf({ RATES_MOCK_PORT: '8o90', RATES_MOCK_LOG: 'trace', RATES_MOCK_OUTAGE: 'yes' })).toEqual([
      'RATES_MOCK_PORT="8o90" must be a whole number from 0 to 65535',
      'RATES_MOCK_LOG="trace" must be one of info, debug',
      'RATES_MOCK_OUTAGE="yes" must be true or false',
    ]);
  });
});
