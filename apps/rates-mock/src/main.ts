#!/usr/bin/env node
/**
 * `node apps/rates-mock/dist/main.js`: the mock rate provider as a process. Configured by
 * RATES_MOCK_* variables (see config.ts); stops on SIGTERM or SIGINT.
 */
import { loadRatesMockConfig, RatesMockConfigError, type RatesMockConfig } from './config.js';
import { startRatesMock } from './server.js';

let config: RatesMockConfig;
try {
  config = loadRatesMockConfig(process.env);
} catch (error) {
  if (!(error instanceof RatesMockConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}

/** One JSON object a line on stdout, in the shape of Tally's own logs. */
function log(level: 'info' | 'debug' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  const line = { level, time: new Date().toISOString(), pid: process.pid, name: 'rates-mock', ...fields, msg };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const describe = (error: unknown) => (error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) });

try {
  const mock = await startRatesMock({
    port: config.port,
    host: config.host,
    faults: config.faults,
    frozenAt: config.frozenAt,
    onRequest: config.logLevel === 'debug' ? (entry) => log('debug', 'request', { ...entry }) : undefined,
    onError: (error) => log('error', 'unexpected failure', { err: describe(error) }),
  });
  log('info', 'rates mock started', { url: mock.url, faults: mock.faults(), frozenAt: config.frozenAt?.toISOString() });

  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(1); // a second signal: stop now
      stopping = true;
      mock.close().then(
        () => {
          log('info', 'rates mock stopped', { signal });
          process.exit(0);
        },
        (error: unknown) => {
          log('error', 'rates mock failed to stop', { signal, err: describe(error) });
          process.exit(1);
        },
      );
    });
  }
} catch (error) {
  log('error', 'rates mock failed to start', { host: config.host, port: config.port, err: describe(error) });
  process.exit(1);
}
