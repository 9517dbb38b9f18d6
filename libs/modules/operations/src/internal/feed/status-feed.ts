import { randomUUID } from 'node:crypto';
import { publishTo, type Logger, type Redis } from '@tally/platform';
import { encodeFeedMessage, FEED_CHANNEL, type OperationChange } from './feed-events.js';
import type { FeedHub } from './feed-hub.js';

/**
 * The sending end of the status feed: after each commit, the changes it made go to this
 * process's own watchers at once (when it serves any) and, in one PUBLISH, to every other
 * process. Best effort: watchers resync from PostgreSQL after a gap.
 */
export interface StatusFeed {
  publish(changes: readonly OperationChange[]): void;
}

/** Changes per feed message: keeps each message a modest size, whatever the batch. */
export const MAX_CHANGES_PER_MESSAGE = 500;

export function createStatusFeed(options: { redis: Redis; logger: Logger; local?: FeedHub }): StatusFeed {
  const { redis, local } = options;
  const origin = local?.origin ?? randomUUID();
  const log = options.logger.child({ component: 'status-feed' });
  return {
    publish(changes) {
      if (changes.length === 0) return;
      local?.deliver(changes);
      for (let start = 0; start < changes.length; start += MAX_CHANGES_PER_MESSAGE) {
        const message = encodeFeedMessage(origin, changes.slice(start, start + MAX_CHANGES_PER_MESSAGE));
        publishTo(redis, FEED_CHANNEL, message).catch((error: unknown) => log.debug({ err: String(error) }, 'could not publish operation changes'));
      }
    },
  };
}
