// Where a connection writes its field records: a preallocated buffer of
// numeric rows (see columns.ts), so recording allocates nothing. The engine
// fills a row per record and calls `done()`; when the buffer is full, or
// whenever the listener chooses, the listener reads the rows and calls
// `consumed()`. Nothing here knows about histograms, spans or metrics.

import { nowMs } from '../shared/clock.ts';
import { FLAG_AUX, FLAG_SAMPLED, FLAG_TIMED, ROW } from './columns.ts';

export interface RecordSinkOptions {
  /** Rows buffered before `onFull` runs (default 1024). */
  capacity?: number;
  /** Fraction of transactions head-sampled (full records, spans), decided by trace id (default 0). */
  sampleRatio?: number;
  /** Fraction of transactions whose records are timed (start and end), decided by trace id (default 1). */
  timeRatio?: number;
  /** Classes (a bit per CLASS_INDEX) whose records are timed in every transaction. */
  alwaysTimed?: number;
  /** Called with the sink when its buffer is full: read rows [0, length), then `consumed()`. */
  onFull: (sink: RecordSink) => void;
}

const U32 = 4294967296;
/** Trace ids of the last transactions, which rows name by serial: more than one buffer's rows can span. */
const TRACE_RING = 2048;

export class RecordSink {
  readonly rows: Float64Array;
  readonly capacity: number;
  /** Rows written and not yet consumed. */
  length = 0;
  /** Objects rows refer to through ROW.AUX (rare: a diverged comparison's field diffs). */
  readonly attached: unknown[] = [];
  private readonly traces = new Uint32Array(TRACE_RING * 4);
  /** Serial of the current transaction (rows store it; its trace id is in `traces`). */
  private serial = 0;
  /** Serial of the transaction of the oldest unconsumed row. */
  private oldest = 0;
  private readonly onFull: (sink: RecordSink) => void;
  private readonly sampleBelow: number;
  private readonly timeBelow: number;
  private readonly alwaysTimed: number;
  /** What was decided for the current transaction at begin: sampled, and whether its records are timed. */
  private flags = 0;
  timed: boolean;
  /** Kinds written at least once: a kind's first row starts with every column missing (NaN). */
  private readonly seen = new Uint8Array(128);

  constructor(o: RecordSinkOptions) {
    this.capacity = o.capacity ?? 1024;
    this.rows = new Float64Array(this.capacity * ROW.STRIDE);
    this.onFull = o.onFull;
    this.sampleBelow = clamp01(o.sampleRatio ?? 0) * U32;
    this.timeBelow = clamp01(o.timeRatio ?? 1) * U32;
    this.timed = this.timeBelow >= U32;
    this.alwaysTimed = o.alwaysTimed ?? 0;
  }

  /**
   * A transaction begins with this trace id (four random words). Head
   * sampling and timing are decided here, once, from words the shadow
   * sampling does not use (it keys on w0), so the three choices are independent.
   */
  beginTransaction(w0: number, w1: number, w2: number, w3: number): void {
    // Unconsumed rows must still find their trace id: consume them before the ring wraps onto theirs.
    if (this.length > 0 && this.serial + 1 - this.oldest >= TRACE_RING) this.onFull(this);
    const s = ++this.serial;
    const t = (s & (TRACE_RING - 1)) * 4;
    this.traces[t] = w0;
    this.traces[t + 1] = w1;
    this.traces[t + 2] = w2;
    this.traces[t + 3] = w3;
    const sampled = w1 < this.sampleBelow;
    this.flags = sampled ? FLAG_SAMPLED : 0;
    this.timed = sampled || w2 < this.timeBelow;
  }

  /**
   * The start time of a record: now when the transaction is timed, or the
   * record's class (`classIndex`) always is; else 0 (no clock read).
   */
  start(classIndex = -1): number {
    return this.timed || (classIndex >= 0 && ((this.alwaysTimed >> classIndex) & 1) === 1) ? nowMs() : 0;
  }

  /**
   * Opens a row of `kind` that started at `t0` (from `start`; 0: untimed) and
   * ends now, or at `t1` when the caller already read the clock; returns its
   * offset. Fill its columns, then `done()`.
   */
  open(kind: number, t0: number, t1?: number): number {
    const o = this.length * ROW.STRIDE;
    const r = this.rows;
    if (this.seen[kind] === 0) {
      // So a column the engine forgets to write reads as missing, never as another row's value.
      this.seen[kind] = 1;
      r.fill(NaN, o + ROW.FIELDS, o + ROW.STRIDE);
    }
    if (this.length === 0) this.oldest = this.serial;
    r[o + ROW.TXN] = this.serial;
    if (t0 === 0) {
      r[o] = kind | this.flags;
    } else {
      r[o] = kind | this.flags | FLAG_TIMED;
      r[o + ROW.T0] = t0;
      r[o + ROW.T1] = t1 ?? nowMs();
    }
    return o;
  }

  /** Attaches an object to the open row at `o` (read back by the listener). */
  attach(o: number, value: unknown): void {
    const r = this.rows;
    r[o] = r[o]! | FLAG_AUX;
    r[o + ROW.AUX] = this.attached.push(value) - 1;
  }

  done(): void {
    if (++this.length === this.capacity) this.onFull(this);
  }

  /** Marks rows [0, length) consumed. */
  consumed(): void {
    this.length = 0;
    if (this.attached.length > 0) this.attached.length = 0;
  }

  /** The trace id words of the transaction a row names (valid until its rows are consumed). */
  traceWord(txn: number, i: number): number {
    return this.traces[(txn & (TRACE_RING - 1)) * 4 + i]!;
  }
}

function clamp01(x: number): number {
  return x > 1 ? 1 : x > 0 ? x : 0;
}
