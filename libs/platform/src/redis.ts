import { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { scraped } from './metrics.js';

export type { Redis };

/** How long a Redis command may wait for a connection before failing. */
const REDIS_CONNECT_TIMEOUT_MS = 3_000;
/** Reconnect backoff: grows per attempt, capped. */
const REDIS_RECONNECT_MAX_MS = 2_000;

/**
 * A Redis connection that fails fast while Redis is down (commands are not queued without
 * bound) and reconnects by itself. `purpose` names it in logs.
 */
export function createRedis(url: string, logger: Logger, purpose: string): Redis {
  const log = logger.child({ component: 'redis', purpose });
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, REDIS_RECONNECT_MAX_MS),
    connectionName: `tally:${purpose}`,
  });
  let down = false;
  redis.on('error', (error: Error) => {
    if (!down) log.warn({ err: error.message }, 'redis connection lost; reconnecting');
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info('redis connection restored');
    down = false;
  });
  const unscrape = scraped.redisConnected.onScrape(() => [[{ connection: purpose }, redis.status === 'ready' ? 1 : 0]]);
  // 'end': closed for good (quit or disconnect), no reconnect coming.
  redis.once('end', unscrape);
  return redis;
}

/** Connects, without failing start-up when Redis is not there yet: health reports it. */
export async function connectRedis(redis: Redis, logger: Logger): Promise<void> {
  await redis.connect().catch((error: unknown) => logger.warn({ err: String(error) }, 'redis is not reachable yet'));
}
