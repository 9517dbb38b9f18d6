import { ExchangeService, LedgerService, OperationService } from '@tally/contracts';
import { createExchangeFacade } from '@tally/exchange';
import { createLedgersFacade } from '@tally/ledgers';
import { createOperationsFacade } from '@tally/operations';
import { connectRedis, createRedis, type Config, type Logger } from '@tally/platform';
import { prepareDatabase } from './database-setup.js';
import { exchangeServiceHandlers } from './rpc/exchange-service.js';
import { ledgerServiceHandlers } from './rpc/ledger-service.js';
import { operationServiceHandlers } from './rpc/operation-service.js';
import {
  checkProcessingPatterns,
  HealthMonitor,
  startGrpcServer,
  startHttpServer,
  type ServiceBinding,
} from './transport/index.js';

/** Largest request or response message either transport accepts. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** How long shutdown waits for in-flight requests before closing connections. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface RunningServer {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Stops taking requests, lets in-flight ones finish, then closes every connection. */
  stop(): Promise<void>;
}

/**
 * The composition root: opens PostgreSQL (migrating it) and Redis, builds the module facades,
 * binds the RPC handlers and serves them on both transports.
 */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const db = await prepareDatabase(config.databaseUrl, logger);
  const redis = createRedis(config.redisUrl, logger, 'api');
  await connectRedis(redis, logger);

  const bindings: ServiceBinding[] = [
    { service: LedgerService, impl: ledgerServiceHandlers(createLedgersFacade(db)) },
    { service: ExchangeService, impl: exchangeServiceHandlers(createExchangeFacade()) },
    { service: OperationService, impl: operationServiceHandlers(createOperationsFacade(db)) },
  ];
  checkProcessingPatterns(bindings);

  const health = new HealthMonitor({
    probes: { postgres: () => db.ping(), redis: async () => void (await redis.ping()) },
    logger,
  });
  health.start();

  const common = { bindings, health, logger, requestTimeoutMs: config.requestTimeoutMs, maxMessageBytes: MAX_MESSAGE_BYTES };
  const grpc = await startGrpcServer({ ...common, host: '0.0.0.0', port: config.grpcPort });
  const http = await startHttpServer({ ...common, host: '0.0.0.0', port: config.httpPort, corsOrigins: config.corsOrigins });
  logger.info({ grpcPort: grpc.port, httpPort: http.port, partitions: config.partitions }, 'tally is serving');

  let stopping: Promise<void> | undefined;
  return {
    grpcPort: grpc.port,
    httpPort: http.port,
    stop: () =>
      (stopping ??= (async () => {
        health.stop();
        await Promise.allSettled([grpc.close(SHUTDOWN_GRACE_MS), http.close(SHUTDOWN_GRACE_MS)]);
        redis.disconnect();
        await db.close();
        logger.info('tally stopped');
      })()),
  };
}
