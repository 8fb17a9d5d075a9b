// Main-thread aggregation: window deltas from every connection are merged
// into one exact set of histograms and counters per round; a finished round
// is summarized and folded into its cell. Memory stays bounded: a cell holds
// one histogram per name, however many windows and rounds it runs.

import * as hdr from 'hdr-histogram-js';
import type { FieldRecord } from '../../engine/index.ts';
import { addSparse, bucketTop, sparseSum, type SparseCounts } from './bucket-counts.ts';
import type { WindowDelta } from './recorder.ts';

export interface HistogramSummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** What an Accumulator keeps beside a histogram: Σ value × count (bucket medians) and the highest bucket counted. */
export interface KeptTotals {
  sum: number;
  top: number;
}

/**
 * `kept`: the histogram's totals, kept as it was filled, so neither the mean nor the max needs a pass over
 * the buckets: HdrHistogram's mean walks all of them (~2.6 ms for a packed latency histogram; with the max,
 * 2.1 s of a nightly's 2,300 cell summaries).
 */
export function summarize(h: hdr.Histogram, kept?: KeptTotals): HistogramSummary {
  const n = h.totalCount;
  const mean = kept === undefined ? h.mean : n === 0 ? 0 : kept.sum / n;
  return {
    count: n,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    // Like the percentiles (and Java HdrHistogram's getMaxValue), the top of the max's
    // bucket: a merged histogram's raw maxValue is its bucket's bottom, which can sit
    // below p99.9.
    max: kept === undefined ? h.getValueAtPercentile(100) : n === 0 ? 0 : bucketTop(kept.top),
    mean: Math.round(mean * 100) / 100,
  };
}

let wasm = false;

/** Switches this thread's histograms to WebAssembly (several times faster to decode and merge). */
export async function initHistograms(): Promise<void> {
  if (wasm) return;
  try {
    await hdr.initWebAssembly();
    wasm = true;
  } catch {
    wasm = false;
  }
}

/** 32-bit buckets merge several times faster; packed ones are compact enough to keep for a whole run. */
export type Buckets = 32 | 'packed';

export function emptyHistogram(buckets: Buckets = 'packed'): hdr.Histogram {
  return hdr.build({
    bitBucketSize: buckets,
    numberOfSignificantValueDigits: 3,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    autoResize: true,
    useWebAssembly: wasm,
  });
}

/** A bag of merged histograms and counters. */
export class Accumulator {
  readonly histograms = new Map<string, hdr.Histogram>();
  readonly counters = new Map<string, number>();
  /** Each histogram's totals, for its summary. */
  private readonly kept = new Map<string, KeptTotals>();

  constructor(private readonly buckets: Buckets = 'packed') {}

  addCounters(counters: Readonly<Record<string, number>> | ReadonlyMap<string, number>): void {
    const entries = counters instanceof Map ? counters.entries() : Object.entries(counters);
    for (const [k, v] of entries) this.counters.set(k, (this.counters.get(k) ?? 0) + v);
  }

  /** A window's non-zero buckets: added bucket for bucket, nothing decoded. */
  addBuckets(name: string, s: SparseCounts): void {
    addSparse(this.histogramOf(name), s);
    // Ascending: the last bucket is the highest.
    if (s.index.length > 0) this.keep(name, { sum: sparseSum(s), top: s.index[s.index.length - 1]! });
  }

  private keep(name: string, t: KeptTotals): void {
    const k = this.kept.get(name);
    if (k === undefined) this.kept.set(name, { ...t });
    else {
      k.sum += t.sum;
      k.top = Math.max(k.top, t.top);
    }
  }

  private histogramOf(name: string): hdr.Histogram {
    let acc = this.histograms.get(name);
    if (acc === undefined) {
      acc = emptyHistogram(this.buckets);
      this.histograms.set(name, acc);
    }
    return acc;
  }

  merge(other: Accumulator): void {
    this.addCounters(other.counters);
    for (const [name, h] of other.histograms) {
      this.histogramOf(name).add(h);
      const t = other.kept.get(name);
      if (t !== undefined) this.keep(name, t);
    }
  }

  /** The summary of histogram `name` (undefined: none recorded). */
  summary(name: string): HistogramSummary | undefined {
    const h = this.histograms.get(name);
    return h === undefined ? undefined : summarize(h, this.kept.get(name) ?? { sum: 0, top: 0 });
  }

  summaries(): Record<string, HistogramSummary> {
    const out: Record<string, HistogramSummary> = {};
    for (const name of [...this.histograms.keys()].sort()) out[name] = this.summary(name)!;
    return out;
  }

  counterRecord(): Record<string, number> {
    return Object.fromEntries([...this.counters.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  destroy(): void {
    for (const h of this.histograms.values()) h.destroy();
    this.histograms.clear();
    this.kept.clear();
  }
}

const MAX_SAMPLES = 512;

/**
 * One round of one cell while it runs. Window deltas are added into plain
 * counts arrays (an add per non-zero bucket, nothing decoded), so the main
 * thread's share stays small while workers are measured; `finish()` turns
 * them into HdrHistograms once, when the round is over.
 */
export class RoundAggregate extends Accumulator {
  readonly samples: FieldRecord[] = [];
  /** Diverged, torn or session_not_found records: kept apart so ordinary samples never crowd them out. */
  readonly anomalies: FieldRecord[] = [];
  windows = 0;
  private readonly pending = new Map<string, BlockCounts>();

  constructor() {
    super(32);
  }

  add(delta: WindowDelta): void {
    this.windows++;
    this.addCounters(delta.counters);
    for (const [name, buckets] of Object.entries(delta.histograms)) {
      let c = this.pending.get(name);
      if (c === undefined) this.pending.set(name, (c = new BlockCounts()));
      c.add(buckets);
    }
    for (const s of delta.samples) {
      const f = s as unknown as Record<string, unknown>;
      const anomalous = f['shadow_verdict'] === 'diverged' || f['session_not_found'] === true || f['torn'] === true;
      const into = anomalous ? this.anomalies : this.samples;
      if (into.length < MAX_SAMPLES) into.push(s);
    }
  }

  /** The round is over: its counts become HdrHistograms (`histograms`). */
  finish(): this {
    for (const [name, counts] of this.pending) this.addBuckets(name, counts.sparse());
    this.pending.clear();
    return this;
  }
}

/**
 * A round's counts of one histogram, in blocks of BLOCK buckets made when a
 * bucket in them is first counted: a latency histogram spans ~27,000
 * buckets, of which a round touches a few hundred.
 */
class BlockCounts {
  private readonly blocks: (Float64Array | undefined)[] = [];

  add(s: SparseCounts): void {
    const blocks = this.blocks;
    for (let k = 0; k < s.index.length; k++) {
      const i = s.index[k]!;
      const b = blocks[i >>> BLOCK_BITS] ?? (blocks[i >>> BLOCK_BITS] = new Float64Array(BLOCK));
      b[i & (BLOCK - 1)]! += s.count[k]!;
    }
  }

  /** The non-zero buckets, ascending. */
  sparse(): SparseCounts {
    const index: number[] = [];
    const count: number[] = [];
    this.blocks.forEach((b, n) => {
      if (b === undefined) return;
      for (let j = 0; j < BLOCK; j++) {
        if (b[j] === 0) continue;
        index.push((n << BLOCK_BITS) + j);
        count.push(b[j]!);
      }
    });
    return { index: Uint32Array.from(index), count: Float64Array.from(count) };
  }
}

const BLOCK_BITS = 8;
const BLOCK = 1 << BLOCK_BITS;
