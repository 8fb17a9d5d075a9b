// A Prometheus histogram fed from HDR histograms.
//
// prom-client's Histogram only has observe(value), one value at a time, and a
// window delta carries a whole HDR histogram per name (its non-zero buckets).
// Replaying percentiles would be lossy, so this metric keeps, per label set,
// cumulative bucket counts, a sum and a count, and adds each window's HDR
// buckets to them one by one: each HDR bucket's count goes to the first
// Prometheus bucket whose bound is >= the HDR bucket's lowest value. Nothing is
// decoded. Counts are therefore exact; a value's bucket is exact up to
// HDR's resolution (3 significant digits: values below 2048 are exact, larger
// ones are placed within 0.1 % of their true value). `_sum` uses each step's
// median equivalent value (the same 0.1 % bound).
//
// It subclasses prom-client's Histogram so it registers like any metric and is
// serialized by the registry as `# TYPE … histogram` with `_bucket{le}`,
// `_sum` and `_count` series.

import { Histogram, type Registry } from 'prom-client';
import { bucketMedian, bucketValue, type SparseCounts } from '../record/bucket-counts.ts';

interface Series {
  labels: Record<string, string>;
  /** Non-cumulative counts per finite bound. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

export interface HdrHistogramMetricOptions {
  name: string;
  help: string;
  labelNames: readonly string[];
  /** Finite upper bounds in the exported unit, ascending. */
  buckets: readonly number[];
  /** Divisor from the recorded unit to the exported unit (1e9 for ns → s; a division keeps 1000 ns exactly 1e-6 s). */
  divisor: number;
  registry: Registry;
}

/** What one decoded window histogram contributed (in the exported unit). */
export interface WindowContribution {
  count: number;
  max: number;
}

export class HdrHistogramMetric extends Histogram<string> {
  readonly metricName: string;
  readonly helpText: string;
  private readonly bounds: readonly number[];
  private readonly divisor: number;
  private readonly series = new Map<string, Series>();

  constructor(o: HdrHistogramMetricOptions) {
    super({ name: o.name, help: o.help, labelNames: [...o.labelNames], buckets: [...o.buckets], registers: [o.registry] });
    this.metricName = o.name;
    this.helpText = o.help;
    this.bounds = o.buckets;
    this.divisor = o.divisor;
  }

  /**
   * Adds a window's histogram (its non-zero HDR buckets, ascending). Each
   * bucket's count goes to the first Prometheus bucket whose bound is >= the
   * HDR bucket's lowest value; `_sum` takes the HDR bucket's median value.
   */
  addBuckets(labels: Record<string, string>, window: SparseCounts): WindowContribution {
    const s = this.seriesOf(labels);
    const bounds = this.bounds;
    let count = 0;
    let max = 0;
    let b = 0;
    for (let k = 0; k < window.index.length; k++) {
      const i = window.index[k]!;
      const n = window.count[k]!;
      const v = bucketValue(i);
      const low = v / this.divisor;
      while (b < bounds.length && low > bounds[b]!) b++;
      if (b < bounds.length) s.buckets[b]! += n;
      s.sum += (bucketMedian(i) / this.divisor) * n;
      count += n;
      max = low;
    }
    s.count += count;
    return { count, max };
  }

  /** Creates the series with zero counts, so it is exported before its first value. */
  touch(labels: Record<string, string>): void {
    this.seriesOf(labels);
  }

  seriesCount(): number {
    return this.series.size;
  }

  /** Cumulative bucket counts of one series (for tests): [le, count][], +Inf last. */
  snapshot(labels: Record<string, string>): { buckets: [string, number][]; sum: number; count: number } | null {
    const s = this.series.get(key(labels));
    if (s === undefined) return null;
    let acc = 0;
    const buckets: [string, number][] = this.bounds.map((b, i) => [String(b), (acc += s.buckets[i]!)]);
    buckets.push(['+Inf', s.count]);
    return { buckets, sum: s.sum, count: s.count };
  }

  override reset(): void {
    // prom-client's constructor calls reset() before this class's fields exist.
    (this.series as Map<string, Series> | undefined)?.clear();
  }

  /** What the registry serializes (prom-client prefers this over get()). */
  async getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: object[]; aggregator: 'sum' }> {
    const values: object[] = [];
    const name = this.metricName;
    for (const s of this.series.values()) {
      let acc = 0;
      this.bounds.forEach((b, i) => {
        acc += s.buckets[i]!;
        values.push({ labels: { ...s.labels, le: b }, sharedLabels: {}, value: acc, metricName: `${name}_bucket` });
      });
      values.push({ labels: { ...s.labels, le: '+Inf' }, sharedLabels: {}, value: s.count, metricName: `${name}_bucket` });
      values.push({ labels: { ...s.labels }, sharedLabels: {}, value: s.sum, metricName: `${name}_sum` });
      values.push({ labels: { ...s.labels }, sharedLabels: {}, value: s.count, metricName: `${name}_count` });
    }
    return { name, help: this.helpText, type: 'histogram', values, aggregator: 'sum' };
  }

  private seriesOf(labels: Record<string, string>): Series {
    const k = key(labels);
    let s = this.series.get(k);
    if (s === undefined) {
      s = { labels: { ...labels }, buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    return s;
  }
}

function key(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
}

/** Latency buckets in seconds: 100 ns to 10 s. */
export const SECONDS_BUCKETS: readonly number[] = [
  1e-7, 2.5e-7, 5e-7, 1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Buckets for count-like card fields (retries, spins, ages, sessions, cache sizes). */
export const COUNT_BUCKETS: readonly number[] = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536, 262144, 1048576];
