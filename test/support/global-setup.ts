import { createLogger } from '@tally/platform';
import { prepareDatabase } from '@tally/runtime';
import { TEST_DATABASE_URL } from './test-env.js';

/** Once per `vitest run`: create and migrate the test database, exactly as start-up does. */
export default async function setup(): Promise<void> {
  const db = await prepareDatabase(TEST_DATABASE_URL, createLogger('warn', 'test-setup'));
  await db.close();
}
