#!/usr/bin/env node
/**
 * `npm start` runs this: one Tally process in the foreground until SIGTERM or SIGINT. By
 * default it serves the API and runs the worker (TALLY_ROLE=all); TALLY_ROLE=api or worker
 * runs one half.
 */
import { ConfigError, createLogger, loadConfig, startTracing, stopOnSignals, type Config } from '@tally/platform';
import { startServer } from './server.js';

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const logger = createLogger(config.logLevel);
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));

try {
  // Before anything is served: the first requests get their spans too.
  const stopTracing = await startTracing(logger);
  const server = await startServer(config, logger);
  stopOnSignals(logger, async () => {
    await server.stop();
    await stopTracing();
  });
} catch (error) {
  logger.fatal({ err: error }, 'tally failed to start');
  process.exit(1);
}
