// A small seeded PRNG (xorshift32): fault injection and shard hashing must be
// reproducible for a seed, and Math.random is not seedable.

export class Xorshift32 {
  private state: number;
  constructor(seed: number) {
    this.state = seed | 0 || 0x9e3779b9;
  }
  /** Uniform integer in [0, 2^32). */
  nextU32(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x;
    return x >>> 0;
  }
  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }
}

/** Fibonacci hashing of a 32-bit integer. */
export function hash32(x: number): number {
  return Math.imul(x ^ (x >>> 16), 0x9e3779b1) >>> 0;
}
