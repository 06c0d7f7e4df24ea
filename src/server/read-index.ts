// Linearizable reads, batched (Raft thesis §6.4): every read waiting at the moment shares one
// ReadIndex round; when its ReadState arrives, the batch is released once applied ≥ read index.
// The loop sees only the narrow port below, so it is tested without a member.

/** What the read loop needs from the member. */
export interface ReadIndexPort {
  /** Starts a ReadIndex round with this context; false when it could not (e.g. no leader). */
  requestReadIndex(context: Uint8Array): boolean;
  appliedIndex(): number;
}

interface Batch {
  context: Uint8Array;
  key: string;
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
  readIndex: number | undefined;
}

/** Thrown to readers when the round could not start or the member stopped. */
export class ReadIndexError extends Error {
  override name = 'ReadIndexError';
  constructor(readonly code: 'no-leader' | 'stopped' | 'timeout', message: string) {
    super(message);
  }
}

/** Groups linearizable reads into ReadIndex rounds. */
export class ReadIndexLoop {
  readonly #port: ReadIndexPort;
  #next = 1n;
  /** The batch collecting readers for the next round. */
  #open: Batch | undefined;
  /** Rounds sent, waiting for their ReadState (by context key). */
  readonly #inflight = new Map<string, Batch>();
  /** Rounds whose read index is known, waiting for the apply to reach it (in index order). */
  #ready: Batch[] = [];
  #scheduled = false;
  #stopped = false;

  constructor(port: ReadIndexPort) {
    this.#port = port;
  }

  /** Resolves once a read served now would be linearizable. */
  wait(): Promise<void> {
    if (this.#stopped) return Promise.reject(new ReadIndexError('stopped', 'etcdserver: server stopped'));
    return new Promise<void>((resolve, reject) => {
      if (this.#open === undefined) {
        const context = new Uint8Array(8);
        new DataView(context.buffer).setBigUint64(0, this.#next++);
        this.#open = { context, key: keyOf(context), waiters: [], readIndex: undefined };
      }
      this.#open.waiters.push({ resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // Let every read arriving in this turn of the event loop join the round.
        queueMicrotask(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#open;
    this.#open = undefined;
    if (batch === undefined) return;
    this.#inflight.set(batch.key, batch);
    if (!this.#port.requestReadIndex(batch.context)) {
      this.#inflight.delete(batch.key);
      failBatch(batch, new ReadIndexError('no-leader', 'etcdserver: no leader'));
    }
  }

  /** A ReadState arrived from the Raft core. */
  onReadState(context: Uint8Array, index: number): void {
    const batch = this.#inflight.get(keyOf(context));
    if (batch === undefined) return;
    this.#inflight.delete(batch.key);
    batch.readIndex = index;
    this.#ready.push(batch);
    this.#ready.sort((a, b) => a.readIndex! - b.readIndex!);
    this.onApplied();
  }

  /** The applied index moved: release the rounds it covers. */
  onApplied(): void {
    if (this.#ready.length === 0) return;
    const applied = this.#port.appliedIndex();
    let n = 0;
    while (n < this.#ready.length && this.#ready[n]!.readIndex! <= applied) n++;
    if (n === 0) return;
    const released = this.#ready.slice(0, n);
    this.#ready = this.#ready.slice(n);
    for (const batch of released) for (const w of batch.waiters) w.resolve();
  }

  /** Rounds that never got an answer (leader change, message lost) are retried by the member. */
  retryInflight(): void {
    for (const batch of this.#inflight.values()) {
      if (!this.#port.requestReadIndex(batch.context)) {
        this.#inflight.delete(batch.key);
        failBatch(batch, new ReadIndexError('no-leader', 'etcdserver: no leader'));
      }
    }
  }

  /** Number of rounds waiting for a ReadState. */
  inflightCount(): number {
    return this.#inflight.size;
  }

  /** Fails every waiting reader. */
  stop(): void {
    this.#stopped = true;
    const err = new ReadIndexError('stopped', 'etcdserver: server stopped');
    if (this.#open !== undefined) failBatch(this.#open, err);
    this.#open = undefined;
    for (const batch of this.#inflight.values()) failBatch(batch, err);
    this.#inflight.clear();
    for (const batch of this.#ready) failBatch(batch, err);
    this.#ready = [];
  }
}

function keyOf(context: Uint8Array): string {
  return Buffer.from(context).toString('hex');
}

function failBatch(batch: Batch, err: unknown): void {
  for (const w of batch.waiters) w.reject(err);
}
