// The worker-side recorder: turns the engine's field records and the
// driver's operation timings into HDR histograms and counters, one window at
// a time. Each window is flushed as a delta (histograms encoded losslessly),
// so the main thread sees live data and merges the exact totals.
//
// The engine hook only queues records; they are recorded after the driver has
// taken the operation's end time, so recording never inflates the latency it
// measures. Histograms and counter cells are resolved once per (class,
// operation) and cached, so a record costs map lookups, not key building.

import * as hdr from 'hdr-histogram-js';
import { REQUIRED_FIELDS, type FieldRecord, type MetadataClass } from '../../engine/index.ts';
import { ENUM_FIELDS, FLAG_FIELDS, LATENCY_FIELDS, LATENCY_MAX_NS, VALUE_FIELDS, VALUE_MAX, type NumericField } from './fields.ts';

export interface WindowDelta {
  /** Connection index within the cell. */
  connection: number;
  window: number;
  start_ms: number;
  end_ms: number;
  counters: Record<string, number>;
  /** Histogram name → compressed base64 HdrHistogram of this window's values. */
  histograms: Record<string, string>;
  /** Sampled field records of the window (anomalies first), bounded. */
  samples: FieldRecord[];
}

/** Head-sampled records kept per window at most (bounded memory whatever the ratio). */
const HEAD_SAMPLES = 256;
/** Anomalies kept per window: high enough that none is sampled away in practice; any beyond is counted. */
const ANOMALY_SAMPLES = 4096;
/** The default head-sampling ratio: low, since anomalies are always kept anyway. */
export const DEFAULT_SAMPLE_RATIO = 0.01;
/** How often (records per class and operation) the running p99.9 that marks a slow record is recomputed. */
const P999_EVERY = 1024;
/** A queue longer than this is recorded at once (an operation that emits without end). */
const MAX_PENDING = 4096;

type Fields = Record<string, unknown>;

interface Cell {
  n: number;
}

interface Numeric {
  field: string;
  hist: hdr.Histogram;
  max: number;
  sum: Cell | null;
}

/** Everything one (class, operation) pair records into, resolved once. */
interface Slot {
  count: Cell;
  duration: hdr.Histogram;
  /** The running p99.9 of this (class, operation)'s durations: a record above it is an anomaly. */
  p999: number;
  sinceP999: number;
  durationSum: Cell;
  numeric: Numeric[];
  /** Each flag is counted per class and per (class, operation): triggers need both. */
  flags: { field: string; yes: Cell; no: Cell; opYes: Cell; opNo: Cell }[];
  enums: { field: string; cells: Map<string, Cell>; prefix: string }[];
}

export class Recorder {
  private readonly hists = new Map<string, hdr.Histogram>();
  private readonly cells = new Map<string, Cell>();
  private readonly slots = new Map<MetadataClass, Map<string, Slot>>();
  private pending: FieldRecord[] = [];
  private samples: FieldRecord[] = [];
  private anomalies = 0;
  private headSampled = 0;
  private failedOp = false;
  private readonly headThreshold: number;
  private window = 0;
  private windowStart = performance.timeOrigin + performance.now();
  /** While false (warm-up), nothing is kept. */
  active = false;

  /**
   * `sampleRatio` is the head-sampling fraction, decided per transaction by
   * its trace_id, so a sampled transaction keeps all its records. Anomalies
   * (a diverged verdict, session_not_found, a torn read, a duration above the
   * running p99.9) are always kept.
   */
  constructor(readonly connection: number, private readonly useWasm: boolean, sampleRatio: number = DEFAULT_SAMPLE_RATIO) {
    this.headThreshold = Math.max(0, Math.min(1, sampleRatio)) * 4294967296;
  }

  /** The engine hook: queues the record until the operation ends. */
  readonly onRecord = (r: FieldRecord): void => {
    if (!this.active) return;
    this.pending.push(r);
    if (this.pending.length >= MAX_PENDING) this.drain();
  };

  /** One driver operation (a transaction, DDL, checkpoint or wait), then the records it produced. */
  op(kind: string, latencyNs: number, serviceNs: number, error: string | null, retries: number): void {
    if (!this.active) return;
    if (error === null) {
      this.cell(`op.${kind}.ok`).n++;
      this.record(this.hist(`op.${kind}.latency_ns`, LATENCY_MAX_NS), latencyNs, LATENCY_MAX_NS);
      this.record(this.hist(`op.${kind}.service_ns`, LATENCY_MAX_NS), serviceNs, LATENCY_MAX_NS);
      this.cell(`op.${kind}.service_ns.sum`).n += serviceNs;
    } else {
      this.cell(`op.${kind}.error.${error}`).n++;
    }
    if (retries > 0) this.cell(`op.${kind}.retries`).n += retries;
    // An operation that failed is an anomaly: all its records are kept for spans.
    this.failedOp = error !== null;
    this.drain();
    this.failedOp = false;
  }

  count(key: string, n = 1): void {
    this.cell(key).n += n;
  }

  /** Records every queued field record. */
  drain(): void {
    const queue = this.pending;
    if (queue.length === 0) return;
    this.pending = [];
    for (const r of queue) this.fieldRecord(r);
  }

  /** Ends the window: encodes and resets everything recorded since the last flush. */
  flush(): WindowDelta {
    this.drain();
    const end = performance.timeOrigin + performance.now();
    const histograms: Record<string, string> = {};
    for (const [name, h] of this.hists) {
      if (h.totalCount === 0) continue;
      histograms[name] = hdr.encodeIntoCompressedBase64(h);
      h.reset();
    }
    const counters: Record<string, number> = {};
    for (const [k, c] of this.cells) {
      if (c.n !== 0) counters[k] = c.n;
      c.n = 0;
    }
    const delta: WindowDelta = { connection: this.connection, window: this.window++, start_ms: this.windowStart, end_ms: end, counters, histograms, samples: this.samples };
    this.samples = [];
    this.anomalies = 0;
    this.headSampled = 0;
    this.windowStart = end;
    return delta;
  }

  destroy(): void {
    for (const h of this.hists.values()) h.destroy();
    this.hists.clear();
  }

  private fieldRecord(r: FieldRecord): void {
    const f = r as unknown as Fields;
    const slot = this.slotOf(r.metadata_class, r.operation, f);
    slot.count.n++;
    const duration = r.end_ns - r.start_ns;
    this.record(slot.duration, duration, LATENCY_MAX_NS);
    slot.durationSum.n += duration;
    if (++slot.sinceP999 >= P999_EVERY && slot.duration.totalCount >= 1000) {
      slot.p999 = slot.duration.getValueAtPercentile(99.9);
      slot.sinceP999 = 0;
    }
    for (const m of slot.numeric) {
      const v = f[m.field] as number;
      this.record(m.hist, v, m.max);
      if (m.sum !== null) m.sum.n += v;
    }
    for (const flag of slot.flags) {
      if (f[flag.field] === true) {
        flag.yes.n++;
        flag.opYes.n++;
      } else {
        flag.no.n++;
        flag.opNo.n++;
      }
    }
    for (const e of slot.enums) {
      const v = String(f[e.field]);
      let c = e.cells.get(v);
      if (c === undefined) {
        c = this.cell(`${e.prefix}${v}`);
        e.cells.set(v, c);
      }
      c.n++;
    }
    this.sample(r, f, slot.p999 > 0 && duration > slot.p999);
  }

  /** Resolves a (class, operation) slot; the first record of each is checked for its card's required fields. */
  private slotOf(cls: MetadataClass, operation: string, first: Fields): Slot {
    let byOp = this.slots.get(cls);
    if (byOp === undefined) {
      byOp = new Map();
      this.slots.set(cls, byOp);
    }
    let slot = byOp.get(operation);
    if (slot !== undefined) return slot;
    for (const field of REQUIRED_FIELDS[cls]) if (first[field] === undefined) this.cell(`gap.${cls}.${field}`).n++;
    const applies = (m: NumericField): boolean => m.operations === undefined || m.operations.includes(operation);
    slot = {
      count: this.cell(`${cls}.${operation}`),
      duration: this.hist(`${cls}.${operation}.duration_ns`, LATENCY_MAX_NS),
      p999: 0,
      sinceP999: 0,
      durationSum: this.cell(`${cls}.${operation}.duration_ns.sum`),
      numeric: [
        ...(LATENCY_FIELDS[cls] ?? []).filter(applies).map((m) => ({ field: m.field, hist: this.hist(`${cls}.${m.field}`, LATENCY_MAX_NS), max: LATENCY_MAX_NS, sum: this.cell(`${cls}.${m.field}.sum`) })),
        ...(VALUE_FIELDS[cls] ?? []).filter(applies).map((m) => ({ field: m.field, hist: this.hist(`${cls}.${m.field}`, VALUE_MAX), max: VALUE_MAX, sum: this.cell(`${cls}.${m.field}.sum`) })),
      ],
      flags: (FLAG_FIELDS[cls] ?? []).map((field) => ({
        field, yes: this.cell(`${cls}.${field}.true`), no: this.cell(`${cls}.${field}.false`),
        opYes: this.cell(`${cls}.${operation}.${field}.true`), opNo: this.cell(`${cls}.${operation}.${field}.false`),
      })),
      enums: (ENUM_FIELDS[cls] ?? []).filter(applies).map(({ field }) => ({ field, cells: new Map<string, Cell>(), prefix: `${cls}.${field}.` })),
    };
    byOp.set(operation, slot);
    return slot;
  }

  private cell(key: string): Cell {
    let c = this.cells.get(key);
    if (c === undefined) {
      c = { n: 0 };
      this.cells.set(key, c);
    }
    return c;
  }

  private hist(name: string, max: number): hdr.Histogram {
    let h = this.hists.get(name);
    if (h === undefined) {
      // 32-bit buckets: recordValue is ~10x cheaper than 'packed' in WebAssembly.
      h = hdr.build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: max, autoResize: true, useWebAssembly: this.useWasm });
      this.hists.set(name, h);
    }
    return h;
  }

  private record(h: hdr.Histogram, value: number, max: number): void {
    h.recordValue(value >= max ? max : value > 0 ? Math.round(value) : 0);
  }

  private sample(r: FieldRecord, f: Fields, slow: boolean): void {
    if (slow || this.failedOp || f['shadow_verdict'] === 'diverged' || f['session_not_found'] === true || f['torn'] === true) {
      if (this.anomalies++ < ANOMALY_SAMPLES) this.samples.push(r);
      else this.cell('samples.anomalies_dropped').n++;
      return;
    }
    if (this.headSampled < HEAD_SAMPLES && traceHash(r.trace_id) < this.headThreshold) {
      this.headSampled++;
      this.samples.push(r);
    }
  }
}

/** FNV-1a over the trace id: the head-sampling decision is a deterministic function of it. */
function traceHash(traceId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < traceId.length; i++) h = Math.imul(h ^ traceId.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
