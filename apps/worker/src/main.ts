#!/usr/bin/env node
/** `npm run worker`: a worker-only process, the same worker `npm start` runs in-process. */
import { ConfigError, createLogger, loadConfig, startTracing, stopOnSignals, type Config } from '@tally/platform';
import { openInfrastructure, startWorker } from '@tally/runtime';

let config: Config;
try {
  config = loadConfig({ ...process.env, TALLY_ROLE: 'worker' });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const logger = createLogger(config.logLevel, 'tally-worker');
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));

try {
  const stopTracing = await startTracing(logger);
  const infra = await openInfrastructure(config, logger);
  const worker = startWorker(infra, config);
  stopOnSignals(logger, async () => {
    await worker.stop();
    await infra.close();
    await stopTracing();
  });
} catch (error) {
  logger.fatal({ err: error }, 'tally worker failed to start');
  process.exit(1);
}
