// Main-thread aggregation: window deltas from every connection are merged
// into one exact set of histograms and counters per round; a finished round
// is summarized and folded into its cell. Memory stays bounded: a cell holds
// one histogram per name, however many windows and rounds it runs.

import * as hdr from 'hdr-histogram-js';
import type { FieldRecord } from '../../engine/index.ts';
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

export function summarize(h: hdr.Histogram): HistogramSummary {
  return {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    // Like the percentiles (and Java HdrHistogram's getMaxValue), the top of the max's
    // bucket: a merged histogram's raw maxValue is its bucket's bottom, which can sit
    // below p99.9.
    max: h.getValueAtPercentile(100),
    mean: Math.round(h.mean * 100) / 100,
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
  return hdr.build({ bitBucketSize: buckets, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 2, autoResize: true, useWebAssembly: wasm });
}

/** A bag of merged histograms and counters. */
export class Accumulator {
  readonly histograms = new Map<string, hdr.Histogram>();
  readonly counters = new Map<string, number>();

  constructor(private readonly buckets: Buckets = 'packed') {}

  addCounters(counters: Readonly<Record<string, number>> | ReadonlyMap<string, number>): void {
    const entries = counters instanceof Map ? counters.entries() : Object.entries(counters);
    for (const [k, v] of entries) this.counters.set(k, (this.counters.get(k) ?? 0) + v);
  }

  addEncoded(name: string, base64: string): void {
    const h = hdr.decodeFromCompressedBase64(base64, 32, wasm);
    this.addHistogram(name, h);
    h.destroy();
  }

  addHistogram(name: string, h: hdr.Histogram): void {
    let acc = this.histograms.get(name);
    if (acc === undefined) {
      acc = emptyHistogram(this.buckets);
      this.histograms.set(name, acc);
    }
    acc.add(h);
  }

  merge(other: Accumulator): void {
    this.addCounters(other.counters);
    for (const [name, h] of other.histograms) this.addHistogram(name, h);
  }

  summaries(): Record<string, HistogramSummary> {
    const out: Record<string, HistogramSummary> = {};
    for (const name of [...this.histograms.keys()].sort()) out[name] = summarize(this.histograms.get(name)!);
    return out;
  }

  counterRecord(): Record<string, number> {
    return Object.fromEntries([...this.counters.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  destroy(): void {
    for (const h of this.histograms.values()) h.destroy();
    this.histograms.clear();
  }
}

const MAX_SAMPLES = 512;

/** One round of one cell while it runs: short-lived, so it takes the fast 32-bit buckets. */
export class RoundAggregate extends Accumulator {
  readonly samples: FieldRecord[] = [];
  /** Diverged, torn or session_not_found records: kept apart so ordinary samples never crowd them out. */
  readonly anomalies: FieldRecord[] = [];
  windows = 0;

  constructor() {
    super(32);
  }

  add(delta: WindowDelta): void {
    this.windows++;
    this.addCounters(delta.counters);
    for (const [name, b64] of Object.entries(delta.histograms)) this.addEncoded(name, b64);
    for (const s of delta.samples) {
      const f = s as unknown as Record<string, unknown>;
      const anomalous = f['shadow_verdict'] === 'diverged' || f['session_not_found'] === true || f['torn'] === true;
      const into = anomalous ? this.anomalies : this.samples;
      if (into.length < MAX_SAMPLES) into.push(s);
    }
  }
}
