// The recording side of the field histograms: a plain counts array laid out
// exactly as an HdrHistogram with 3 significant digits and a lowest
// discernible value of 1 lays out its buckets, so a value lands in the bucket
// HdrHistogram would put it in. Recording is an index computation and an
// increment (about 2 ns, against ~13 ns for a WebAssembly call per value);
// a window ships only its non-zero buckets, which the main thread adds to an
// HdrHistogram bucket for bucket: the merged histogram is exactly the
// histogram of all values.

import * as hdr from 'hdr-histogram-js';

/** 3 significant digits: 2048 sub-buckets, the lower half shared by all buckets. */
const HALF_MAGNITUDE = 10;
const HALF = 1 << HALF_MAGNITUDE;
const SUB_MASK = 2 * HALF - 1;
const U32 = 4294967296;

/** HdrHistogram's counts index of a value (an integer >= 0). */
export function bucketIndex(v: number): number {
  if (v < U32) {
    const b = 31 - Math.clz32(v | SUB_MASK) - HALF_MAGNITUDE;
    return ((b + 1) << HALF_MAGNITUDE) + (v >>> b) - HALF;
  }
  const b = 63 - Math.clz32(Math.floor(v / U32)) - HALF_MAGNITUDE;
  return ((b + 1) << HALF_MAGNITUDE) + Math.floor(v / 2 ** b) - HALF;
}

/** The lowest value of bucket `i`. */
export function bucketValue(i: number): number {
  let b = (i >> HALF_MAGNITUDE) - 1;
  let sub = (i & (HALF - 1)) + HALF;
  if (b < 0) {
    sub -= HALF;
    b = 0;
  }
  return sub * 2 ** b;
}

/** How many integer values bucket `i` holds. */
export function bucketWidth(i: number): number {
  return 2 ** Math.max(0, (i >> HALF_MAGNITUDE) - 1);
}

/** The highest value of bucket `i`: what HdrHistogram reports for a percentile that falls in it. */
export const bucketTop = (i: number): number => bucketValue(i) + bucketWidth(i) - 1;

/** The median value of bucket `i`: what HdrHistogram's mean weighs its count by. */
export const bucketMedian = (i: number): number => bucketValue(i) + Math.floor(bucketWidth(i) / 2);

/** A window's histogram on the wire: its non-zero buckets, ascending. */
export interface SparseCounts {
  index: Uint32Array;
  count: Float64Array;
}

export class BucketCounts {
  private readonly counts: Uint32Array;
  /** The touched index range, so reset and export never scan the whole array. */
  private lo: number;
  private hi = -1;
  total = 0;

  /** `max`: the largest value kept; larger ones are recorded as `max`. */
  constructor(readonly max: number) {
    this.counts = new Uint32Array(bucketIndex(max) + 1);
    this.lo = this.counts.length;
  }

  /** Records a value >= 0; values above `max` count as `max`. */
  record(v: number): void {
    const i = bucketIndex(v > this.max ? this.max : v);
    this.counts[i]!++;
    if (i < this.lo) this.lo = i;
    if (i > this.hi) this.hi = i;
    this.total++;
  }

  /** HdrHistogram's value at a percentile: the highest value of the bucket holding it. */
  valueAtPercentile(p: number): number {
    if (this.total === 0) return 0;
    const want = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = this.lo; i <= this.hi; i++) {
      seen += this.counts[i]!;
      if (seen >= want) return bucketTop(i);
    }
    return bucketTop(this.hi);
  }

  /**
   * The sum of the values with those above the p-th percentile counted at it
   * (a winsorized sum, each value as its bucket's lowest): what a share-of-time
   * trigger can add up without one preempted operation deciding it.
   */
  winsorizedSum(p: number): number {
    if (this.total === 0) return 0;
    const cap = this.valueAtPercentile(p);
    let sum = 0;
    for (let i = this.lo; i <= this.hi; i++) {
      const c = this.counts[i]!;
      if (c !== 0) sum += c * Math.min(bucketValue(i), cap);
    }
    return sum;
  }

  /** The non-zero buckets, then zero: one window's delta. Null when empty. */
  take(): SparseCounts | null {
    if (this.total === 0) return null;
    let n = 0;
    for (let i = this.lo; i <= this.hi; i++) if (this.counts[i] !== 0) n++;
    const out: SparseCounts = { index: new Uint32Array(n), count: new Float64Array(n) };
    let k = 0;
    for (let i = this.lo; i <= this.hi; i++) {
      const c = this.counts[i]!;
      if (c === 0) continue;
      out.index[k] = i;
      out.count[k++] = c;
    }
    this.counts.fill(0, this.lo, this.hi + 1);
    this.lo = this.counts.length;
    this.hi = -1;
    this.total = 0;
    return out;
  }
}

/** Adds a window's buckets to an HdrHistogram (same layout: bucket i goes to bucket i). */
export function addSparse(h: hdr.Histogram, s: SparseCounts): void {
  for (let k = 0; k < s.index.length; k++) h.recordValueWithCount(bucketValue(s.index[k]!), s.count[k]!);
}

/** Σ value × count of a window's buckets, each at its median value, as HdrHistogram's mean weighs a bucket. */
export function sparseSum(s: SparseCounts): number {
  let sum = 0;
  for (let k = 0; k < s.index.length; k++) sum += bucketMedian(s.index[k]!) * s.count[k]!;
  return sum;
}

/** The total count of a window's buckets. */
export function sparseTotal(s: SparseCounts): number {
  let n = 0;
  for (let k = 0; k < s.count.length; k++) n += s.count[k]!;
  return n;
}
