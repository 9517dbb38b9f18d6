/**
 * The CLI's configuration, read from the environment once at start. Every bad value is
 * reported, one clear line each, before anything starts.
 */
import { MAX_LATENCY_MS, type Faults } from './faults.js';

export const LOG_LEVELS = ['info', 'debug'] as const;
/** info: one line per start and stop; debug: also one per request. */
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface RatesMockConfig {
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  /** The fault switches at start, and what POST /admin/reset restores. */
  readonly faults: Faults;
  /** When set, every answer's as_of is this time instead of the clock. */
  readonly frozenAt: Date | undefined;
}

export const DEFAULTS = {
  RATES_MOCK_PORT: '8090',
  RATES_MOCK_HOST: '127.0.0.1',
  RATES_MOCK_LOG: 'info',
  RATES_MOCK_LATENCY_MS: '0',
  RATES_MOCK_ERROR_RATE: '0',
  RATES_MOCK_OUTAGE: 'false',
  RATES_MOCK_FROZEN_AT: '',
} as const;

export class RatesMockConfigError extends Error {
  override readonly name = 'RatesMockConfigError';

  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** A UTC time such as 2024-06-25T12:00:00Z, with optional milliseconds. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;
/** An IPv4 or IPv6 address or a host name. */
const HOST = /^[A-Za-z0-9.:-]{1,253}$/;

/** Parses the environment; throws RatesMockConfigError listing every bad value. */
export function loadRatesMockConfig(env: Env = process.env): RatesMockConfig {
  const problems: string[] = [];
  const read = (name: keyof typeof DEFAULTS): string => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? DEFAULTS[name] : value.trim();
  };
  const bad = (name: keyof typeof DEFAULTS, raw: string, rule: string) => problems.push(`${name}=${JSON.stringify(raw)} ${rule}`);

  const integer = (name: keyof typeof DEFAULTS, min: number, max: number): number => {
    const raw = read(name);
    const value = Number(raw);
    if (/^\d{1,9}$/.test(raw) && value >= min && value <= max) return value;
    bad(name, raw, `must be a whole number from ${min} to ${max}`);
    return min;
  };

  const host = read('RATES_MOCK_HOST');
  if (!HOST.test(host)) bad('RATES_MOCK_HOST', host, 'must be an IP address or a host name, such as 127.0.0.1');

  const logLevel = read('RATES_MOCK_LOG');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) bad('RATES_MOCK_LOG', logLevel, `must be one of ${LOG_LEVELS.join(', ')}`);

  const errorRateText = read('RATES_MOCK_ERROR_RATE');
  const errorRateOk = /^(?:0(?:\.\d{1,6})?|1(?:\.0{1,6})?)$/.test(errorRateText);
  if (!errorRateOk) bad('RATES_MOCK_ERROR_RATE', errorRateText, 'must be a number from 0 to 1 with at most 6 decimals, such as 0.25');

  const outageText = read('RATES_MOCK_OUTAGE');
  if (outageText !== 'true' && outageText !== 'false') bad('RATES_MOCK_OUTAGE', outageText, 'must be true or false');

  const frozenText = read('RATES_MOCK_FROZEN_AT');
  let frozenAt: Date | undefined;
  if (frozenText !== '') {
    frozenAt = new Date(frozenText);
    // Date accepts 2024-02-30 and rolls it over; the round trip refuses it.
    const roundTrips = !Number.isNaN(frozenAt.getTime()) && frozenAt.toISOString().slice(0, 19) === frozenText.slice(0, 19);
    if (!ISO_UTC.test(frozenText) || !roundTrips) {
      bad('RATES_MOCK_FROZEN_AT', frozenText, 'must be a UTC time such as 2024-06-25T12:00:00Z');
      frozenAt = undefined;
    }
  }

  const config: RatesMockConfig = {
    port: integer('RATES_MOCK_PORT', 0, 65535),
    host,
    logLevel: logLevel as LogLevel,
    faults: {
      latencyMs: integer('RATES_MOCK_LATENCY_MS', 0, MAX_LATENCY_MS),
      errorRate: errorRateOk ? Number(errorRateText) : 0,
      outage: outageText === 'true',
    },
    frozenAt,
  };
  if (problems.length > 0) throw new RatesMockConfigError(problems);
  return config;
}
