/**
 * What one watch has received and not yet handed to its consumer. Messages arrive whenever
 * Redis delivers them; the consumer takes them at its own pace (a gRPC stream waits for the
 * client to drain). The buffer is bounded: when a consumer falls too far behind, the buffer is
 * dropped and the watch is told to catch up from PostgreSQL instead of holding memory.
 */

/** Why a watch must re-read the truth rather than trust the messages it has. */
export type GapReason = 'overflow' | 'resubscribed';

export type InboxDelivery<T> =
  | { readonly kind: 'event'; readonly event: T }
  | { readonly kind: 'gap'; readonly reason: GapReason }
  /** The wait passed with nothing received. */
  | { readonly kind: 'idle' }
  | { readonly kind: 'ended' };

export class WatchInbox<T> {
  #events: T[] = [];
  /** Index of the oldest unread event: taking one is O(1), not an array shift. */
  #head = 0;
  #gap: GapReason | undefined;
  #ended = false;
  #wake: (() => void) | undefined;

  constructor(private readonly maxEvents: number) {}

  get ended(): boolean {
    return this.#ended;
  }

  push(event: T): void {
    if (this.#ended) return;
    if (this.#events.length - this.#head >= this.maxEvents) {
      this.#clear();
      this.#gap = 'overflow';
    } else {
      this.#events.push(event);
    }
    this.#wake?.();
  }

  reportGap(reason: GapReason): void {
    if (this.#ended) return;
    // Overflow wins: it is the reason the consumer can act on (read faster).
    if (this.#gap !== 'overflow') this.#gap = reason;
    this.#wake?.();
  }

  /** Ends the inbox: a pending `next` resolves at once with `ended`. */
  end(): void {
    this.#ended = true;
    this.#clear();
    this.#gap = undefined;
    this.#wake?.();
  }

  /**
   * The next thing to act on, in order: the end, a gap, the oldest event. Waits at most
   * `idleMs` for one (for ever when undefined). One consumer at a time.
   */
  async next(idleMs?: number): Promise<InboxDelivery<T>> {
    if (!this.#ended && this.#gap === undefined && this.#head === this.#events.length) {
      if (this.#wake !== undefined) throw new Error('WatchInbox.next called while another call is waiting');
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const wake = (): void => {
          clearTimeout(timer);
          this.#wake = undefined;
          resolve();
        };
        if (idleMs !== undefined) timer = setTimeout(wake, Math.max(0, idleMs));
        this.#wake = wake;
      });
    }
    return this.#take();
  }

  #take(): InboxDelivery<T> {
    if (this.#ended) return { kind: 'ended' };
    const gap = this.#gap;
    if (gap !== undefined) {
      this.#gap = undefined;
      return { kind: 'gap', reason: gap };
    }
    if (this.#head === this.#events.length) return { kind: 'idle' };
    const event = this.#events[this.#head++] as T;
    if (this.#head === this.#events.length) this.#clear();
    // Drop the read prefix now and then, so a consumer that never quite drains keeps it bounded.
    else if (this.#head >= this.maxEvents) this.#compact();
    return { kind: 'event', event };
  }

  #compact(): void {
    this.#events = this.#events.slice(this.#head);
    this.#head = 0;
  }

  #clear(): void {
    this.#events = [];
    this.#head = 0;
  }
}
