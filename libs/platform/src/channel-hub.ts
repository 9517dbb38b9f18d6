import type { Logger } from './logger.js';
import type { Redis } from './redis.js';

/**
 * Many listeners over one Redis subscriber connection: the status feed that watches follow,
 * and the invalidations of what a process caches. A channel is SUBSCRIBEd when its first
 * listener arrives and UNSUBSCRIBEd when its last one leaves, however many listen to it; each
 * message is handed to every listener of its channel.
 *
 * Redis keeps commands of one connection in order, so an UNSUBSCRIBE followed by a SUBSCRIBE
 * of the same channel (a watcher leaving as another arrives) always ends subscribed.
 *
 * Pub/sub loses what is published while the connection is down. After every reconnect the hub
 * subscribes its channels again and tells their listeners, who re-read the truth.
 */

/**
 * The channel `name` as this deployment uses it on `redis`. Pub/sub ignores Redis's database
 * numbers, so the name carries it: deployments (or test suites) on different databases of one
 * Redis never hear each other.
 */
export function channelFor(redis: Redis, name: string): string {
  return `${name}@${redis.options.db ?? 0}`;
}

/** Publishes `message` on the channel `name` of the deployment `redis` belongs to. */
export function publishTo(redis: Redis, name: string, message: string): Promise<number> {
  return redis.publish(channelFor(redis, name), message);
}

export interface ChannelListener {
  onMessage(message: string): void;
  /** The connection dropped and came back: messages published meanwhile are lost. */
  onResubscribed(): void;
}

export interface ChannelSubscription {
  /**
   * Settles once the SUBSCRIBE is answered: true when the channel is live, false when Redis
   * could not be reached (the hub subscribes again, and calls `onResubscribed`, on reconnect).
   */
  readonly live: Promise<boolean>;
  /** Leaves the channel; idempotent. */
  release(): void;
}

export interface ChannelHubOptions {
  /** A connection used only for subscribing (Redis allows nothing else on it meanwhile). */
  readonly subscriber: Redis;
  readonly logger: Logger;
}

/** Channels per SUBSCRIBE when resubscribing: keeps each command a modest size. */
const MAX_CHANNELS_PER_SUBSCRIBE = 1_000;

interface Channel {
  readonly listeners: Set<ChannelListener>;
  live: Promise<boolean>;
}

export class ChannelHub {
  readonly #subscriber: Redis;
  readonly #log: Logger;
  readonly #channels = new Map<string, Channel>();
  /** Channels whose UNSUBSCRIBE failed (Redis down): ioredis would resubscribe them on reconnect. */
  readonly #unsubscribeOnReconnect = new Set<string>();
  readonly #onMessage = (channel: string, message: string): void => this.#dispatch(channel, message);
  readonly #onReady = (): void => void this.#resubscribe();

  constructor(options: ChannelHubOptions) {
    this.#subscriber = options.subscriber;
    this.#log = options.logger.child({ component: 'channel-hub' });
    this.#subscriber.on('message', this.#onMessage);
    this.#subscriber.on('ready', this.#onReady);
  }

  /** Channels currently subscribed (or being subscribed). */
  get channelCount(): number {
    return this.#channels.size;
  }

  /**
   * Listens to the channel `name` (see channelFor). Registers at once, so a message arriving
   * right after the SUBSCRIBE is never missed.
   */
  listen(name: string, listener: ChannelListener): ChannelSubscription {
    const channelName = channelFor(this.#subscriber, name);
    let channel = this.#channels.get(channelName);
    if (channel === undefined) {
      this.#unsubscribeOnReconnect.delete(channelName);
      channel = { listeners: new Set(), live: this.#subscribe([channelName]) };
      this.#channels.set(channelName, channel);
    }
    channel.listeners.add(listener);
    const { live } = channel;
    let released = false;
    return {
      live,
      release: () => {
        if (released) return;
        released = true;
        this.#leave(channelName, listener);
      },
    };
  }

  /** Leaves every channel and stops listening to the connection (which the caller owns). */
  async close(): Promise<void> {
    this.#subscriber.off('message', this.#onMessage);
    this.#subscriber.off('ready', this.#onReady);
    const names = [...this.#channels.keys()];
    this.#channels.clear();
    if (names.length > 0) await this.#subscriber.unsubscribe(...names).catch(() => undefined);
  }

  #leave(channelName: string, listener: ChannelListener): void {
    const channel = this.#channels.get(channelName);
    if (channel === undefined || !channel.listeners.delete(listener) || channel.listeners.size > 0) return;
    this.#channels.delete(channelName);
    this.#subscriber.unsubscribe(channelName).catch((error: unknown) => {
      this.#log.debug({ channel: channelName, err: String(error) }, 'unsubscribe failed; retrying on reconnect');
      if (!this.#channels.has(channelName)) this.#unsubscribeOnReconnect.add(channelName);
    });
  }

  #subscribe(names: readonly string[]): Promise<boolean> {
    return this.#subscriber.subscribe(...names).then(
      () => true,
      (error: unknown) => {
        this.#log.warn({ channels: names.length, err: String(error) }, 'subscribe failed; will resubscribe on reconnect');
        return false;
      },
    );
  }

  #dispatch(channelName: string, message: string): void {
    const channel = this.#channels.get(channelName);
    if (channel === undefined) return; // left already, or another user's channel on this connection
    // A throw here would surface inside ioredis's reply parser: listeners are shielded.
    for (const listener of channel.listeners) this.#notify(() => listener.onMessage(message));
  }

  async #resubscribe(): Promise<void> {
    for (const stale of this.#unsubscribeOnReconnect) {
      this.#subscriber.unsubscribe(stale).catch(() => undefined);
    }
    this.#unsubscribeOnReconnect.clear();
    const names = [...this.#channels.keys()];
    const batches: Array<Promise<void>> = [];
    for (let start = 0; start < names.length; start += MAX_CHANNELS_PER_SUBSCRIBE) {
      const batch = names.slice(start, start + MAX_CHANNELS_PER_SUBSCRIBE);
      const live = this.#subscribe(batch);
      for (const name of batch) {
        const channel = this.#channels.get(name);
        if (channel !== undefined) channel.live = live;
      }
      batches.push(live.then((ok) => (ok ? this.#announceResubscribed(batch) : undefined)));
    }
    await Promise.all(batches);
    if (names.length > 0) this.#log.info({ channels: names.length }, 'resubscribed after reconnect');
  }

  #announceResubscribed(names: readonly string[]): void {
    for (const name of names) {
      for (const listener of this.#channels.get(name)?.listeners ?? []) this.#notify(() => listener.onResubscribed());
    }
  }

  #notify(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.#log.error({ err: error }, 'channel listener failed');
    }
  }
}
