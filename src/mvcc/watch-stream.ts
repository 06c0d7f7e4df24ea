// The outbound buffer of one watch stream (etcd's watchStream channel, chanBufLen 1024): the
// batches of all the stream's watchers, bounded. Its sink refuses when full, which makes the
// watcher a victim in the hub; once the consumer has drained half of it, `onDrain` fires (wire
// it to hub.retryVictims()) so victims are retried without waiting for the hub's timer.
import type { WatchBatch, Watcher, WatchSink } from './watchable.ts';

/** etcd's chanBufLen: batches a watch stream buffers before its watchers become victims. */
export const watchStreamCapacityDefault = 1024;

/** A batch and the watcher it is for. */
export interface StreamBatch extends WatchBatch {
  watcher: Watcher;
}

/** Options of a WatchStreamBuffer. */
export interface WatchStreamBufferOptions {
  /** Batches held at most (default 1024). */
  capacity?: number;
  /** Called once after a refusal, when the buffer has drained to half its capacity. */
  onDrain?: () => void;
}

/** A bounded FIFO of watch batches, consumed with `take()` or `for await`. */
export class WatchStreamBuffer implements AsyncIterable<StreamBatch> {
  readonly #capacity: number;
  readonly #onDrain: (() => void) | undefined;
  #items: StreamBatch[] = [];
  #head = 0;
  #refused = false;
  #closed = false;
  #waiter: ((item: StreamBatch | undefined) => void) | undefined;

  constructor(options: WatchStreamBufferOptions = {}) {
    this.#capacity = options.capacity ?? watchStreamCapacityDefault;
    this.#onDrain = options.onDrain;
  }

  /** How many batches wait. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The sink to give every watcher of this stream. After close() it takes and drops batches. */
  readonly sink: WatchSink = (batch, watcher) => {
    if (this.#closed) return true;
    const item: StreamBatch = { ...batch, watcher };
    if (this.#waiter !== undefined) {
      const wake = this.#waiter;
      this.#waiter = undefined;
      wake(item);
      return true;
    }
    if (this.length >= this.#capacity) {
      this.#refused = true;
      return false;
    }
    this.#items.push(item);
    return true;
  };

  /** The next batch; undefined once closed and empty. One taker at a time. */
  take(): Promise<StreamBatch | undefined> {
    const item = this.#shift();
    if (item !== undefined || this.#closed) return Promise.resolve(item);
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  /** Stops taking batches; a pending take() resolves undefined. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#items = [];
    this.#head = 0;
    const wake = this.#waiter;
    this.#waiter = undefined;
    wake?.(undefined);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamBatch> {
    while (true) {
      const item = await this.take();
      if (item === undefined) return;
      yield item;
    }
  }

  #shift(): StreamBatch | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    if (this.#head > 64 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    if (this.#refused && this.length <= this.#capacity / 2) {
      this.#refused = false;
      this.#onDrain?.();
    }
    return item;
  }
}
