// A set of watchers indexed by what they watch (etcd's watcherGroup): single-key watchers in a
// Map keyed by the key's bytes as a latin1 string (one lookup per event), range watchers in an
// interval tree (O(log n + matches) per event). Latin1 strings compare as their bytes do, so
// etcd's byte-order range rules hold for plain string comparison.
import { IntervalTree, unboundedEnd } from './interval-tree.ts';
import { toKeyRange } from './read.ts';

/** A key's bytes as a latin1 string: one character per byte, ordered as the bytes. */
export function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** What a watcher watches, in the group's string form. */
export type WatchedRange =
  | { single: true; key: string }
  | { single: false; start: string; end: string };

/** etcd's watch range rules: empty rangeEnd → one key; "\0" → every key ≥ key; else [key, end). */
export function watchedRange(key: Uint8Array, rangeEnd: Uint8Array | undefined): WatchedRange {
  const range = toKeyRange(key, rangeEnd);
  if (range.single) return { single: true, key: keyString(range.key) };
  const end = range.end === undefined ? unboundedEnd : keyString(range.end);
  return { single: false, start: keyString(range.start), end };
}

/** Watchers indexed by range. A watcher must not be added twice. */
export class WatcherGroup<W extends { readonly range: WatchedRange }> {
  readonly #byKey = new Map<string, Set<W>>();
  readonly #ranges = new IntervalTree<W>();
  readonly #members = new Set<W>();

  /** How many watchers the group holds. */
  get size(): number {
    return this.#members.size;
  }

  has(watcher: W): boolean {
    return this.#members.has(watcher);
  }

  /** Every watcher of the group, in insertion order. */
  values(): IterableIterator<W> {
    return this.#members.values();
  }

  add(watcher: W): void {
    if (this.#members.has(watcher)) return;
    this.#members.add(watcher);
    const range = watcher.range;
    if (range.single) {
      let set = this.#byKey.get(range.key);
      if (set === undefined) {
        set = new Set();
        this.#byKey.set(range.key, set);
      }
      set.add(watcher);
    } else {
      this.#ranges.insert(range.start, range.end, watcher);
    }
  }

  delete(watcher: W): boolean {
    if (!this.#members.delete(watcher)) return false;
    const range = watcher.range;
    if (range.single) {
      const set = this.#byKey.get(range.key);
      set?.delete(watcher);
      if (set?.size === 0) this.#byKey.delete(range.key);
    } else {
      this.#ranges.remove(range.start, range.end, watcher);
    }
    return true;
  }

  /** Calls `fn` with every watcher whose range contains `key` (a keyString). */
  forEachMatch(key: string, fn: (watcher: W) => void): void {
    const exact = this.#byKey.get(key);
    if (exact !== undefined) for (const w of exact) fn(w);
    if (this.#ranges.intervalCount > 0) this.#ranges.stab(key, fn);
  }
}
