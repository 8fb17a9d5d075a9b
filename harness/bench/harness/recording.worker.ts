// Worker thread of the harness bench: runs one scenario per task, the way the
// pool worker (harness/pool/worker.ts) drives a connection, and posts back
// what it measured. Loaded through harness/runtime/ts-worker.mjs.

import { parentPort } from 'node:worker_threads';
import { COL, kindOf, openDatabase, type RecordSink } from '../../../engine/index.ts';
import { Xorshift32 } from '../../shared/random.ts';
import { opStream, type Op } from '../../ops/stream.ts';
import { Driver, type OpOutcome } from '../../pool/driver.ts';
import { engineOptions } from '../../engines/fixture.ts';
import { Recorder, type WindowDelta } from '../../record/recorder.ts';
import type { WorkloadSpec } from '../../spec/schema.ts';
import { attemptErrorKey } from '../../record/keys.ts';

export type Scenario =
  | 'bare' // opStream + a no-op driver: the loop's own ceiling
  | 'record-op' // + the worker's per-op timing and recorder.op, windows flushed
  | 'record-full' // + N synthetic field rows per op written into the recorder's sink, as the engine writes them
  | 'engine-bare' // the real engine, memory backend, c1, no sink: the engine writes no field rows
  | 'engine-rows' // the engine writing its field rows into a sink that discards them: the engine's own cost of recording
  | 'engine-recorded' // the engine with the recorder and the worker's loop, as a pool worker runs it, no head sampling
  | 'engine-spans'; // the same with the default head sampling, windows posted to the main thread, which makes spans

export interface BenchTask {
  type: 'task';
  id: number;
  scenario: Scenario;
  spec: WorkloadSpec;
  /** Measured time; a short unmeasured warm-up precedes it. */
  ms: number;
  warmup_ms: number;
  window_ms: number;
  /** Synthetic field rows per op (record-full). */
  records_per_op: number;
  /** Head-sampling ratio of engine-spans (the run's default). */
  sample_ratio: number;
  /** Return the window deltas of the measured phase (for the main-thread merge measure). */
  keep_deltas: boolean;
}

export interface BenchResult {
  type: 'result';
  id: number;
  scenario: Scenario;
  ops: number;
  ns: number;
  field_records: number;
  /** Window flushes in the measured phase, the ns they took, and histograms they carried. */
  flushes: number;
  flush_ns: number;
  flushed_histograms: number;
  /** Full records (samples) the windows carried. */
  samples: number;
  deltas: WindowDelta[];
  /** Keeps the no-op driver's work observable. */
  sink: number;
  error: string | null;
}

/** Posted during an engine-spans task: a window for the main thread's span sink. */
export interface BenchWindow {
  type: 'window';
  delta: WindowDelta;
}

const OK: OpOutcome = { error: null, retries: 0 };

/** Stands in for the Driver: touches the op, runs nothing. */
class NoopDriver {
  sink = 0;
  execute(op: Op): OpOutcome {
    for (let i = 0; i < op.keys.length; i++) this.sink = (this.sink + op.keys[i]! * 31 + op.deltas[i]!) | 0;
    return OK;
  }
}

const M11_BEGIN = kindOf('M11', 'begin');
const M6_READ = kindOf('M6', 'read');
const M2_BIND = kindOf('M2', 'bind');
const M12_PARSE_HIT = kindOf('M12', 'parse_hit');
const M12_COMPILE_HIT = kindOf('M12', 'compile_hit');
const M10_REUSE = kindOf('M10', 'reuse');
const M4_REUSE = kindOf('M4', 'reuse');
const M1_READ = kindOf('M1', 'read');

/**
 * The rows a read or write transaction produces, written the way the engine
 * writes them (column by column into the sink, start times only where the
 * sink times the transaction), with values that vary like real ones.
 */
function syntheticRows(sink: RecordSink, rng: Xorshift32, n: number): void {
  sink.beginTransaction(rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32());
  for (let i = 0; i < n; i++) {
    const r = sink.rows;
    switch (i % 8) {
      case 0: {
        const o = sink.open(M11_BEGIN, sink.start());
        const c = COL.M11;
        r[o + c.session_id] = 7;
        r[o + c.shard_id] = 3;
        r[o + c.lock_wait_ns] = rng.nextU32() % 2000;
        r[o + c.active_sessions_in_shard] = 1 + (rng.nextU32() % 4);
        r[o + c.control_mode] = 0;
        r[o + c.shadow_verdict] = 0;
        r[o + c.session_not_found] = 0;
        break;
      }
      case 1: {
        const o = sink.open(M6_READ, sink.start());
        const c = COL.M6;
        r[o + c.snapshot_generation] = 9;
        r[o + c.visible_commit_seq] = 9;
        r[o + c.db_size] = 1025;
        r[o + c.freelist_count] = 0;
        r[o + c.alloc_ns] = 0;
        r[o + c.snapshot_age_commits] = rng.nextU32() % 3;
        r[o + c.control_mode] = 0;
        r[o + c.shadow_verdict] = 0;
        break;
      }
      case 2: {
        const o = sink.open(M2_BIND, sink.start());
        const c = COL.M2;
        r[o + c.visible_commit_seq] = 9;
        r[o + c.read_retry_count] = 0;
        r[o + c.statement_id] = i;
        r[o + c.is_memory] = 1;
        break;
      }
      case 3:
      case 4: {
        const o = sink.open(i % 8 === 3 ? M12_PARSE_HIT : M12_COMPILE_HIT, sink.start());
        const c = COL.M12;
        r[o + c.schema_cookie] = 1;
        r[o + c.schema_generation] = 1;
        r[o + c.cache_size] = 2;
        r[o + c.lane_id] = 0;
        break;
      }
      case 5: {
        const o = sink.open(M10_REUSE, sink.start());
        const c = COL.M10;
        r[o + c.schema_generation] = 1;
        r[o + c.cache_hit] = 1;
        r[o + c.reset_ns] = 100 + (rng.nextU32() % 400);
        break;
      }
      case 6: {
        const o = sink.open(M4_REUSE, sink.start());
        const c = COL.M4;
        r[o + c.cookie_match] = 1;
        r[o + c.snapshot_age_statements] = rng.nextU32() % 8;
        r[o + c.cache_hit] = 1;
        break;
      }
      default: {
        const o = sink.open(M1_READ, sink.start());
        const c = COL.M1;
        r[o + c.sequence_value] = 9;
        r[o + c.read_retry_count] = 0;
        r[o + c.poll_spins] = 0;
        r[o + c.wait_ns] = 0;
        r[o + c.control_mode] = 0;
        r[o + c.shadow_verdict] = 0;
        r[o + c.torn] = 0;
      }
    }
    sink.done();
  }
}

/** A memory database at the fixture's state (rows with the initial balance). */
function memoryDatabase(spec: WorkloadSpec): ReturnType<typeof openDatabase> {
  const db = openDatabase({ ...engineOptions(spec), backend: 'memory', path: null, maxConnections: 2 });
  const c = db.connect();
  for (let first = 1; first <= spec.fixture.rows; first += 256) {
    c.begin('write');
    for (let p = first; p < Math.min(first + 256, spec.fixture.rows + 1); p++) c.exec('UPDATE ? SET balance = ?', [p, spec.fixture.initial_balance]);
    c.commit();
  }
  c.close();
  return db;
}

async function run(task: BenchTask): Promise<BenchResult> {
  const s = task.scenario;
  const recording = s === 'record-op' || s === 'record-full' || s === 'engine-recorded' || s === 'engine-spans';
  const records = s === 'record-full' ? task.records_per_op : 0;
  const recorder = new Recorder(0, { sampleRatio: s === 'engine-spans' ? task.sample_ratio : 0 });
  const noop = new NoopDriver();
  const db = s.startsWith('engine') ? memoryDatabase(task.spec) : null;
  let engineRecords = 0;
  // engine-rows: the engine writes into a sink whose rows are counted and dropped at every op.
  const discard = new Recorder(0, { sampleRatio: 0 }).sink;
  const sink = s === 'engine-rows' ? discard : s === 'engine-recorded' || s === 'engine-spans' ? recorder.sink : null;
  const conn = db?.connect({ sink }) ?? null;
  const driver = conn === null ? null : new Driver(conn, task.spec, 0, (code) => recorder.count(attemptErrorKey(code)));
  const stream = opStream(task.spec, 1, 0, 1);
  const rng = new Xorshift32(99);
  const result: BenchResult = {
    type: 'result',
    id: task.id,
    scenario: s,
    ops: 0,
    ns: 0,
    field_records: 0,
    flushes: 0,
    flush_ns: 0,
    flushed_histograms: 0,
    samples: 0,
    deltas: [],
    sink: 0,
    error: null,
  };

  const phase = (ms: number, measured: boolean): void => {
    const t0 = performance.now();
    const until = t0 + ms;
    let windowStart = t0;
    let n = 0;
    let fieldRecords = 0;
    engineRecords = 0;
    if (!recording) {
      // The bare loop: the stream, the driver, the time bound (checked every 64 ops).
      for (;;) {
        if ((n & 63) === 0 && performance.now() >= until) break;
        const op = stream.next();
        if (op === null) break;
        if (driver !== null) driver.execute(op);
        else noop.execute(op);
        if (sink !== null) {
          engineRecords += sink.length;
          sink.consumed();
        }
        n++;
      }
    } else {
      // The pool worker's loop (closed load): timing, recorder.op, windows.
      let last = t0;
      while (last < until) {
        const op = stream.next();
        if (op === null) break;
        const start = performance.now();
        const outcome = driver !== null ? driver.execute(op) : noop.execute(op);
        if (records > 0) {
          syntheticRows(recorder.sink, rng, records);
          fieldRecords += records;
        }
        const end = performance.now();
        engineRecords += sink === null ? 0 : sink.length;
        recorder.op(op.kind, start, start, end, outcome.error, outcome.retries);
        n++;
        last = end;
        if (end - windowStart >= task.window_ms) {
          const f0 = performance.now();
          const delta = recorder.flush();
          if (s === 'engine-spans') parentPort!.postMessage({ type: 'window', delta } satisfies BenchWindow);
          const f1 = performance.now();
          if (measured) {
            result.flushes++;
            result.flush_ns += (f1 - f0) * 1e6;
            result.flushed_histograms += Object.keys(delta.histograms).length;
            result.samples += delta.samples.length;
            if (task.keep_deltas) result.deltas.push(delta);
          }
          windowStart = f1;
          last = f1;
        }
      }
    }
    if (measured) {
      result.ns = (performance.now() - t0) * 1e6;
      result.ops = n;
      result.field_records = fieldRecords + engineRecords;
    }
  };

  try {
    recorder.active = false;
    phase(task.warmup_ms, false);
    recorder.flush();
    recorder.active = recording;
    phase(task.ms, true);
    recorder.active = false;
  } catch (err) {
    result.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } finally {
    conn?.close();
  }
  result.sink = noop.sink;
  return result;
}

parentPort!.on('message', (task: BenchTask) => {
  void run(task).then((r) => parentPort!.postMessage(r));
});
