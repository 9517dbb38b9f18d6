/** Shared infrastructure every module and app uses: config, logs, errors, validation, paging, database. */
export { loadConfig, ConfigError, DEFAULTS, MAX_PARTITIONS, LOG_LEVELS, ROLES, AUTH_MODES, MIN_TOKEN_SECRET_CHARS } from './config.js';
export type { Config, LogLevel, Role, AuthMode, RateLimits, TlsFiles } from './config.js';
export { createLogger } from './logger.js';
export { metricsRegistry, metricsExposition, collectProcessMetrics, seriesCache, rpcMetrics, operationMetrics, dependencyMetrics, scraped } from './metrics.js';
export type { ScrapedGauge } from './metrics.js';
export { tracer, tracingEnabled, startTracing, traceparentOf, contextOfTraceparent, contextOfHeaders, recordSpanUnder } from './tracing.js';
export type { Logger } from './logger.js';
export {
  TallyError,
  invalidArgument,
  notFound,
  failedPrecondition,
  isTallyError,
} from './errors.js';
export type { ErrorCode, ErrorDetails, FieldViolation } from './errors.js';
export {
  Violations,
  codePointLength,
  checkText,
  checkUuid,
  checkClientKey,
  isUuid,
  CLIENT_KEY_MAX_CHARS,
  checkMetadata,
  MAX_METADATA_ENTRIES,
  MAX_METADATA_KEY_CHARS,
  MAX_METADATA_VALUE_CHARS,
} from './violations.js';
export { checkPageSize, PageTokens, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './paging.js';
export { EVERY_TENANT, isVisibleTo, ownerFor, tenantQueryPart } from './tenancy.js';
export type { TenantScope, RequestOrigin } from './tenancy.js';
export type { PageRequest } from './paging.js';
export { Database, ensureDatabaseExists } from './database.js';
export { SqlPool, statement } from './sql.js';
export type { Sql, SqlTransaction, Statement, SqlPoolOptions } from './sql.js';
export type { DatabaseOptions, ModuleSchema } from './database.js';
export { createRedis, connectRedis } from './redis.js';
export { ChannelHub, channelFor, publishTo } from './channel-hub.js';
export type { ChannelHubOptions, ChannelListener, ChannelSubscription } from './channel-hub.js';
export { Coalescer } from './coalescer.js';
export type { CoalescerOptions } from './coalescer.js';
export type { Redis } from './redis.js';
export { transientKind } from './transient.js';
export type { TransientKind } from './transient.js';
export { stopOnSignals } from './process.js';
export { INT64_MAX, INT64_MIN, isInt64, isInt64Digits } from './int64.js';
export type {
  Admission,
  Applier,
  ApplyContext,
  ApplyOutcome,
  BalanceChange,
  HandOff,
  OperationError,
  OperationIntake,
  OperationRequest,
  OperationStep,
  OperationToApply,
  Preparation,
  Preparer,
} from './async-operations.js';
