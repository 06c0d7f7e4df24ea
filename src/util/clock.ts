// Time as an input: the Clock port through which timed logic (lease expiry, checkpoints) reads
// the time, so a simulator or a test can own it. Pure, like the rest of util/: the real clock
// lives beside the rooms that do I/O (lease/system-clock.ts).
import { assert } from './assert.ts';

/** A monotonic source of milliseconds. Only differences between readings mean anything. */
export interface Clock {
  /** Milliseconds since an arbitrary origin; never decreases. */
  nowMs(): number;
}

/** A clock that moves only when told to: tests and the simulator own time. */
export class ManualClock implements Clock {
  #nowMs: number;

  /** Starts at `startMs` (0 by default). */
  constructor(startMs = 0) {
    assert(Number.isFinite(startMs), () => `clock: start ${startMs} is not finite`);
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  /** Moves time forward by `ms` (≥ 0). */
  advance(ms: number): void {
    assert(Number.isFinite(ms) && ms >= 0, () => `clock: cannot advance by ${ms} ms`);
    this.#nowMs += ms;
  }

  /** Moves time to `ms`, which must not be in the past: the clock is monotonic. */
  set(ms: number): void {
    assert(Number.isFinite(ms) && ms >= this.#nowMs, () => `clock: cannot go back to ${ms} ms`);
    this.#nowMs = ms;
  }
}
