// The pool worker: one task = one connection of a group, for every arm (mode
// set) and every round of it. It connects to each arm's database, then runs
// the slices the main thread releases, one at a time: a slice is one arm's
// share of a round, a fixed number of operations of that arm's stream (every
// arm replays the same stream). Between slices the worker reports and waits;
// the main thread merges and evaluates only then, so nothing of the harness
// competes with a slice for the cores.

import { receiveMessageOnPort } from 'node:worker_threads';
import { connectEngine } from '../engines/connect.ts';
import type { EngineConnection, EngineHandle } from '../engines/connection.ts';
import { collectGarbage } from '../runtime/gc.ts';
import { Recorder } from '../record/recorder.ts';
import { opStream, type OpStream } from '../ops/stream.ts';
import { TraceWriter, traceStream } from '../ops/trace.ts';
import { SchedStat, schedDelta } from '../runtime/schedstat.ts';
import { Driver } from './driver.ts';
import { CMD_OPEN, CMD_STOP, SLICE, type GroupTask, type OpenMessage, type WorkerMessage } from './task.ts';
import { attemptErrorKey, opKey } from '../record/keys.ts';

/** How long a worker waits for its next slice before it concludes the main thread is gone. */
const IDLE_TIMEOUT_MS = 600_000;
/** An open-loop operation starting later than this after its intended time counts as a late start. */
const LATE_SLACK_MS = 1;

interface Arm {
  conn: EngineConnection;
  driver: Driver;
  recorder: Recorder;
  stream: OpStream;
}

export default async function runGroup(task: GroupTask): Promise<{ connection: number }> {
  // The previous group's databases and buffers are garbage by now: free them before this one starts.
  collectGarbage();
  const arms: Arm[] = [];
  const sched = new SchedStat();
  const trace =
    task.trace_out === null
      ? null
      : new TraceWriter(task.trace_out, {
          workload: task.spec.name,
          seed: task.seed,
          connection: task.connection,
          connections: task.connections,
        });
  const post = (m: WorkerMessage): void => task.port.postMessage(m);
  const stream = (): OpStream => (task.trace_in === null ? opStream(task.spec, task.seed, task.connection, task.connections) : traceStream(task.trace_in));
  /** Connects to every arm's database; a reopen keeps each arm's recorder (and, for a replay, its stream). */
  const connect = async (handles: EngineHandle[], keepStreams: boolean): Promise<void> => {
    const before = arms.splice(0);
    for (const a of before) a.conn.close();
    for (const [i, handle] of handles.entries()) {
      const recorder = before[i]?.recorder ?? new Recorder(task.connection, { sampleRatio: task.sample_ratio });
      const conn = await connectEngine(handle, task.connection, { rows: task.field_records ? recorder.sink : null, count: (key, n) => recorder.count(key, n) });
      arms.push({
        conn,
        recorder,
        driver: new Driver(conn, task.spec, task.connection, (code) => recorder.count(attemptErrorKey(code))),
        stream: keepStreams && before[i] !== undefined ? before[i]!.stream : stream(),
      });
    }
  };
  try {
    await connect(task.arms, false);
    // Reopens replace these databases: the task must not keep the first ones alive for the group's life.
    task.arms = [];
    const ctl = new Int32Array(task.control);
    const nap = new Int32Array(new SharedArrayBuffer(4));
    const rate = task.spec.load.mode === 'open' ? task.spec.load.rate_per_sec : 0;
    post({ type: 'ready', connection: task.connection });
    let seq = 0;
    for (;;) {
      if (Atomics.wait(ctl, SLICE.SEQ, seq, IDLE_TIMEOUT_MS) === 'timed-out') {
        throw new Error(`no slice from the main thread within ${IDLE_TIMEOUT_MS / 1000} s`);
      }
      seq = Atomics.load(ctl, SLICE.SEQ);
      if (ctl[SLICE.CMD] === CMD_STOP) break;
      if (ctl[SLICE.CMD] === CMD_OPEN) {
        const m = receiveMessageOnPort(task.port)?.message as OpenMessage | undefined;
        if (m?.type !== 'open') throw new Error('reopen: no databases arrived on the port');
        await connect(m.arms, m.keep_streams);
        // The previous databases are garbage now: free them before the next slice.
        collectGarbage();
        post({ type: 'ready', connection: task.connection });
        continue;
      }
      const armIndex = ctl[SLICE.ARM]!;
      const arm = arms[armIndex]!;
      const count = ctl[SLICE.OPS]! > 0 ? ctl[SLICE.OPS]! : Infinity;
      const measured = ctl[SLICE.MEASURED] === 1;
      const round = ctl[SLICE.ROUND]!;
      // A full collection before every measured slice: no incremental marking (whose write barriers slowed
      // whole slices by several percent) carries into it, and its own collections fall at the same points of
      // its work. Per-pair sd of A/A throughput, commutative-inserts memory c1: 0.10 with a young
      // collection only, 0.04 with a full one.
      if (measured) collectGarbage();
      arm.recorder.active = measured;
      const s0 = sched.read();
      const t0 = performance.now();
      const until = ctl[SLICE.DURATION_MS]! > 0 ? t0 + ctl[SLICE.DURATION_MS]! : Infinity;
      let n = 0;
      // The previous operation's end doubles as the clock reading of the bound.
      let last = t0;
      while (n < count && last < until) {
        let intended = 0;
        if (rate > 0) {
          intended = t0 + (n * 1000) / rate;
          const ahead = intended - performance.now();
          if (ahead > 0) Atomics.wait(nap, 0, 0, ahead);
          else if (-ahead > LATE_SLACK_MS && measured) arm.recorder.count(opKey.lateStarts);
        }
        const op = arm.stream.next();
        if (op === null) break;
        if (armIndex === 0) trace?.append(op);
        const start = performance.now();
        const outcome = arm.driver.execute(op);
        const end = performance.now();
        // Closed loop: an operation is due when it starts, so its latency is its service time.
        arm.recorder.op(op.kind, rate > 0 ? intended : start, start, end, outcome.error, outcome.retries);
        n++;
        last = end;
      }
      if (armIndex === 0) trace?.markSliceEnd();
      const wall = last - t0;
      const s1 = sched.read();
      const delta = arm.recorder.flush();
      arm.recorder.active = false;
      post({
        type: 'slice',
        seq,
        connection: task.connection,
        arm: armIndex,
        round,
        operations: n,
        wall_ms: wall,
        sched: schedDelta(s0, s1),
        delta: measured ? delta : null,
      });
    }
    return { connection: task.connection };
  } finally {
    trace?.close();
    sched.close();
    for (const a of arms) a.conn.close();
    arms.length = 0;
    // Once this task has returned, its databases are garbage here: an idle pool thread would keep them until its next task.
    setImmediate(collectGarbage);
  }
}
