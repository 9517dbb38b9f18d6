/**
 * The fault switches: how the mock misbehaves on purpose, so tests and demos can see what
 * Tally does when its rate provider is slow, flaky or down. They apply to the provider API
 * (/v1) only; /healthz and /admin always answer.
 */

export interface Faults {
  /** Added before every /v1 answer. */
  readonly latencyMs: number;
  /** Share of /v1 answers that are 503 UNAVAILABLE, from 0 to 1. */
  readonly errorRate: number;
  /** Every /v1 connection is destroyed unanswered, as if the provider were down. */
  readonly outage: boolean;
}

export const NO_FAULTS: Faults = Object.freeze({ latencyMs: 0, errorRate: 0, outage: false });

/** Longer than any client timeout worth testing; a bigger value would only hold connections. */
export const MAX_LATENCY_MS = 60_000;

/** The error rate counts in millionths: exact integer steps, no drift over a long run. */
const PER_MILLION = 1_000_000;

const FIELDS: Readonly<Record<keyof Faults, string>> = {
  latencyMs: `a whole number of milliseconds from 0 to ${MAX_LATENCY_MS}`,
  errorRate: 'a number from 0 to 1',
  outage: 'true or false',
};

/** Checks a (partial) set of switches such as {"latencyMs":200}: known fields, values in range. */
export function checkFaultsPatch(input: unknown): { ok: true; patch: Partial<Faults> } | { ok: false; problems: string[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: ['the body must be a JSON object such as {"latencyMs":0,"errorRate":0,"outage":false}'] };
  }
  const problems: string[] = [];
  const patch: { -readonly [K in keyof Faults]?: Faults[K] } = {};
  for (const [field, value] of Object.entries(input)) {
    if (field === 'latencyMs' && Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_LATENCY_MS) {
      patch.latencyMs = value as number;
    } else if (field === 'errorRate' && typeof value === 'number' && value >= 0 && value <= 1) {
      patch.errorRate = value;
    } else if (field === 'outage' && typeof value === 'boolean') {
      patch.outage = value;
    } else if (Object.hasOwn(FIELDS, field)) {
      problems.push(`${field} must be ${FIELDS[field as keyof Faults]} (got ${JSON.stringify(value)})`);
    } else {
      problems.push(`${JSON.stringify(field.slice(0, 32))} is not a fault switch: use ${Object.keys(FIELDS).join(', ')}`);
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, patch };
}

/**
 * The switches in force, and which /v1 answers fail. Failures are deterministic: with rate r,
 * answer n (counted from the last change of r) fails when floor(n·r) passes a whole number,
 * so 1 fails every answer, 0.5 every second, 0.25 every fourth, and 0.3 three in ten.
 */
export class FaultSwitches {
  readonly #initial: Faults;
  #faults: Faults;
  #failuresPerMillion = 0;
  #credit = 0;

  constructor(initial: Partial<Faults> = {}) {
    this.#initial = this.#merged(NO_FAULTS, initial);
    this.#faults = this.#initial;
    this.#restartErrorSequence();
  }

  current(): Faults {
    return this.#faults;
  }

  /** Changes the given switches; throws RangeError, changing nothing, on a bad value. */
  set(patch: Partial<Faults>): Faults {
    this.#faults = this.#merged(this.#faults, patch);
    if (patch.errorRate !== undefined) this.#restartErrorSequence();
    return this.#faults;
  }

  /** Back to the switches the mock started with. */
  reset(): Faults {
    this.#faults = this.#initial;
    this.#restartErrorSequence();
    return this.#faults;
  }

  /** Whether the next /v1 answer is a 503. Call once per answer. */
  nextAnswerFails(): boolean {
    this.#credit += this.#failuresPerMillion;
    if (this.#credit < PER_MILLION) return false;
    this.#credit -= PER_MILLION;
    return true;
  }

  #merged(base: Faults, patch: Partial<Faults>): Faults {
    const checked = checkFaultsPatch(patch);
    if (!checked.ok) throw new RangeError(`bad fault switches: ${checked.problems.join('; ')}`);
    return Object.freeze({ ...base, ...checked.patch });
  }

  #restartErrorSequence(): void {
    this.#failuresPerMillion = Math.round(this.#faults.errorRate * PER_MILLION);
    this.#credit = 0;
  }
}
