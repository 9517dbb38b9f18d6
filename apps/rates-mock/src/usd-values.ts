/**
 * What each supported currency is worth in US dollars. The mock quotes every rate from these:
 * the rate from A to B is value(A) / value(B). Fixed values, so the same question always gets
 * the same answer; overrides (POST /admin/rates) let a test see rates change.
 */
import { invert, parseDecimal, ratio, type Ratio } from './rates.js';
import { SUPPORTED_CODES } from './supported-codes.js';

export { SUPPORTED_CODES };
const SUPPORTED: ReadonlySet<string> = new Set(SUPPORTED_CODES);

export function isSupported(code: string): boolean {
  return SUPPORTED.has(code);
}

/**
 * Units of a currency one US dollar buys, for the currencies people look at: roughly the
 * market of mid-2024, and the real pegs. Written the way a feed with base USD prints them, so
 * that GET /v1/rates?base=USD answers exactly these numbers.
 */
const UNITS_PER_USD: Readonly<Record<string, string>> = {
  USD: '1',
  USN: '1',
  EUR: '0.9215',
  GBP: '0.7862',
  JPY: '151.37',
  CHF: '0.9034',
  CAD: '1.3651',
  AUD: '1.5234',
  NZD: '1.6612',
  CNY: '7.2345',
  HKD: '7.8123',
  SGD: '1.3489',
  INR: '83.412',
  KRW: '1365.2',
  TWD: '32.318',
  THB: '36.612',
  IDR: '16105',
  MYR: '4.7312',
  PHP: '57.521',
  VND: '25385',
  SEK: '10.6721',
  NOK: '10.8934',
  DKK: '6.8765',
  ISK: '138.45',
  PLN: '3.9876',
  CZK: '23.145',
  HUF: '362.45',
  RON: '4.5862',
  BGN: '1.7955',
  TRY: '32.251',
  UAH: '39.512',
  ILS: '3.7012',
  AED: '3.6725',
  SAR: '3.75',
  QAR: '3.64',
  BHD: '0.376',
  KWD: '0.3075',
  OMR: '0.3845',
  JOD: '0.709',
  EGP: '47.85',
  MAD: '9.9821',
  NGN: '1450.25',
  KES: '129.5',
  ZAR: '18.6543',
  MXN: '17.0521',
  BRL: '5.0634',
  ARS: '870.5',
  CLP: '945.12',
  CLF: '0.02524',
  COP: '3912.5',
  PEN: '3.7245',
  PKR: '278.15',
  BDT: '109.75',
  LBP: '89500',
  BMD: '1',
  BSD: '1',
  PAB: '1',
  XCD: '2.7',
  XAF: '604.47',
  XOF: '604.47',
};

// The table is hand-written: a code outside the catalogue or a malformed number is a bug, and
// the mock must not start with it.
for (const [code, quote] of Object.entries(UNITS_PER_USD)) {
  if (!SUPPORTED.has(code)) throw new Error(`rates-mock: ${code} is not among the supported codes`);
  if (!parseDecimal(quote)) throw new Error(`rates-mock: ${code} quote ${JSON.stringify(quote)} is not a positive decimal`);
}

/** The codes whose value is hand-written rather than derived from a hash. */
export const QUOTED_CODES: readonly string[] = Object.freeze(Object.keys(UNITS_PER_USD).sort());

/**
 * FNV-1a, 32 bits. Integer-only (Math.imul multiplies modulo 2^32), so the same code hashes to
 * the same number on every machine and Node version.
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * A made-up but stable USD value for a currency without a quote: from 0.0005 up to 5 USD,
 * spread over the four decades in between, with at most five significant digits.
 */
export function hashedUsdValue(code: string): Ratio {
  const hash = fnv1a32(code);
  const decade = hash % 4; // 0: [0.0005, 0.005), 1: [0.005, 0.05), 2: [0.05, 0.5), 3: [0.5, 5)
  const mantissa = 5000 + ((hash >>> 2) % 45_000); // 5000 ..= 49999
  return ratio(BigInt(mantissa), 10n ** BigInt(7 - decade));
}

/** The USD value of a supported currency, before any override. */
export function standardUsdValue(code: string): Ratio {
  if (!SUPPORTED.has(code)) throw new RangeError(`${code} is not a supported currency`);
  const quote = UNITS_PER_USD[code];
  if (quote === undefined) return hashedUsdValue(code);
  const units = parseDecimal(quote);
  if (!units) throw new Error(`unreachable: ${code} quote checked at load`);
  return invert(units);
}

const STANDARD: ReadonlyMap<string, Ratio> = new Map(SUPPORTED_CODES.map((code) => [code, standardUsdValue(code)]));

/** Changes to the USD values: a decimal string sets one, null restores the standard value. */
export type UsdValuesPatch = ReadonlyMap<string, string | null>;

/**
 * Checks a body such as {"EUR":"0.5","GBP":null}: supported codes only, each a positive plain
 * decimal string (at most 12 digits either side of the point) or null.
 */
export function checkUsdValuesPatch(input: unknown): { ok: true; patch: UsdValuesPatch } | { ok: false; problems: string[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: ['the body must be a JSON object such as {"EUR":"1.0852"} (USD per unit)'] };
  }
  const problems: string[] = [];
  const patch = new Map<string, string | null>();
  for (const [code, value] of Object.entries(input)) {
    const shown = JSON.stringify(code.slice(0, 16));
    if (!SUPPORTED.has(code)) problems.push(`${shown} is not a supported currency code`);
    else if (value === null || (typeof value === 'string' && parseDecimal(value))) patch.set(code, value);
    else problems.push(`${shown} must be a positive decimal string such as "1.0852", or null to restore it`);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, patch };
}

/** The USD values the mock quotes from: the standard ones, except where overridden. */
export class UsdValues {
  readonly #overrides = new Map<string, { readonly text: string; readonly value: Ratio }>();

  valueOf(code: string): Ratio {
    const value = this.#overrides.get(code)?.value ?? STANDARD.get(code);
    if (!value) throw new RangeError(`${code} is not a supported currency`);
    return value;
  }

  /** Applies a patch checked by checkUsdValuesPatch. */
  apply(patch: UsdValuesPatch): void {
    for (const [code, text] of patch) {
      if (!SUPPORTED.has(code)) throw new RangeError(`${code} is not a supported currency`);
      if (text === null) {
        this.#overrides.delete(code);
        continue;
      }
      const value = parseDecimal(text);
      if (!value) throw new RangeError(`${JSON.stringify(text)} is not a positive decimal`);
      this.#overrides.set(code, { text, value });
    }
  }

  /** The overridden USD values, by code, as they were given. */
  overrides(): Record<string, string> {
    return Object.fromEntries([...this.#overrides].sort(([a], [b]) => (a < b ? -1 : 1)).map(([code, o]) => [code, o.text]));
  }

  reset(): void {
    this.#overrides.clear();
  }
}
