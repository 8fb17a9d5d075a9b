// Worker thread of the harness bench: runs one scenario per task, the way the
// pool worker (harness/pool/worker.ts) drives a connection, and posts back
// what it measured. Loaded through harness/runtime/ts-worker.mjs.

import { parentPort } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { openDatabase, type FieldRecord } from '../../engine/index.ts';
import { Xorshift32 } from '../../engine/shared/random.ts';
import { opStream, type Op } from '../ops/stream.ts';
import { Driver, type OpOutcome } from '../pool/driver.ts';
import { engineOptions } from '../run/fixture.ts';
import { Recorder, type WindowDelta } from '../record/recorder.ts';
import type { WorkloadSpec } from '../spec/schema.ts';

export type Scenario =
  | 'bare' // opStream + a no-op driver: the loop's own ceiling
  | 'record-op' // + the worker's per-op timing and recorder.op, windows flushed
  | 'record-full' // + 8 synthetic field records per op through recorder.onRecord (WebAssembly HDR when available)
  | 'record-full-js' // the same with JavaScript HDR histograms (the fallback when WebAssembly fails)
  | 'engine-bare' // the real engine, memory backend, c1, no hook: the engine builds no field records
  | 'engine-hook-noop' // the engine with a hook that only counts: the engine's own cost of building records
  | 'engine-recorded'; // the engine with the recorder hooked in and the worker's loop, as a pool worker runs it

export interface BenchTask {
  type: 'task';
  id: number;
  scenario: Scenario;
  spec: WorkloadSpec;
  /** Measured time; a short unmeasured warm-up precedes it. */
  ms: number;
  warmup_ms: number;
  window_ms: number;
  /** Synthetic field records per op (record-full*). */
  records_per_op: number;
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
  /** Window flushes in the measured phase, the ns they took, and histograms encoded. */
  flushes: number;
  flush_ns: number;
  flushed_histograms: number;
  wasm: boolean;
  deltas: WindowDelta[];
  /** Keeps the no-op driver's work observable. */
  sink: number;
  error: string | null;
}

let wasm: boolean | null = null;
async function wasmAvailable(): Promise<boolean> {
  if (wasm === null) wasm = await hdr.initWebAssembly().then(() => true, () => false);
  return wasm;
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

const epochNs = (): number => (performance.timeOrigin + performance.now()) * 1e6;

/**
 * The field records a read or write transaction produces (what the engine's
 * hook receives), freshly built per op like the engine builds them.
 */
function syntheticRecords(rng: Xorshift32, n: number, out: FieldRecord[]): void {
  out.length = 0;
  const t = epochNs();
  const d = (): number => 50 + (rng.nextU32() % 5000);
  const makers: (() => FieldRecord)[] = [
    () => ({ metadata_class: 'M11', trace_id: 'bench', start_ns: t, end_ns: t + d(), operation: 'begin', session_id: 7, shard_id: 3, lock_wait_ns: rng.nextU32() % 2000, active_sessions_in_shard: 1 + (rng.nextU32() % 4), control_mode: 'legacy', shadow_verdict: 'none' }),
    () => ({ metadata_class: 'M6', trace_id: 'bench', start_ns: t, end_ns: t + d(), operation: 'read', snapshot_generation: 9, visible_commit_seq: 9, db_size: 1025, freelist_count: 0, alloc_ns: 0, snapshot_age_commits: rng.nextU32() % 3, control_mode: 'legacy', shadow_verdict: 'none' }),
    () => ({ metadata_class: 'M2', trace_id: 'bench', start_ns: t, end_ns: t + d(), operation: 'bind', visible_commit_seq: 9, read_retry_count: 0, statement_id: 1, is_memory: true }),
    () => ({ metadata_class: 'M12', trace_id: 'bench', start_ns: t, end_ns: t + d(), operation: 'parse_hit', schema_cookie: 1, schema_generation: 1, cache_size: 2, lane_id: 0 }),
    () => ({ metadata_class: 'M12', trace_id: 'bench', start_ns: t, end_ns: t + d(), operation: 'compile_hit', schema_cookie: 1, schema_generation: 1, cache_size: 2, lane_id: 0 }),
    () => ({ metadata_class: 'M10', trace_id: 'bench', start_ns: t, end_ns: t + d(), operation: 'reuse', schema_generation: 1, cache_hit: true, reset_ns: 100 + (rng.nextU32() % 400) }),
    () => ({ metadata_class: 'M4', trace_id: 'bench', start_ns: t, end_ns: t + d(), operation: 'reuse', cookie_match: true, snapshot_age_statements: rng.nextU32() % 8, cache_hit: true }),
    () => ({ metadata_class: 'M1', trace_id: 'bench', start_ns: t, end_ns: t + d(), operation: 'read', sequence_value: 9, read_retry_count: 0, poll_spins: 0, wait_ns: 0, control_mode: 'legacy', shadow_verdict: 'none' }),
  ];
  for (let i = 0; i < n; i++) out.push(makers[i % makers.length]!());
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
  const useWasm = s !== 'record-full-js' && (await wasmAvailable());
  const recorder = new Recorder(0, useWasm);
  const recording = s !== 'bare' && s !== 'engine-bare' && s !== 'engine-hook-noop';
  const records = s === 'record-full' || s === 'record-full-js' ? task.records_per_op : 0;
  const noop = new NoopDriver();
  const db = s.startsWith('engine') ? memoryDatabase(task.spec) : null;
  let engineRecords = 0;
  const hook = s === 'engine-recorded'
    ? (r: FieldRecord): void => { engineRecords++; recorder.onRecord(r); }
    : (): void => { engineRecords++; };
  const conn = db?.connect(s === 'engine-bare' ? {} : { hook }) ?? null;
  const driver = conn === null ? null : new Driver(conn, task.spec, 0, (code) => recorder.count(`errors.${code}`));
  const stream = opStream(task.spec, 1, 0, 1);
  const rng = new Xorshift32(99);
  const recs: FieldRecord[] = [];
  const result: BenchResult = {
    type: 'result', id: task.id, scenario: s, ops: 0, ns: 0, field_records: 0, flushes: 0, flush_ns: 0, flushed_histograms: 0,
    wasm: useWasm && recording, deltas: [], sink: 0, error: null,
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
        n++;
      }
    } else {
      // The pool worker's loop (closed load): timing, recorder.op, windows.
      while (performance.now() < until) {
        const intended = performance.now();
        const op = stream.next();
        if (op === null) break;
        const start = performance.now();
        const outcome = driver !== null ? driver.execute(op) : noop.execute(op);
        if (records > 0) {
          syntheticRecords(rng, records, recs);
          for (const r of recs) recorder.onRecord(r);
          fieldRecords += records;
        }
        const end = performance.now();
        recorder.op(op.kind, (end - intended) * 1e6, (end - start) * 1e6, outcome.error, outcome.retries);
        n++;
        if (end - windowStart >= task.window_ms) {
          const f0 = performance.now();
          const delta = recorder.flush();
          const f1 = performance.now();
          if (measured) {
            result.flushes++;
            result.flush_ns += (f1 - f0) * 1e6;
            result.flushed_histograms += Object.keys(delta.histograms).length;
            if (task.keep_deltas) result.deltas.push(delta);
          }
          windowStart = f1;
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
    recorder.destroy();
  }
  result.sink = noop.sink;
  return result;
}

parentPort!.on('message', (task: BenchTask) => {
  void run(task).then((r) => parentPort!.postMessage(r));
});
