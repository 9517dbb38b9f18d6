import type { ChannelHub, ChannelSubscription, Logger } from '@tally/platform';
import type { LedgerEvent } from '../types.js';
import { decodeFeedRecord, eventsOf, FEED_CHANNEL, feedMessageOrigin, splitFeedMessage, type OperationChange } from './feed-events.js';

/**
 * The receiving end of the status feed in one API process: watchers register under the keys
 * they follow (`op:<id>`, `ledger:<id>`), and each record of the feed goes to the listeners of
 * its keys, decoded once, and only when someone listens. Changes made in this very process
 * (a worker in the same process, an accept) are handed over directly, without a round trip
 * through Redis; this process's own messages arriving from Redis are then skipped.
 */

export interface FeedListener {
  onEvent(event: LedgerEvent): void;
  /** Messages may have been lost (the subscription dropped and came back): re-read the truth. */
  onGap(): void;
}

export interface FeedRegistration {
  /** Settles once the feed is subscribed: true when live, false when Redis cannot be reached. */
  readonly live: Promise<boolean>;
  /** Stops delivery to this listener; idempotent. */
  release(): void;
}

export class FeedHub {
  readonly #origin: string;
  readonly #log: Logger;
  readonly #byKey = new Map<string, Set<FeedListener>>();
  readonly #subscription: ChannelSubscription;
  #live: Promise<boolean>;

  constructor(options: { channels: ChannelHub; origin: string; logger: Logger }) {
    this.#origin = options.origin;
    this.#log = options.logger.child({ component: 'feed-hub' });
    this.#subscription = options.channels.listen(FEED_CHANNEL, {
      onMessage: (message) => this.#receive(message),
      onResubscribed: () => {
        this.#live = Promise.resolve(true);
        for (const listeners of this.#byKey.values()) for (const listener of listeners) listener.onGap();
      },
    });
    this.#live = this.#subscription.live;
  }

  /** Keys that have at least one listener (for tests and metrics). */
  get keyCount(): number {
    return this.#byKey.size;
  }

  /** Settles once the feed's channel is subscribed: true when live, false when Redis cannot be reached. */
  get live(): Promise<boolean> {
    return this.#live;
  }

  /** Registers at once, so a change published right after the feed is live is never missed. */
  listen(keys: readonly string[], listener: FeedListener): FeedRegistration {
    for (const key of keys) {
      let listeners = this.#byKey.get(key);
      if (listeners === undefined) this.#byKey.set(key, (listeners = new Set()));
      listeners.add(listener);
    }
    let released = false;
    return {
      live: this.#live,
      release: () => {
        if (released) return;
        released = true;
        for (const key of keys) {
          const listeners = this.#byKey.get(key);
          if (listeners?.delete(listener) && listeners.size === 0) this.#byKey.delete(key);
        }
      },
    };
  }

  /** Delivers changes committed by this process, as the feed would, without the round trip. */
  deliver(changes: readonly OperationChange[]): void {
    if (this.#byKey.size === 0) return;
    for (const change of changes) {
      for (const { keys, event } of eventsOf(change)) this.#dispatch(keys, () => event);
    }
  }

  /** The origin this process's feed messages carry. */
  get origin(): string {
    return this.#origin;
  }

  close(): void {
    this.#subscription.release();
    this.#byKey.clear();
  }

  #receive(message: string): void {
    if (this.#byKey.size === 0) return;
    if (feedMessageOrigin(message) === this.#origin) return; // delivered locally already
    const split = splitFeedMessage(message);
    if (split === undefined) {
      this.#log.warn({ bytes: message.length }, 'ignored a malformed status feed message');
      return;
    }
    for (const record of split.records) {
      this.#dispatch(record.keys, () => {
        const event = decodeFeedRecord(record.json);
        if (event === undefined) this.#log.warn({ keys: record.keys.join(',') }, 'ignored a malformed status feed record');
        return event;
      });
    }
  }

  /** Hands the event to every listener of any of `keys`, once each; decodes only if there is one. */
  #dispatch(keys: readonly string[], event: () => LedgerEvent | undefined): void {
    let decoded: LedgerEvent | undefined;
    let reached: Set<FeedListener> | undefined;
    for (const key of keys) {
      const listeners = this.#byKey.get(key);
      if (listeners === undefined) continue;
      for (const listener of listeners) {
        if (reached?.has(listener)) continue;
        if (decoded === undefined) {
          try {
            decoded = event();
          } catch {
            decoded = undefined;
          }
          if (decoded === undefined) return;
        }
        (reached ??= new Set()).add(listener);
        try {
          listener.onEvent(decoded);
        } catch (error) {
          this.#log.error({ err: error }, 'status feed listener failed');
        }
      }
    }
  }
}
