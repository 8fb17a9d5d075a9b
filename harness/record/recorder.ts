// The worker-side recorder: turns the engine's field rows (see
// engine/records) and the driver's operation timings into histograms and
// counters, one window at a time. Each window is flushed as a delta (the
// non-zero buckets of each histogram, counters by name), so the main thread
// sees live data and merges the exact totals.
//
// The engine writes rows into the recorder's sink during an operation; they
// are recorded after the driver has taken the operation's end time, so
// recording never inflates the latency it measures. Nothing on this path
// allocates: rows are numbers, histograms and counters are indexed by ids
// resolved once per row kind. Full record objects are built only for
// transactions that are head-sampled (decided at begin by trace id) or
// anomalous: a diverged verdict, session_not_found, a torn read, a failed
// operation, an operation slower than its kind's running p99.9, or a timed
// record slower than its (class, operation)'s.

import { CLASS_INDEX, FLAG_SAMPLED, FLAG_TIMED, KIND_MASK, ROW, RecordSink, VERDICT, decodeRow, writeRecord, type FieldRecord } from '../../engine/index.ts';
import { OP_KINDS, type OpKind } from '../spec/schema.ts';
import type { SparseCounts } from './bucket-counts.ts';
import { LATENCY_MAX_NS } from './fields.ts';
import { planOf, RawCells, runSteps, settle, type KindPlan } from './plan.ts';
import { Registry } from './registry.ts';
import { opKey } from './keys.ts';

export interface WindowDelta {
  /** Connection index within the cell. */
  connection: number;
  window: number;
  start_ms: number;
  end_ms: number;
  counters: Record<string, number>;
  /** Histogram name → this window's non-zero buckets (HdrHistogram's layout, see bucket-counts.ts). */
  histograms: Record<string, SparseCounts>;
  /** Sampled field records of the window (anomalies first), bounded. */
  samples: FieldRecord[];
}

export interface RecorderOptions {
  /** Head-sampling fraction of transactions kept as full records and spans (default DEFAULT_SAMPLE_RATIO). */
  sampleRatio?: number;
  /**
   * Fraction of transactions whose records are timed (start and end, two
   * clock reads each; default DEFAULT_TIME_RATIO). Sampled transactions and
   * M6's records are always timed. Card fields that are waits or rare costs (wait_ns,
   * lock_wait_ns when contended, alloc_ns, refresh_ns) are always measured;
   * reset_ns, shorter than two clock reads, only in timed transactions.
   */
  timeRatio?: number;
}

/** Head-sampled records kept per window (bounded memory whatever the ratio), give or take the last transaction's. */
const HEAD_SAMPLES = 256;
/** Anomalies kept per window: high enough that none is sampled away in practice; any beyond is counted. */
const ANOMALY_SAMPLES = 4096;
/** The default head-sampling ratio: low, since anomalies are always kept anyway. */
export const DEFAULT_SAMPLE_RATIO = 0.01;
/**
 * A clock read costs ~40 ns on these machines (performance.now() on Node 20),
 * and an operation emits ~30 records: timing every record would cost more
 * than all the rest of recording. One transaction in 32 gives the records'
 * duration histograms thousands of values a second.
 */
export const DEFAULT_TIME_RATIO = 1 / 32;
/**
 * M6's records are timed in every transaction: its bind time is summed by the
 * alloc_churn trigger, and a sampled sum scaled up turns one stalled bind
 * into dozens (a 1 ms stall in 1 of 32 timed binds fired it falsely).
 */
const ALWAYS_TIMED = 1 << CLASS_INDEX.M6;
/** How often (rows or operations of one kind) a running p99.9 is recomputed. */
const P999_EVERY = 1024;

interface OpSlot {
  ok: number;
  latency: number;
  service: number;
  serviceSum: number;
  retries: number;
  errors: Map<string, number>;
  p999: number;
  sinceP999: number;
}

const clamp = (v: number, max: number): number => (v >= max ? max : v > 0 ? Math.round(v) : 0);

export class Recorder {
  /** Hand this to the engine connection: it writes its field rows here. */
  readonly sink: RecordSink;
  private readonly reg = new Registry();
  private readonly raw = new RawCells();
  private readonly plans: (KindPlan | undefined)[] = [];
  /** The plans made so far, in order (settled at every flush). */
  private readonly planList: KindPlan[] = [];
  private readonly ops: Record<OpKind, OpSlot>;
  private readonly droppedAnomalies: number;
  private samples: FieldRecord[] = [];
  private anomalies = 0;
  private headSampled = 0;
  /** The transaction whose records are being kept as head samples. */
  private sampledTxn = -1;
  private window = 0;
  private windowStart = performance.timeOrigin + performance.now();
  /** While false (warm-up), rows are consumed and nothing is kept. */
  active = false;

  constructor(
    readonly connection: number,
    options: RecorderOptions = {},
  ) {
    this.sink = new RecordSink({
      sampleRatio: options.sampleRatio ?? DEFAULT_SAMPLE_RATIO,
      timeRatio: options.timeRatio ?? DEFAULT_TIME_RATIO,
      alwaysTimed: ALWAYS_TIMED,
      // Mid-operation (a buffer's worth of records in one operation): placed at the moment of the drain.
      onFull: () => {
        const now = performance.now();
        this.drain(now, now, false, false);
      },
    });
    const r = this.reg;
    this.ops = Object.fromEntries(
      OP_KINDS.map((k) => [
        k,
        {
          ok: r.counter(opKey.ok(k)),
          latency: r.histogram(opKey.latency(k), LATENCY_MAX_NS),
          service: r.histogram(opKey.service(k), LATENCY_MAX_NS),
          serviceSum: r.counter(opKey.serviceSum(k)),
          retries: r.counter(opKey.retries(k)),
          errors: new Map(),
          p999: 0,
          sinceP999: 0,
        } satisfies OpSlot,
      ]),
    ) as Record<OpKind, OpSlot>;
    this.droppedAnomalies = r.counter('samples.anomalies_dropped');
  }

  /**
   * One driver operation (a transaction, DDL, checkpoint or wait) from its
   * intended start, actual start and end (monotonic ms), then the rows it
   * produced.
   */
  op(kind: OpKind, intendedMs: number, startMs: number, endMs: number, error: string | null, retries: number): void {
    if (!this.active) {
      this.sink.consumed();
      return;
    }
    const s = this.ops[kind];
    const c = this.reg.counts;
    const latency = clamp((endMs - intendedMs) * 1e6, LATENCY_MAX_NS);
    let slow = false;
    if (error === null) {
      const service = clamp((endMs - startMs) * 1e6, LATENCY_MAX_NS);
      c[s.ok]!++;
      const h = this.reg.histograms[s.latency]!;
      h.record(latency);
      this.reg.histograms[s.service]!.record(service);
      c[s.serviceSum]! += service;
      slow = s.p999 > 0 && latency > s.p999;
      if (++s.sinceP999 >= P999_EVERY && h.total >= 1000) {
        s.p999 = h.valueAtPercentile(99.9);
        s.sinceP999 = 0;
      }
    } else {
      this.reg.counts[this.errorId(kind, s, error)]!++;
    }
    if (retries > 0) this.reg.counts[s.retries]! += retries;
    // A failed or slow operation is an anomaly: all its records are kept for spans.
    this.drain(startMs, endMs, error !== null, slow);
  }

  count(key: string, n = 1): void {
    this.reg.counts[this.reg.counter(key)]! += n;
  }

  /** A record that arrives as an object (another engine's, over its protocol): recorded with the next operation. */
  record(r: FieldRecord, startMs: number, endMs: number): void {
    writeRecord(this.sink, r, startMs, endMs);
  }

  /** Ends the window: everything recorded since the last flush, then reset. */
  flush(): WindowDelta {
    if (this.active) this.drain(0, 0, false, false);
    else this.sink.consumed();
    const end = performance.timeOrigin + performance.now();
    const counters = this.takeCounters();
    const delta: WindowDelta = {
      connection: this.connection,
      window: this.window++,
      start_ms: this.windowStart,
      end_ms: end,
      counters,
      histograms: this.reg.takeHistograms(counters),
      samples: this.samples,
    };
    this.samples = [];
    this.anomalies = 0;
    this.headSampled = 0;
    this.windowStart = end;
    return delta;
  }

  private takeCounters(): Record<string, number> {
    for (const p of this.planList) settle(p, this.reg.counts, this.raw.counts);
    return this.reg.takeCounters();
  }

  private errorId(kind: OpKind, s: OpSlot, error: string): number {
    let id = s.errors.get(error);
    if (id === undefined) {
      id = this.reg.counter(opKey.error(kind, error));
      s.errors.set(error, id);
    }
    return id;
  }

  /** Records the sink's rows; [t0, t1] are their operation's bounds (for spans of untimed rows). */
  private drain(t0: number, t1: number, failed: boolean, slowOp: boolean): void {
    const sink = this.sink;
    if (!this.active) {
      sink.consumed();
      return;
    }
    const rows = sink.rows;
    const end = sink.length * ROW.STRIDE;
    const reg = this.reg;
    const c = reg.counts;
    const raw = this.raw.counts;
    const hs = reg.histograms;
    for (let o = 0; o < end; o += ROW.STRIDE) {
      const word = rows[o + ROW.KIND]!;
      const kind = word & KIND_MASK;
      const plan = this.plans[kind] ?? this.newPlan(kind, o);
      c[plan.count]!++;
      let anomaly = failed || slowOp;
      if ((word & FLAG_TIMED) !== 0) {
        const d = clamp((rows[o + ROW.T1]! - rows[o + ROW.T0]!) * 1e6, LATENCY_MAX_NS);
        const h = hs[plan.duration]!;
        h.record(d);
        c[plan.durationSum]! += d;
        c[plan.durationCount]!++;
        if (d > plan.p999 && plan.p999 > 1) anomaly = true;
        if (++plan.sinceP999 >= P999_EVERY && h.total >= 1000) {
          plan.p999 = h.valueAtPercentile(99.9);
          plan.sinceP999 = 0;
        }
      }
      runSteps(plan, rows, o, c, raw, hs, reg);
      if (!anomaly) {
        anomaly =
          (plan.verdictCol >= 0 && rows[o + plan.verdictCol] === VERDICT.diverged) ||
          (plan.tornCol >= 0 && rows[o + plan.tornCol] === 1) ||
          (plan.notFoundCol >= 0 && rows[o + plan.notFoundCol] === 1);
      }
      if (anomaly) {
        if (this.anomalies++ < ANOMALY_SAMPLES) this.samples.push(decodeRow(sink, o, { fallbackT0: t0, fallbackT1: t1 }));
        else c[this.droppedAnomalies]!++;
      } else if ((word & FLAG_SAMPLED) !== 0) {
        // The bound is checked once per transaction, so a sampled transaction is kept whole.
        const txn = rows[o + ROW.TXN]!;
        if (txn === this.sampledTxn || this.headSampled < HEAD_SAMPLES) {
          this.sampledTxn = txn;
          this.headSampled++;
          this.samples.push(decodeRow(sink, o, { fallbackT0: t0, fallbackT1: t1 }));
        }
      }
    }
    sink.consumed();
  }

  private newPlan(kind: number, o: number): KindPlan {
    const plan = planOf(kind, this.reg, this.raw, this.sink.rows, o);
    this.plans[kind] = plan;
    this.planList.push(plan);
    return plan;
  }
}
