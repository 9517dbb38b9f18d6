import { ExchangeService, LedgerService, OperationService } from '@tally/contracts';
import type { OperationsWorker, WorkerLimits } from '@tally/operations';
import { fileURLToPath } from 'node:url';
import { collectProcessMetrics, metricsExposition, type Config, type Logger, type TenantScope } from '@tally/platform';
import { openInfrastructure, startWorker } from '@tally/runtime';
import { CallerLimits } from './access/caller-limits.js';
import { gateBindings } from './access/gate.js';
import { exchangeServiceHandlers } from './rpc/exchange-service.js';
import { ledgerServiceHandlers } from './rpc/ledger-service.js';
import { operationServiceHandlers } from './rpc/operation-service.js';
import { createRpcObserver } from './observability/rpc-observer.js';
import { watchHandlers } from './rpc/watch-handlers.js';
import {
  bindService,
  checkProcessingPatterns,
  HealthMonitor,
  startGrpcServer,
  startHttpServer,
  type ListeningServer,
  type ServiceBinding,
} from './transport/index.js';

/** Largest request or response message either transport accepts. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Said at start and in /readyz whenever API keys are off. */
const AUTH_OFF_WARNING =
  'TALLY_AUTH=off: API keys are not checked; anyone who can reach these ports can read and move the money of every ledger. Set TALLY_AUTH=required outside development.';
/** The web console's static files, as `npm run build` leaves them (apps/console), from src/ and dist/ alike. */
const CONSOLE_DIR = fileURLToPath(new URL('../../console/dist/', import.meta.url));
/** How long shutdown waits for in-flight requests before closing connections. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface RunningServer {
  /** Undefined when this process runs no API (TALLY_ROLE=worker). */
  readonly grpcPort: number | undefined;
  /** The API's HTTP port; for a worker-only process, where it serves /healthz, /readyz and /metrics. */
  readonly httpPort: number;
  /** Undefined when this process runs no worker (TALLY_ROLE=api). */
  readonly worker: OperationsWorker | undefined;
  /**
   * Stops taking requests and work, lets in-flight requests finish, finishes or hands back the
   * operations in hand, then closes every connection.
   */
  stop(): Promise<void>;
}

/** A worker-only process beside another Tally on one machine needs a port of its own: say how. */
function portInUse(error: unknown, port: number): Error | undefined {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') return undefined;
  return new Error(
    `TALLY_HTTP_PORT ${port} is in use: a worker-only process serves /healthz, /readyz and /metrics there; give it a port of its own (TALLY_HTTP_PORT=8081 npm run worker, or 0 for any free port)`,
  );
}

export interface ServerOptions {
  /** Worker tuning (tests shorten the sweep and lease intervals). */
  readonly workerLimits?: Partial<WorkerLimits>;
}

/**
 * The composition root of a Tally process: opens PostgreSQL (migrating it) and Redis, builds
 * the module facades, and runs the API (both transports) and/or the worker, as TALLY_ROLE says.
 */
export async function startServer(config: Config, logger: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  collectProcessMetrics();
  const infra = await openInfrastructure(config, logger, { api: config.role !== 'worker' });
  const { db, redis, ledgers, operations } = infra;
  const { watcher } = infra.operationsModule;

  const health = new HealthMonitor({
    probes: { postgres: () => db.ping(), redis: async () => void (await redis.ping()) },
    logger,
    ...(config.auth === 'off' && watcher && { warnings: [AUTH_OFF_WARNING] }),
  });
  health.start();
  const plain = { health, logger, host: config.host, tls: config.tls, port: config.httpPort, metrics: metricsExposition };
  const limits = watcher && config.rateLimits ? new CallerLimits({ limits: config.rateLimits, redis, logger }) : undefined;

  let api: { grpc: ListeningServer; stopWatches(): Promise<void> } | undefined;
  let http: ListeningServer;
  if (watcher) {
    const requireLedger = (ledgerId: string, scope: TenantScope): Promise<void> => ledgers.requireLedger(ledgerId, scope);
    const watches = watchHandlers({
      watcher,
      requireLedger,
      requireOperation: async (operationId, scope) => void (await operations.getOperation(operationId, scope)),
    });
    const bindings: ServiceBinding[] = gateBindings(
      [
        bindService(LedgerService, ledgerServiceHandlers(ledgers, infra.exchange, logger)),
        bindService(ExchangeService, exchangeServiceHandlers(infra.exchange)),
        bindService(OperationService, { ...operationServiceHandlers(operations, requireLedger), ...watches }),
      ],
      { auth: config.auth, access: infra.access, limits, logger },
    );
    checkProcessingPatterns(bindings);
    if (config.auth === 'off') logger.warn(AUTH_OFF_WARNING);
    const observer = createRpcObserver(logger);
    const common = { bindings, health, logger, observer, requestTimeoutMs: config.requestTimeoutMs, maxMessageBytes: MAX_MESSAGE_BYTES };
    const grpc = await startGrpcServer({ ...common, host: config.host, tls: config.tls, reflection: config.reflection, port: config.grpcPort });
    http = await startHttpServer({ ...common, ...plain, corsOrigins: config.corsOrigins, consoleDir: CONSOLE_DIR });
    api = {
      grpc,
      stopWatches: async () => {
        limits?.close();
        await watcher.close();
      },
    };
  } else {
    // A worker-only process serves no RPC, but operators still probe and scrape it.
    http = await startHttpServer({ ...plain, bindings: [], corsOrigins: [], requestTimeoutMs: config.requestTimeoutMs, maxMessageBytes: MAX_MESSAGE_BYTES }).catch(
      (error: unknown) => {
        throw portInUse(error, config.httpPort) ?? error;
      },
    );
  }
  const worker = config.role === 'api' ? undefined : startWorker(infra, config, options.workerLimits);
  logger.info(
    { role: config.role, grpcPort: api?.grpc.port, httpPort: http.port, partitions: config.partitions },
    'tally is running',
  );

  let stopping: Promise<void> | undefined;
  return {
    grpcPort: api?.grpc.port,
    httpPort: http.port,
    worker,
    stop: () =>
      (stopping ??= (async () => {
        health.stop();
        await Promise.allSettled([api?.grpc.close(SHUTDOWN_GRACE_MS), http.close(SHUTDOWN_GRACE_MS)]);
        await api?.stopWatches();
        await worker?.stop();
        await infra.close();
        logger.info('tally stopped');
      })()),
  };
}
