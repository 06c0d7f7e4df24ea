// The incoming messages of a client-streaming or bidi call, as an async iterable over a bounded
// buffer: above `highWater` buffered messages the call pauses the HTTP/2 stream (flow control
// then holds the client back), and resumes it when the handler has drained to half of that.

/** Buffered request messages a stream may hold before it is paused. */
export const REQUEST_QUEUE_HIGH_WATER = 32;

/** An async iterable of request messages fed by the call. */
export class RequestQueue<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = [];
  #head = 0;
  #ended = false;
  #error: unknown = undefined;
  #resolve: ((r: IteratorResult<T>) => void) | undefined;
  #reject: ((err: unknown) => void) | undefined;
  readonly #onPause: () => void;
  readonly #onResume: () => void;
  #paused = false;

  constructor(onPause: () => void, onResume: () => void) {
    this.#onPause = onPause;
    this.#onResume = onResume;
  }

  /** Buffered messages not yet taken by the handler. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Adds a message; pauses the source when the buffer is full. */
  push(item: T): void {
    if (this.#ended) return;
    const resolve = this.#resolve;
    if (resolve !== undefined) {
      this.#resolve = undefined;
      this.#reject = undefined;
      resolve({ value: item, done: false });
      return;
    }
    this.#items.push(item);
    if (!this.#paused && this.size >= REQUEST_QUEUE_HIGH_WATER) {
      this.#paused = true;
      this.#onPause();
    }
  }

  /** The client half-closed: iteration ends once the buffer is drained. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#resolve !== undefined && this.size === 0) this.#settle();
  }

  /** The call failed (cancelled, deadline, malformed message): iteration throws `err`. */
  fail(err: unknown): void {
    if (this.#ended && this.#error !== undefined) return;
    this.#ended = true;
    this.#error = err;
    this.#items.length = 0;
    this.#head = 0;
    if (this.#resolve !== undefined) this.#settle();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#head < this.#items.length) {
      const value = this.#items[this.#head++]!;
      if (this.#head === this.#items.length) {
        this.#items.length = 0;
        this.#head = 0;
      }
      if (this.#paused && this.size <= REQUEST_QUEUE_HIGH_WATER / 2) {
        this.#paused = false;
        this.#onResume();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** The handler stopped iterating: later messages are dropped. */
  return(): Promise<IteratorResult<T>> {
    this.#ended = true;
    this.#items.length = 0;
    this.#head = 0;
    if (this.#paused) {
      this.#paused = false;
      this.#onResume();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  #settle(): void {
    const resolve = this.#resolve!;
    const reject = this.#reject!;
    this.#resolve = undefined;
    this.#reject = undefined;
    if (this.#error !== undefined) reject(this.#error);
    else resolve({ value: undefined, done: true });
  }
}
