/**
 * A stand-in for the external currency-conversion API that Tally's exchange module calls over
 * HTTP: deterministic exact rates for every ISO 4217 currency it supports, and fault switches (latency,
 * error rate, outage) for tests and demos. As a process: `node apps/rates-mock/dist/main.js`
 * (RATES_MOCK_* variables); in tests:
 *
 *   const provider = await startRatesMock({ port: 0 });
 *   provider.setFaults({ outage: true });
 */
export { startRatesMock, MAX_CONNECTIONS } from './server.js';
export type { RatesMock, RatesMockOptions, RequestLogEntry } from './server.js';
export { NO_FAULTS, MAX_LATENCY_MS } from './faults.js';
export type { Faults } from './faults.js';
export { MAX_SYMBOLS } from './quote.js';
export { MAX_URL_CHARS, MAX_ADMIN_BODY_BYTES } from './http.js';
export { RATE_SIGNIFICANT_DIGITS } from './rates.js';
export { SUPPORTED_CODES } from './supported-codes.js';
