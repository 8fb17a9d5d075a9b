// The messages between the runner and a pool worker. One task drives one
// connection of a group (the cells that differ only in their mode set, the
// arms) for the group's whole life: the worker connects to every arm's
// database, then runs the slices the main thread releases one at a time
// through shared control words. A worker thread runs one task at a time, so
// one thread is one connection.

import type { MessagePort } from 'node:worker_threads';
import type { EngineHandle } from '../engines/connection.ts';
import type { WorkloadSpec } from '../spec/schema.ts';
import type { WindowDelta } from '../record/recorder.ts';
import type { SchedSample } from '../runtime/schedstat.ts';

export interface GroupTask {
  /** Each arm's cell database, for whichever engine variant runs the group. */
  arms: EngineHandle[];
  spec: WorkloadSpec;
  seed: number;
  connection: number;
  connections: number;
  /** Int32 words (see SLICE): the slice the main thread released and what it asks. */
  control: SharedArrayBuffer;
  /** Slice reports are posted here; OpenMessages arrive here. */
  port: MessagePort;
  /** Record the operation stream (every arm runs the same one) to this trace file. */
  trace_out: string | null;
  /** Replay this connection's operations from a trace file instead of generating them (each arm from its start). */
  trace_in: string | null;
  /** Head-sampling ratio of field records (anomalies are always sampled). */
  sample_ratio: number;
  /** False runs the engine with no field-record sink (operation timings only): telemetry off, for measuring its cost. */
  field_records: boolean;
  /** Time the yardstick's unit between the chunks (false: a twin arm gives the machine's speed, run/twin.ts). */
  read_yardstick: boolean;
}

/** A command that takes this much longer than its slice is stuck (a connection died holding an engine lock). */
export const SLICE_TIMEOUT_MS = 120_000;

/** The control words. The main thread writes a slice's words, then bumps SEQ and notifies. */
export const SLICE = {
  SEQ: 0,
  /** RUN, ROUND, OPEN or STOP. */
  CMD: 1,
  /** RUN: the arm. */
  ARM: 2,
  /** Operations per connection (0: no count bound); ROUND: per arm, in CHUNKS chunks. */
  OPS: 3,
  /** Time bound in ms (0: none); a slice ends at whichever bound comes first. */
  DURATION_MS: 4,
  /** 1: record the slice (a measured round); 0: warm-up, nothing kept. */
  MEASURED: 5,
  ROUND: 6,
  /** ROUND: chunks per arm. */
  CHUNKS: 7,
  /** The chunk barrier's arrivals and generation (ROUND with several connections), and the word a failing connection sets. */
  BARRIER_COUNT: 8,
  BARRIER_GEN: 9,
  ABORT: 10,
  /** ROUND: the number of arms, then the round's arm order from ORDER on. */
  ARMS: 11,
  ORDER: 12,
} as const;
/** The control buffer of a group of `arms` arms: its Int32 words, then (8-aligned) the barrier's release time as a Float64. */
export const controlBytes = (arms: number): number => releaseOffset(arms) + 8;
const releaseOffset = (arms: number): number => Math.ceil(((SLICE.ORDER + arms) * 4) / 8) * 8;
/** The barrier's release time in a control buffer. */
export function releaseClock(control: SharedArrayBuffer): Float64Array {
  return new Float64Array(control, control.byteLength - 8, 1);
}
/**
 * A connection's wait for the command after `seq`: the new SEQ, or null once `timeoutMs` passes without one.
 * It waits again while SEQ has not moved: the main thread stores SEQ, then notifies, and when it loses the core
 * in between, a connection can see the new SEQ, run the command and wait again before the notify comes. Woken by
 * it with the same command still in the words, a plain wait ran that command twice (a reopen with no databases on
 * the port, once in a main job and once in npm test, on two busy cores).
 */
export function nextCommand(ctl: Int32Array, seq: number, timeoutMs: number): number | null {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const now = Atomics.load(ctl, SLICE.SEQ);
    if (now !== seq) return now;
    const left = deadline - performance.now();
    if (left <= 0) return null;
    Atomics.wait(ctl, SLICE.SEQ, seq, left);
  }
}

/** One slice of one arm (calibration, warming, replay). */
export const CMD_RUN = 1;
export const CMD_STOP = 2;
/** Reconnect to the databases of the OpenMessage waiting on the port, then report ready. */
export const CMD_OPEN = 3;
/**
 * One round of every arm, interleaved: OPS operations per arm in CHUNKS
 * chunks, the arms taking turns chunk by chunk (the round's order, then
 * reversed: A B B A A B …), every connection on the same arm at once. Each
 * connection reports one SliceReport per arm, with its chunks' figures.
 */
export const CMD_ROUND = 4;

/** Sent on the port before CMD_OPEN: the arms' fresh databases. */
export interface OpenMessage {
  type: 'open';
  arms: EngineHandle[];
  /** Replays continue their trace; generated streams restart from their first operation. */
  keep_streams: boolean;
}

/** What a connection measured in one slice. */
export interface SliceReport {
  type: 'slice';
  seq: number;
  connection: number;
  arm: number;
  round: number;
  /** Operations completed (successful or failed). */
  operations: number;
  wall_ms: number;
  /** The thread's on-CPU and run-queue time over the slice (null where the OS does not say). */
  sched: SchedSample | null;
  /** The slice's recording (null for a warm-up slice). */
  delta: WindowDelta | null;
  /** An interleaved round's chunks of this arm, in order (null for a slice of one arm). */
  chunks: ChunkFigures | null;
  /** The median time of the yardstick's unit over an interleaved round, on connection 0 (ns; null elsewhere and for a slice of one arm). */
  yardstick_ns: number | null;
}

/** One connection's chunks of one arm in an interleaved round: what pairs chunk by chunk with the other arms'. */
export interface ChunkFigures {
  /** Wall time of each chunk (ms). */
  wall_ms: number[];
  /** Median latency of each chunk's operations of the busiest kind (ns; 0 when a chunk had none). */
  p50_ns: number[];
}

/** Posted once the worker is connected to every arm and ready for its first slice. */
export interface ReadyReport {
  type: 'ready';
  connection: number;
}

export type WorkerMessage = SliceReport | ReadyReport;
