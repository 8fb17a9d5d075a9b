// A recorder's named figures, resolved to numeric ids once: counters are
// slots of one Float64Array, histograms entries of one array. The hot path
// only ever indexes; names are looked up when a plan is built and when a
// window is flushed.

import { BucketCounts, type SparseCounts } from './bucket-counts.ts';
import { winsorizedKey } from './keys.ts';

/** The percentile a window's histograms are winsorized at for their `.wsum` counters. */
const WINSORIZE_AT = 99;

export class Registry {
  private readonly counterIds = new Map<string, number>();
  private readonly counterNames: string[] = [];
  /** Counter values by id; grows (rarely) when a new counter is named. */
  counts = new Float64Array(256);
  private readonly histogramIds = new Map<string, number>();
  readonly histogramNames: string[] = [];
  readonly histograms: BucketCounts[] = [];

  counter(name: string): number {
    let id = this.counterIds.get(name);
    if (id === undefined) {
      id = this.counterNames.length;
      this.counterIds.set(name, id);
      this.counterNames.push(name);
      if (id >= this.counts.length) {
        const grown = new Float64Array(this.counts.length * 2);
        grown.set(this.counts);
        this.counts = grown;
      }
    }
    return id;
  }

  histogram(name: string, max: number): number {
    let id = this.histogramIds.get(name);
    if (id === undefined) {
      id = this.histograms.length;
      this.histogramIds.set(name, id);
      this.histogramNames.push(name);
      this.histograms.push(new BucketCounts(max));
    }
    return id;
  }

  /** The window's non-zero counters by name, then zero. */
  takeCounters(): Record<string, number> {
    const out: Record<string, number> = {};
    const c = this.counts;
    for (let id = 0; id < this.counterNames.length; id++) {
      if (c[id] !== 0) out[this.counterNames[id]!] = c[id]!;
    }
    c.fill(0, 0, this.counterNames.length);
    return out;
  }

  /**
   * The window's non-empty histograms by name, then empty; each one's
   * winsorized sum (at its p99) goes into `counters` as `<name>.wsum`.
   */
  takeHistograms(counters: Record<string, number>): Record<string, SparseCounts> {
    const out: Record<string, SparseCounts> = {};
    for (let id = 0; id < this.histograms.length; id++) {
      const h = this.histograms[id]!;
      if (h.total === 0) continue;
      const name = this.histogramNames[id]!;
      counters[winsorizedKey(name)] = h.winsorizedSum(WINSORIZE_AT);
      out[name] = h.take()!;
    }
    return out;
  }
}
