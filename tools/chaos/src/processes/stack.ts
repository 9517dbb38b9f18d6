import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Random } from '../random.js';
import { freePorts } from './ports.js';
import { OwnPostgres } from './postgres.js';
import { OwnRatesProvider } from './rates-provider.js';
import { OwnRedis } from './redis.js';
import { TallyProcesses } from './tally.js';

/**
 * Everything the run starts, in a temporary directory of its own: PostgreSQL, Redis, the rate
 * provider and Tally's two processes. `close` ends them all and removes the directory; it
 * may be called at any time, more than once (Ctrl-C during a start included).
 */
export interface Stack {
  readonly dir: string;
  readonly postgres: OwnPostgres;
  readonly redis: OwnRedis;
  readonly rates: OwnRatesProvider;
  readonly tally: TallyProcesses;
  readonly grpcAddress: string;
  /** Starts every process; on failure, ends those it started and keeps the directory (the logs say why). */
  start(say: (line: string) => void): Promise<void>;
  close(options: { keepDir: boolean }): Promise<void>;
}

/** The stack's directory and ports, nothing started yet: whoever made it can close it from then on. */
export async function createStack(random: Random, clock: () => number): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-chaos-'));
  const [pgPort, redisPort, ratesPort, grpcPort, httpPort] = (await freePorts(5)) as [number, number, number, number, number];
  const postgres = new OwnPostgres(dir, pgPort);
  const redis = new OwnRedis(dir, redisPort);
  const rates = new OwnRatesProvider(dir, ratesPort);
  const tally = new TallyProcesses(dir, { databaseUrl: postgres.url, redisUrl: redis.url, ratesUrl: rates.url, grpcPort, httpPort }, random, clock);
  let closing: Promise<void> | undefined;
  const stack: Stack = {
    dir,
    postgres,
    redis,
    rates,
    tally,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    async start(say) {
      say(`own services in ${dir}: PostgreSQL :${pgPort}, Redis :${redisPort}, rate provider :${ratesPort}, Tally gRPC :${grpcPort} HTTP :${httpPort}`);
      try {
        await postgres.init();
        await Promise.all([postgres.start(), redis.start(), rates.start()]);
        // The API process migrates the database; the worker starts on a migrated one.
        await tally.startApi('api');
        await tally.startWorker();
      } catch (error) {
        await stack.close({ keepDir: true });
        throw new Error(`${(error as Error).message} (logs kept in ${dir})`);
      }
    },
    close: ({ keepDir }) =>
      (closing ??= (async () => {
        await tally.close();
        await Promise.allSettled([rates.stop(), redis.kill(), postgres.stop()]);
        if (!keepDir) rmSync(dir, { recursive: true, force: true });
      })()),
  };
  return stack;
}
