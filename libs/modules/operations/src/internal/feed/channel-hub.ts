import type { Logger, Redis } from '@tally/platform';

/**
 * Many watchers over one Redis subscriber connection. A channel is SUBSCRIBEd when its first
 * listener arrives and UNSUBSCRIBEd when its last one leaves, however many watch it; each
 * message is decoded once and handed to every listener of its channel.
 *
 * Redis keeps commands of one connection in order, so an UNSUBSCRIBE followed by a SUBSCRIBE
 * of the same channel (a watcher leaving as another arrives) always ends subscribed.
 *
 * Pub/sub loses what is published while the connection is down. After every reconnect the hub
 * subscribes its channels again and tells their listeners, who re-read the truth.
 */

export interface ChannelListener<T> {
  onMessage(message: T): void;
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

export interface ChannelHubOptions<T> {
  /** A connection used only for subscribing (Redis allows nothing else on it meanwhile). */
  readonly subscriber: Redis;
  readonly logger: Logger;
  /** Turns a message into what listeners get; `undefined` (or a throw) for a malformed one. */
  readonly decode: (message: string) => T | undefined;
}

/** Channels per SUBSCRIBE when resubscribing: keeps each command a modest size. */
const MAX_CHANNELS_PER_SUBSCRIBE = 1_000;

interface Channel<T> {
  readonly listeners: Set<ChannelListener<T>>;
  live: Promise<boolean>;
}

export class ChannelHub<T> {
  readonly #subscriber: Redis;
  readonly #log: Logger;
  readonly #decode: (message: string) => T | undefined;
  readonly #channels = new Map<string, Channel<T>>();
  /** Channels whose UNSUBSCRIBE failed (Redis down): ioredis would resubscribe them on reconnect. */
  readonly #unsubscribeOnReconnect = new Set<string>();
  readonly #onMessage = (channel: string, message: string): void => this.#dispatch(channel, message);
  readonly #onReady = (): void => void this.#resubscribe();

  constructor(options: ChannelHubOptions<T>) {
    this.#subscriber = options.subscriber;
    this.#log = options.logger;
    this.#decode = options.decode;
    this.#subscriber.on('message', this.#onMessage);
    this.#subscriber.on('ready', this.#onReady);
  }

  /** Channels currently subscribed (or being subscribed). */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** Registers at once (so a message arriving right after the SUBSCRIBE is never missed). */
  listen(channelName: string, listener: ChannelListener<T>): ChannelSubscription {
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

  #leave(channelName: string, listener: ChannelListener<T>): void {
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
        this.#log.warn({ channels: names.length, err: String(error) }, 'status feed subscribe failed; will resubscribe on reconnect');
        return false;
      },
    );
  }

  #dispatch(channelName: string, raw: string): void {
    const channel = this.#channels.get(channelName);
    if (channel === undefined) return; // left already, or another user's channel on this connection
    let message: T | undefined;
    try {
      message = this.#decode(raw);
    } catch {
      message = undefined;
    }
    if (message === undefined) {
      this.#log.warn({ channel: channelName, bytes: raw.length }, 'ignored a malformed status feed message');
      return;
    }
    // Listeners only buffer; a throw here would surface inside ioredis's reply parser.
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
    if (names.length > 0) this.#log.info({ channels: names.length }, 'status feed resubscribed after reconnect');
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
      this.#log.error({ err: error }, 'status feed listener failed');
    }
  }
}
