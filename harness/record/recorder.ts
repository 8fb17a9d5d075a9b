// The worker-side recorder: turns the engine's field records and the
// driver's operation timings into HDR histograms and counters, one window at
// a time. Each window is flushed as a delta (histograms encoded losslessly),
// so the main thread sees live data and merges the exact totals.

import * as hdr from 'hdr-histogram-js';
import { REQUIRED_FIELDS, type FieldRecord, type MetadataClass } from '../../engine/index.ts';
import { ENUM_FIELDS, FLAG_FIELDS, LATENCY_FIELDS, LATENCY_MAX_NS, VALUE_FIELDS, VALUE_MAX } from './fields.ts';

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

const SAMPLES_PER_CLASS = 4;
const ANOMALY_SAMPLES = 64;

type Record_ = Record<string, unknown>;

export class Recorder {
  private readonly hists = new Map<string, hdr.Histogram>();
  private counters = new Map<string, number>();
  private samples: FieldRecord[] = [];
  private anomalies = 0;
  private readonly sampledPerClass = new Map<string, number>();
  private readonly checked = new Set<string>();
  private window = 0;
  private windowStart = performance.timeOrigin + performance.now();
  /** While false (warm-up), nothing is kept. */
  active = false;

  constructor(readonly connection: number, private readonly useWasm: boolean) {}

  /** The engine hook. */
  readonly onRecord = (r: FieldRecord): void => {
    if (!this.active) return;
    const cls = r.metadata_class;
    const rec = r as unknown as Record_;
    this.count(`${cls}.${r.operation}`);
    this.checkRequired(cls, r.operation, rec);
    this.hist(`${cls}.${r.operation}.duration_ns`, r.end_ns - r.start_ns, LATENCY_MAX_NS);
    for (const { field, operations } of LATENCY_FIELDS[cls] ?? []) {
      if (operations === undefined || operations.includes(r.operation)) this.hist(`${cls}.${field}`, rec[field] as number, LATENCY_MAX_NS);
    }
    for (const { field, operations } of VALUE_FIELDS[cls] ?? []) {
      if (operations !== undefined && !operations.includes(r.operation)) continue;
      const v = rec[field] as number;
      this.hist(`${cls}.${field}`, v, VALUE_MAX);
      this.count(`${cls}.${field}.sum`, v);
    }
    for (const f of FLAG_FIELDS[cls] ?? []) this.count(`${cls}.${f}.${rec[f] === true ? 'true' : 'false'}`);
    for (const f of ENUM_FIELDS[cls] ?? []) this.count(`${cls}.${f}.${String(rec[f])}`);
    this.sample(r, rec);
  };

  /** One driver operation (a transaction, DDL, checkpoint or wait). */
  op(kind: string, latencyNs: number, serviceNs: number, error: string | null, retries: number): void {
    if (!this.active) return;
    if (error === null) {
      this.count(`op.${kind}.ok`);
      this.hist(`op.${kind}.latency_ns`, latencyNs, LATENCY_MAX_NS);
      this.hist(`op.${kind}.service_ns`, serviceNs, LATENCY_MAX_NS);
    } else {
      this.count(`op.${kind}.error.${error}`);
    }
    if (retries > 0) this.count(`op.${kind}.retries`, retries);
  }

  count(key: string, n = 1): void {
    this.counters.set(key, (this.counters.get(key) ?? 0) + n);
  }

  /** Ends the window: encodes and resets everything recorded since the last flush. */
  flush(): WindowDelta {
    const end = performance.timeOrigin + performance.now();
    const histograms: Record<string, string> = {};
    for (const [name, h] of this.hists) {
      if (h.totalCount === 0) continue;
      histograms[name] = hdr.encodeIntoCompressedBase64(h);
      h.reset();
    }
    const delta: WindowDelta = {
      connection: this.connection, window: this.window++, start_ms: this.windowStart, end_ms: end,
      counters: Object.fromEntries(this.counters), histograms, samples: this.samples,
    };
    this.counters = new Map();
    this.samples = [];
    this.anomalies = 0;
    this.sampledPerClass.clear();
    this.windowStart = end;
    return delta;
  }

  destroy(): void {
    for (const h of this.hists.values()) h.destroy();
    this.hists.clear();
  }

  private hist(name: string, value: number, max: number): void {
    let h = this.hists.get(name);
    if (h === undefined) {
      h = hdr.build({ bitBucketSize: 'packed', numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: max, autoResize: true, useWebAssembly: this.useWasm });
      this.hists.set(name, h);
    }
    h.recordValue(Math.min(max, Math.max(0, Math.round(value))));
  }

  /** The first record of each (class, operation) is checked for every required field of its card. */
  private checkRequired(cls: MetadataClass, operation: string, rec: Record_): void {
    const key = `${cls}.${operation}`;
    if (this.checked.has(key)) return;
    this.checked.add(key);
    for (const f of REQUIRED_FIELDS[cls]) if (rec[f] === undefined) this.count(`gap.${cls}.${f}`);
  }

  private sample(r: FieldRecord, rec: Record_): void {
    const anomalous = rec['shadow_verdict'] === 'diverged' || rec['session_not_found'] === true || rec['torn'] === true;
    if (anomalous) {
      if (this.anomalies++ < ANOMALY_SAMPLES) this.samples.push(r);
      return;
    }
    const n = this.sampledPerClass.get(r.metadata_class) ?? 0;
    if (n < SAMPLES_PER_CLASS) {
      this.sampledPerClass.set(r.metadata_class, n + 1);
      this.samples.push(r);
    }
  }
}
