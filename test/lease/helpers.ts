// Shared fixtures for the lease tests: a lessor on a ManualClock, a recording KeyDeleter and an
// in-memory LeaseStore.
import { ManualClock } from '../../src/util/clock.ts';
import { Lessor, MemoryLeaseStore } from '../../src/lease/index.ts';
import type { KeyDeleter, LessorOptions } from '../../src/lease/index.ts';

/** A KeyDeleter that records each call's keys as strings. */
export class RecordingDeleter implements KeyDeleter {
  readonly calls: string[][] = [];
  deleteKeys(keys: Uint8Array[]): void {
    this.calls.push(keys.map((k) => text.decode(k)));
  }
}

const text = new TextDecoder();
const encoder = new TextEncoder();

/** UTF-8 bytes of each string. */
export function keys(...names: string[]): Uint8Array[] {
  return names.map((n) => encoder.encode(n));
}

/** Bytes back to strings. */
export function names(bytes: Uint8Array[]): string[] {
  return bytes.map((b) => text.decode(b));
}

/** A fresh lessor (min TTL 1 s unless overridden) with its clock, deleter and store. */
export function setup(options: Partial<Omit<LessorOptions, 'clock' | 'keyDeleter'>> = {}) {
  const clock = new ManualClock(1_000_000);
  const deleter = new RecordingDeleter();
  const store = options.store ?? new MemoryLeaseStore();
  const lessor = new Lessor({ minTtlSeconds: 1, ...options, clock, keyDeleter: deleter, store });
  return { clock, deleter, store, lessor };
}
