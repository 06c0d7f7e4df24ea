// A bounded trace of what happened in a simulation (deliveries, drops, crashes, partitions, role
// changes, commits), kept as a ring so a violation can show the last events that led to it.
// Events are stored as small records and formatted only when a report is printed.

/** One traced event: when it happened and a short, lazily rendered description. */
export interface TraceEvent {
  tick: number;
  step: number;
  kind: string;
  text: string | (() => string);
}

/** A ring of the last `capacity` events. Disabled traces cost a branch per event. */
export class Trace {
  readonly #events: (TraceEvent | undefined)[];
  #next = 0;
  #count = 0;

  constructor(readonly capacity: number) {
    this.#events = new Array<TraceEvent | undefined>(Math.max(capacity, 0));
  }

  /** Records an event (dropping the oldest when full). */
  add(event: TraceEvent): void {
    if (this.capacity <= 0) return;
    this.#events[this.#next] = event;
    this.#next = (this.#next + 1) % this.capacity;
    this.#count++;
  }

  /** The events in order, oldest first (at most `limit`, the most recent ones). */
  events(limit = this.capacity): TraceEvent[] {
    const held = Math.min(this.#count, this.capacity);
    const take = Math.min(held, limit);
    const out: TraceEvent[] = [];
    for (let i = held - take; i < held; i++) {
      const at = (this.#next - held + i + this.capacity * 2) % this.capacity;
      const e = this.#events[at];
      if (e !== undefined) out.push(e);
    }
    return out;
  }

  /** The last `limit` events, one per line: `tick.step kind: text`. */
  format(limit = this.capacity): string {
    return this.events(limit)
      .map((e) => {
        const text = typeof e.text === 'function' ? e.text() : e.text;
        return `  ${String(e.tick).padStart(5)}.${String(e.step).padStart(2, '0')} ${e.kind.padEnd(9)} ${text}`;
      })
      .join('\n');
  }
}
