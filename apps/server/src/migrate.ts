#!/usr/bin/env node
/** `npm run migrate`: create the database when missing and apply pending migrations, then exit. */
import { ConfigError, createLogger, loadConfig } from '@tally/platform';
import { prepareDatabase } from '@tally/runtime';

try {
  const config = loadConfig();
  const db = await prepareDatabase(config.databaseUrl, createLogger(config.logLevel, 'tally-migrate'));
  await db.close();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exitCode = 1;
}
