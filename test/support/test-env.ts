/** The database the suites use; never the one `npm start` serves. */
export const TEST_DATABASE_URL =
  process.env['TALLY_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/tally_test';
export const TEST_REDIS_URL = process.env['TALLY_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379/1';
