/**
 * The CLI's configuration, read from the environment once at start. Every bad value is
 * reported, one clear line each, before anything starts.
 */
import { z } from 'zod';
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

// The mock stands apart from Tally's libraries, so this mirrors the service's own config reading.
type Env = Readonly<Record<string, string | undefined>>;
type Variable = keyof typeof DEFAULTS;

/** A whole number from `min` to `max`, written in at most 9 digits: no sign, point or exponent. */
function wholeNumber(min: number, max: number) {
  const error = `must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d{1,9}$/, { error })
    .transform(Number)
    .pipe(z.number().min(min, { error }).max(max, { error }));
}

/** An IPv4 or IPv6 address or a host name. */
const HOST = /^[A-Za-z0-9.:-]{1,253}$/;
/** From 0 to 1 in millionths at most, as the fault switch counts it. */
const ERROR_RATE = /^(?:0(?:\.\d{1,6})?|1(?:\.0{1,6})?)$/;

/** One rule per variable, by its name in the environment. */
const variables = {
  RATES_MOCK_PORT: wholeNumber(0, 65535),
  RATES_MOCK_HOST: z.string().regex(HOST, { error: 'must be an IP address or a host name, such as 127.0.0.1' }),
  RATES_MOCK_LOG: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }),
  RATES_MOCK_LATENCY_MS: wholeNumber(0, MAX_LATENCY_MS),
  RATES_MOCK_ERROR_RATE: z
    .string()
    .regex(ERROR_RATE, { error: 'must be a number from 0 to 1 with at most 6 decimals, such as 0.25' })
    .transform(Number),
  RATES_MOCK_OUTAGE: z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true'),
  // Blank: the clock. The calendar is checked (no 2024-02-30); milliseconds at most, as Date keeps.
  RATES_MOCK_FROZEN_AT: z.union(
    [
      z.literal('').transform(() => undefined),
      z.iso
        .datetime()
        .regex(/(?::\d{2}|\.\d{1,3})Z$/)
        .transform((t) => new Date(t)),
    ],
    { error: 'must be a UTC time such as 2024-06-25T12:00:00Z' },
  ),
} satisfies Record<Variable, z.ZodType<unknown, string>>;

const environment = z.object(variables).transform(
  (v): RatesMockConfig => ({
    port: v.RATES_MOCK_PORT,
    host: v.RATES_MOCK_HOST,
    logLevel: v.RATES_MOCK_LOG,
    faults: { latencyMs: v.RATES_MOCK_LATENCY_MS, errorRate: v.RATES_MOCK_ERROR_RATE, outage: v.RATES_MOCK_OUTAGE },
    frozenAt: v.RATES_MOCK_FROZEN_AT,
  }),
);

/** Parses the environment; throws RatesMockConfigError listing every bad value, one line per variable. */
export function loadRatesMockConfig(env: Env = process.env): RatesMockConfig {
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
  throw new RatesMockConfigError([...problems.values()]);
}
