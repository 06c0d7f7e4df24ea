// A small seeded pseudo-random generator (xoshiro128**), so that every run of the Raft core and
// the simulator replays exactly from its seed. Not for cryptography.

/** A source of randomness the Raft core can be given; the only way randomness enters it. */
export interface Rng {
  /** An integer in [0, n). */
  int(n: number): number;
  /** A float in [0, 1). */
  float(): number;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A deterministic generator; equal seeds give equal sequences. */
export class SeededRng implements Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  constructor(seed: number) {
    const next = splitmix32(seed ^ Math.floor(seed / 0x1_0000_0000));
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
  }

  /** The next raw 32-bit unsigned value. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = (this.#s1 << 9) >>> 0;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    this.#s0 >>>= 0;
    this.#s1 >>>= 0;
    this.#s2 >>>= 0;
    this.#s3 >>>= 0;
    return result;
  }

  int(n: number): number {
    if (n <= 0) return 0;
    return Math.floor(this.float() * n);
  }

  float(): number {
    return this.next() / 0x1_0000_0000;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined && items.length === 0) throw new RangeError('rng: pick from an empty list');
    return item as T;
  }

  /** A new generator derived from this one (for independent streams). */
  fork(): SeededRng {
    return new SeededRng(this.next() * 0x1_0000 + (this.next() & 0xffff));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
