// The pool worker: one task = one connection for one round. It waits at the
// barrier so all connections start together, runs the warm-up unrecorded,
// then the measured phase, streaming a window delta every `window_ms`.

import { connectEngine } from '../engines/connect.ts';
import { collectGarbage } from '../runtime/gc.ts';
import { Recorder } from '../record/recorder.ts';
import { opStream, type OpStream } from '../ops/stream.ts';
import { TraceWriter, traceStream } from '../ops/trace.ts';
import type { AmountSpec } from '../spec/schema.ts';
import { Driver } from './driver.ts';
import type { ConnectionResult, ConnectionTask, WorkerMessage } from './task.ts';

const BARRIER_TIMEOUT_MS = 60_000;
/** An open-loop operation starting later than this after its intended time counts as a late start. */
const LATE_SLACK_MS = 1;

function awaitBarrier(barrier: Int32Array, connections: number): void {
  if (Atomics.add(barrier, 0, 1) + 1 === connections) {
    Atomics.store(barrier, 1, 1);
    Atomics.notify(barrier, 1);
    return;
  }
  if (Atomics.wait(barrier, 1, 0, BARRIER_TIMEOUT_MS) === 'timed-out') {
    throw new Error(`start barrier: only ${Atomics.load(barrier, 0)} of ${connections} connections arrived within ${BARRIER_TIMEOUT_MS} ms`);
  }
}

export default async function runConnection(task: ConnectionTask): Promise<ConnectionResult> {
  // The previous round's database and buffers are garbage by now: free them before this round starts.
  collectGarbage();
  const recorder = new Recorder(task.connection, { sampleRatio: task.sample_ratio });
  const conn = await connectEngine(task.engine, task.connection, { rows: task.field_records ? recorder.sink : null, count: (key, n) => recorder.count(key, n) });
  const driver = new Driver(conn, task.spec, task.connection, (code) => recorder.count(`errors.${code}`));
  const replay = task.trace_in === null ? null : traceStream(task.trace_in);
  const stream: OpStream = replay ?? opStream(task.spec, task.seed, task.connection, task.connections);
  const trace = task.trace_out === null ? null : new TraceWriter(task.trace_out, {
    workload: task.spec.name, seed: task.seed, connection: task.connection, connections: task.connections,
  });
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const rate = task.spec.load.mode === 'open' ? task.spec.load.rate_per_sec : 0;
  const post = (m: WorkerMessage): void => task.port.postMessage(m);

  /** Runs ops until the amount is spent; returns the number run. */
  const phase = (amount: AmountSpec, measured: boolean): number => {
    const t0 = performance.now();
    const until = amount.duration_ms === undefined ? Infinity : t0 + amount.duration_ms;
    const count = amount.operations ?? Infinity;
    let windowStart = t0;
    let n = 0;
    // The previous operation's end doubles as the clock reading of the loop's bound.
    let last = t0;
    // A replay runs each phase to its recorded end, whatever the amounts say.
    while (replay !== null || (n < count && last < until)) {
      let intended = 0;
      if (rate > 0) {
        intended = t0 + (n * 1000) / rate;
        const ahead = intended - performance.now();
        if (ahead > 0) Atomics.wait(nap, 0, 0, ahead);
        else if (-ahead > LATE_SLACK_MS && measured) recorder.count('op.late_starts');
      }
      const op = stream.next();
      if (op === null) break;
      trace?.append(op);
      const start = performance.now();
      const outcome = driver.execute(op);
      const end = performance.now();
      // Closed loop: an operation is intended the moment the previous one ends, so its latency is its service time.
      recorder.op(op.kind, rate > 0 ? intended : start, start, end, outcome.error, outcome.retries);
      n++;
      last = end;
      if (measured && end - windowStart >= task.window_ms) {
        post({ type: 'window', delta: recorder.flush() });
        windowStart = end;
      }
    }
    return n;
  };

  try {
    awaitBarrier(new Int32Array(task.barrier), task.connections);
    if (task.warmup !== null || replay !== null) phase(task.warmup ?? { operations: 0 }, false);
    trace?.markMeasured();
    recorder.flush(); // drop anything from before the measured phase
    recorder.active = true;
    const m0 = performance.now();
    const operations = phase(task.run, true);
    const measured_ms = performance.now() - m0;
    const final = recorder.flush();
    recorder.active = false;
    return { connection: task.connection, operations, measured_ms, final };
  } finally {
    trace?.close();
    conn.close();
  }
}

