import { ISO_4217, ISO_4217_PUBLISHED } from './iso-4217.js';

export interface Currency {
  /** Three-letter ISO 4217 code, for example `USD`. */
  readonly code: string;
  readonly name: string;
  /** Digits after the decimal point of the minor unit: USD 2, JPY 0, BHD 3. */
  readonly exponent: number;
  readonly numericCode: number;
}

const CURRENCIES: readonly Currency[] = Object.freeze(
  ISO_4217.map(([code, numericCode, exponent, name]) => Object.freeze({ code, name, exponent, numericCode })),
);
const BY_CODE: ReadonlyMap<string, Currency> = new Map(CURRENCIES.map((c) => [c.code, c]));

// The catalogue is generated; these hold whatever the source says, or the process must not start.
if (BY_CODE.size !== CURRENCIES.length) throw new Error('ISO 4217 catalogue has duplicate codes');
for (const c of CURRENCIES) {
  if (!/^[A-Z]{3}$/.test(c.code) || !Number.isInteger(c.exponent) || c.exponent < 0 || c.exponent > 4) {
    throw new Error(`ISO 4217 catalogue entry ${JSON.stringify(c)} is malformed`);
  }
}

export const catalogue = {
  published: ISO_4217_PUBLISHED,
  all: CURRENCIES,
  find: (code: string): Currency | undefined => BY_CODE.get(code),
};
