/**
 * Group commit, and its read-side twin: calls that arrive while a batch is running wait, and
 * go together in the next one (one transaction, one query, one Redis pipeline for all of
 * them). An idle coalescer starts a batch on the next turn of the event loop, so a quiet
 * server answers as fast as before and a busy one does less work per call, not more.
 *
 * A caller's items always travel in one batch, in their order, and batches start in the order
 * their calls arrived; with `maxConcurrentBatches` 1 they also finish in that order.
 */
export interface CoalescerOptions<In, Out> {
  /** Runs one batch: one answer per item, in order. */
  readonly run: (items: readonly In[]) => Promise<readonly Out[]>;
  /** Most items one batch takes (a single call may bring up to this many). */
  readonly maxBatchItems: number;
  /** Batches running at once; 1 gives group commit its full effect. */
  readonly maxConcurrentBatches?: number;
  /** Most items waiting for a batch; past this a call is refused with `overloaded()` at once. */
  readonly maxWaitingItems: number;
  readonly overloaded: () => Error;
  /**
   * When a batch of several calls fails with an error this accepts, each call is run again
   * alone, so that one caller's bad input never fails the others. Transient failures
   * (PostgreSQL away) should not be retried this way: every call would fail again.
   */
  readonly retryAlone?: (error: unknown) => boolean;
}

interface Call<In, Out> {
  readonly items: readonly In[];
  resolve(answers: Out[]): void;
  reject(error: unknown): void;
}

export class Coalescer<In, Out> {
  readonly #options: CoalescerOptions<In, Out>;
  readonly #maxConcurrentBatches: number;
  #waiting: Array<Call<In, Out>> = [];
  #waitingItems = 0;
  #running = 0;
  #scheduled = false;

  constructor(options: CoalescerOptions<In, Out>) {
    if (!Number.isSafeInteger(options.maxBatchItems) || options.maxBatchItems < 1) throw new RangeError('maxBatchItems must be a positive integer');
    if (options.maxWaitingItems < options.maxBatchItems) throw new RangeError('maxWaitingItems must be at least maxBatchItems');
    this.#options = options;
    this.#maxConcurrentBatches = options.maxConcurrentBatches ?? 1;
  }

  /** Items waiting for a batch now. */
  get waitingItems(): number {
    return this.#waitingItems;
  }

  /** The answers to `items`, in order, once the batch holding them has run. */
  submit(items: readonly In[]): Promise<Out[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (items.length > this.#options.maxBatchItems) {
      return Promise.reject(new RangeError(`a call of ${items.length} items exceeds maxBatchItems (${this.#options.maxBatchItems})`));
    }
    if (this.#waitingItems + items.length > this.#options.maxWaitingItems) return Promise.reject(this.#options.overloaded());
    return new Promise<Out[]>((resolve, reject) => {
      this.#waiting.push({ items, resolve, reject });
      this.#waitingItems += items.length;
      this.#schedule();
    });
  }

  /** The answer to one item. */
  async submitOne(item: In): Promise<Out> {
    const [answer] = await this.submit([item]);
    return answer as Out;
  }

  /** Starts batches on the next turn, so calls arriving in this one join them. */
  #schedule(): void {
    if (this.#scheduled || this.#running >= this.#maxConcurrentBatches) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#startBatches();
    });
  }

  #startBatches(): void {
    while (this.#running < this.#maxConcurrentBatches && this.#waiting.length > 0) {
      const batch = this.#takeBatch();
      this.#running++;
      void this.#run(batch).finally(() => {
        this.#running--;
        if (this.#waiting.length > 0) this.#schedule();
      });
    }
  }

  /** Whole calls, oldest first, up to maxBatchItems (always at least one call). */
  #takeBatch(): Array<Call<In, Out>> {
    let taken = 0;
    let count = 0;
    for (const call of this.#waiting) {
      if (count > 0 && taken + call.items.length > this.#options.maxBatchItems) break;
      taken += call.items.length;
      count++;
    }
    const batch = this.#waiting.slice(0, count);
    this.#waiting = this.#waiting.slice(count);
    this.#waitingItems -= taken;
    return batch;
  }

  async #run(calls: ReadonlyArray<Call<In, Out>>): Promise<void> {
    const items = calls.length === 1 ? calls[0]!.items : calls.flatMap((c) => c.items);
    let answers: readonly Out[];
    try {
      answers = await this.#options.run(items);
      if (answers.length !== items.length) throw new Error(`a batch of ${items.length} items was answered ${answers.length} times`);
    } catch (error) {
      if (calls.length > 1 && this.#options.retryAlone?.(error) === true) {
        for (const call of calls) await this.#run([call]);
        return;
      }
      for (const call of calls) call.reject(error);
      return;
    }
    let next = 0;
    for (const call of calls) {
      call.resolve(answers.slice(next, next + call.items.length));
      next += call.items.length;
    }
  }
}
