import type { LedgerEvent } from '../types.js';
import type { FeedHub } from './feed-hub.js';
import { WatchInbox } from './watch-inbox.js';
import type { WatchSlots } from './watch-limits.js';

/** What `WatchSession.race` answers when the watch ended first. */
export const ENDED: unique symbol = Symbol('watch ended');

export interface WatchSessionOptions {
  readonly feed: FeedHub;
  readonly slots: WatchSlots;
  /** What the watch follows: `op:<id>` or `ledger:<id>`. */
  readonly key: string;
  readonly clientId: string;
  readonly signal: AbortSignal;
  readonly maxBufferedEvents: number;
  /** Called once, when the session ends. */
  readonly onEnd: (session: WatchSession) => void;
}

/**
 * The resources of one open watch: its limit slot, its registration with the feed and its inbox.
 * `end` gives them all back at once, exactly once, whoever calls it first: the client leaving
 * (the signal), the watcher closing, or the watch finishing. It does not wait for the consumer,
 * which may be parked at a `yield` and never come back.
 */
export class WatchSession {
  readonly inbox: WatchInbox<LedgerEvent>;
  /** See `FeedRegistration.live`. */
  readonly live: Promise<boolean>;
  #ended = false;
  readonly #endWaiters = new Set<() => void>();
  readonly #release: () => void;
  readonly #onAbort = (): void => this.end();

  /** Takes a slot first: throws RESOURCE_EXHAUSTED before subscribing to anything. */
  constructor(options: WatchSessionOptions) {
    const { feed, slots, clientId, signal } = options;
    slots.acquire(clientId);
    const inbox = new WatchInbox<LedgerEvent>(options.maxBufferedEvents);
    const subscription = feed.listen([options.key], {
      onEvent: (event) => inbox.push(event),
      onGap: () => inbox.reportGap('resubscribed'),
    });
    this.inbox = inbox;
    this.live = subscription.live;
    this.#release = () => {
      signal.removeEventListener('abort', this.#onAbort);
      subscription.release();
      slots.release(clientId);
      options.onEnd(this);
    };
    signal.addEventListener('abort', this.#onAbort, { once: true });
    if (signal.aborted) this.end();
  }

  get ended(): boolean {
    return this.#ended;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.inbox.end();
    this.#release();
    for (const wake of this.#endWaiters) wake();
    this.#endWaiters.clear();
  }

  /**
   * Settles like `promise`, or with ENDED as soon as the session ends, so that a watch waiting
   * on PostgreSQL or Redis still finishes promptly when its client leaves. (Not Promise.race
   * against one long-lived promise: that would keep a reaction per call until the end.)
   */
  race<T>(promise: Promise<T>): Promise<T | typeof ENDED> {
    return new Promise((resolve, reject) => {
      const onEnd = (): void => resolve(ENDED);
      if (this.#ended) onEnd();
      else this.#endWaiters.add(onEnd);
      promise.then(
        (value) => {
          this.#endWaiters.delete(onEnd);
          resolve(value);
        },
        (error: unknown) => {
          this.#endWaiters.delete(onEnd);
          reject(error);
        },
      );
    });
  }
}
