#!/usr/bin/env node
/** A worker-only process: the same worker `npm start` runs in-process, on its own. */
import { ConfigError, createLogger, loadConfig, type Config } from '@tally/platform';
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
try {
  const infra = await openInfrastructure(config, logger);
  const worker = startWorker(infra, config, logger);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down');
      worker
        .stop()
        .then(() => infra.close())
        .then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
    });
  }
} catch (error) {
  logger.fatal({ err: error }, 'tally worker failed to start');
  process.exit(1);
}
