// The real monotonic clock. It lives here rather than in util/ because util/ stays free of
// ambient time for the Raft core's sake; the server passes it to the Lessor.
import type { Clock } from '../util/clock.ts';

/** Milliseconds from the process's monotonic high-resolution timer (never goes back). */
export class SystemClock implements Clock {
  nowMs(): number {
    return performance.now();
  }
}
