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
import { Yardstick, YARDSTICK_READINGS } from '../runtime/yardstick.ts';
import { Driver } from './driver.ts';
import {
  CMD_OPEN,
  CMD_ROUND,
  CMD_STOP,
  nextCommand,
  releaseClock,
  SLICE,
  SLICE_TIMEOUT_MS,
  type GroupTask,
  type OpenMessage,
  type WorkerMessage,
} from './task.ts';
import { abortRound, arrive, chunkOps, chunkSequence } from './chunks.ts';
import { medianInPlace } from '../shared/select.ts';
import { busiestKindOf, mixAt } from '../spec/mix.ts';
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
  const rate = task.spec.load.mode === 'open' ? task.spec.load.rate_per_sec : 0;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const busiest = busiestKindOf(mixAt(task.spec.mix, task.connections));
  /** Latencies of the busiest kind in the current chunk (ns), for its median; grown as chunks ask. */
  let lat = new Float64Array(1024);
  /**
   * Up to `count` operations of arm `armIndex` from `t0`, until `until` (ms). With `keep`, the busiest kind's
   * latencies go into `lat`. Returns the operations run, the last one's end (the clock reading of the bound)
   * and how many latencies were kept.
   */
  const runOps = (armIndex: number, count: number, t0: number, until: number, measured: boolean, keep: boolean): { n: number; last: number; kept: number } => {
    const arm = arms[armIndex]!;
    let n = 0;
    let kept = 0;
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
      const due = rate > 0 ? intended : start;
      arm.recorder.op(op.kind, due, start, end, outcome.error, outcome.retries);
      if (keep && op.kind === busiest && outcome.error === null) lat[kept++] = (end - due) * 1e6;
      n++;
      last = end;
    }
    return { n, last, kept };
  };
  /**
   * An interleaved round (CMD_ROUND): the arms take turns chunk by chunk, every connection on the same arm at
   * once (a barrier between chunks), so each chunk of one arm has a chunk of every other beside it, a few
   * milliseconds away: what drifts between them (the machine's speed changed by up to 1.7x within a second
   * here) falls on both. One report per arm, with each chunk's wall time and median latency.
   */
  const release = releaseClock(task.control);
  const yardstick = new Yardstick();
  const runRound = (ctl: Int32Array, seq: number): void => {
    const order = Array.from({ length: ctl[SLICE.ARMS]! }, (_, i) => ctl[SLICE.ORDER + i]!);
    const chunks = ctl[SLICE.CHUNKS]!;
    const ops = ctl[SLICE.OPS]!;
    const measured = ctl[SLICE.MEASURED] === 1;
    if (lat.length < chunkOps(ops, chunks, 0) + 1) lat = new Float64Array(chunkOps(ops, chunks, 0) + 1);
    const books = order.map(() => ({ n: 0, wall: 0, cpu: 0, runq: 0, sched: true, wall_ms: [] as number[], p50_ns: [] as number[] }));
    const bookOf = new Map(order.map((a, i) => [a, books[i]!]));
    // One full collection for the whole round (see the single slice below); the arms' own collections then fall
    // among their interleaved chunks alike.
    if (measured) collectGarbage();
    for (const a of order) arms[a]!.recorder.active = measured;
    const yards: number[] = [];
    // With several connections each reading costs a barrier (~1 ms on 2 busy cores): YARDSTICK_READINGS a round.
    const yardstickStride = task.connections === 1 ? 1 : Math.ceil(chunks / YARDSTICK_READINGS);
    try {
      for (const [a, j] of chunkSequence(order, chunks)) {
        // Before a turn of the arms, the machine's speed: connection 0 times the yardstick while the others wait at
        // the next barrier, so it runs alone, outside every chunk's time. Warm-up rounds warm it up.
        if (task.read_yardstick && a === order[0] && j % yardstickStride === 0) {
          arrive(ctl, release, task.connections, SLICE_TIMEOUT_MS);
          if (task.connection === 0) {
            const ns = yardstick.time();
            if (measured) yards.push(ns);
          }
        }
        // The chunk's wall time runs from the barrier's release: a connection the scheduler starts late still waited.
        const started = arrive(ctl, release, task.connections, SLICE_TIMEOUT_MS);
        const b = bookOf.get(a)!;
        const s0 = sched.read();
        const t0 = performance.now();
        const ran = runOps(a, chunkOps(ops, chunks, j), t0, Infinity, measured, true);
        const wall = ran.last - t0 + (t0 + performance.timeOrigin - started);
        const s1 = sched.read();
        const d = schedDelta(s0, s1);
        b.n += ran.n;
        b.wall += wall;
        b.wall_ms.push(Math.round(wall * 1e4) / 1e4);
        b.p50_ns.push(ran.kept > 0 ? medianInPlace(lat, ran.kept) : 0);
        if (d === null) b.sched = false;
        else {
          b.cpu += d.cpu_ns;
          b.runq += d.runq_ns;
        }
      }
    } catch (err) {
      abortRound(ctl);
      throw err;
    }
    if (order.includes(0)) trace?.markSliceEnd();
    order.forEach((a, i) => {
      const b = books[i]!;
      const delta = arms[a]!.recorder.flush();
      arms[a]!.recorder.active = false;
      post({
        type: 'slice',
        seq,
        connection: task.connection,
        arm: a,
        round: ctl[SLICE.ROUND]!,
        operations: b.n,
        wall_ms: b.wall,
        sched: b.sched ? { cpu_ns: b.cpu, runq_ns: b.runq } : null,
        delta: measured ? delta : null,
        chunks: { wall_ms: b.wall_ms, p50_ns: b.p50_ns },
        yardstick_ns: yards.length === 0 ? null : Math.round(medianInPlace(Float64Array.from(yards), yards.length)),
      });
    });
  };
  try {
    await connect(task.arms, false);
    // Reopens replace these databases: the task must not keep the first ones alive for the group's life.
    task.arms = [];
    const ctl = new Int32Array(task.control);
    post({ type: 'ready', connection: task.connection });
    let seq = 0;
    let reopens = 0;
    for (;;) {
      const next = nextCommand(ctl, seq, IDLE_TIMEOUT_MS);
      if (next === null) throw new Error(`no slice from the main thread within ${IDLE_TIMEOUT_MS / 1000} s`);
      seq = next;
      if (ctl[SLICE.CMD] === CMD_STOP) break;
      if (ctl[SLICE.CMD] === CMD_OPEN) {
        const m = receiveMessageOnPort(task.port)?.message as OpenMessage | undefined;
        // The counts tell a message lost on the way from a command read twice (see nextCommand).
        if (m?.type !== 'open') throw new Error(`reopen: no databases arrived on the port (command ${seq}, after ${reopens} reopen(s) received)`);
        reopens++;
        // The previous databases are garbage now; the full collection before the next measured slice frees them.
        await connect(m.arms, m.keep_streams);
        post({ type: 'ready', connection: task.connection });
        continue;
      }
      if (ctl[SLICE.CMD] === CMD_ROUND) {
        runRound(ctl, seq);
        continue;
      }
      const armIndex = ctl[SLICE.ARM]!;
      const arm = arms[armIndex]!;
      const count = ctl[SLICE.OPS]! > 0 ? ctl[SLICE.OPS]! : Infinity;
      const measured = ctl[SLICE.MEASURED] === 1;
      // A full collection before every measured slice: no incremental marking (whose write barriers slowed
      // whole slices by several percent) carries into it, and its own collections fall at the same points of
      // its work. Per-pair sd of A/A throughput, commutative-inserts memory c1: 0.10 with a young
      // collection only, 0.04 with a full one.
      if (measured) collectGarbage();
      arm.recorder.active = measured;
      const s0 = sched.read();
      const t0 = performance.now();
      const until = ctl[SLICE.DURATION_MS]! > 0 ? t0 + ctl[SLICE.DURATION_MS]! : Infinity;
      const ran = runOps(armIndex, count, t0, until, measured, false);
      if (armIndex === 0) trace?.markSliceEnd();
      const s1 = sched.read();
      const delta = arm.recorder.flush();
      arm.recorder.active = false;
      post({
        type: 'slice',
        seq,
        connection: task.connection,
        arm: armIndex,
        round: ctl[SLICE.ROUND]!,
        operations: ran.n,
        wall_ms: ran.last - t0,
        sched: schedDelta(s0, s1),
        delta: measured ? delta : null,
        chunks: null,
        yardstick_ns: null,
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
