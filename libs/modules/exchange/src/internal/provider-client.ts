import { conversion, currencies } from '@tally/currencies';

/**
 * The external rate provider, over HTTP like any real one: `GET <url>/v1/rates?base=USD`
 * answers `{"base":"USD","as_of":"…","rates":{"EUR":"0.9215",…}}` with exact decimal strings.
 * Anything else (a timeout, a status other than 200, a malformed body) is a provider failure.
 */

/** Units of each currency per one US dollar, as exact decimal strings, and when they were published. */
export interface RateTable {
  readonly asOfMs: number;
  readonly usdRates: Readonly<Record<string, string>>;
}

/** Largest provider answer read; a rate table for every currency is a few kilobytes. */
const MAX_BODY_BYTES = 256 * 1024;

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    message: string,
    /** The provider did not answer within the timeout. */
    readonly timedOut = false,
  ) {
    super(message);
  }
}

export async function fetchUsdRates(baseUrl: string, timeoutMs: number): Promise<RateTable> {
  let response: Response;
  try {
    response = await fetch(new URL('/v1/rates?base=USD', baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    throw new ProviderError(`rate provider unreachable: ${error instanceof Error ? error.message : String(error)}`, timedOut);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new ProviderError(`rate provider answered HTTP ${response.status}`);
  }
  const text = await response.text();
  if (text.length > MAX_BODY_BYTES) throw new ProviderError('rate provider answer too large');
  return parseTable(text);
}

/** Checks every field: a rate we would convert money with must be exactly what it says. */
export function parseTable(text: string): RateTable {
  let body: { base?: unknown; as_of?: unknown; rates?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new ProviderError('rate provider answer is not JSON');
  }
  const asOfMs = typeof body.as_of === 'string' ? Date.parse(body.as_of) : Number.NaN;
  if (body.base !== 'USD' || Number.isNaN(asOfMs) || typeof body.rates !== 'object' || body.rates === null) {
    throw new ProviderError('rate provider answer lacks base, as_of or rates');
  }
  const usdRates: Record<string, string> = { USD: '1' };
  for (const [code, value] of Object.entries(body.rates as Record<string, unknown>)) {
    if (!currencies.find(code)) continue; // a currency we do not support: ignore it
    if (typeof value !== 'string' || !conversion.parseRate(value)) throw new ProviderError(`rate provider sent a bad rate for ${code}`);
    usdRates[code] = value;
  }
  return { asOfMs, usdRates };
}
