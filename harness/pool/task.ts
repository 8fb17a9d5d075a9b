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
}

/** The control words. The main thread writes a slice's words, then bumps SEQ and notifies. */
export const SLICE = {
  SEQ: 0,
  /** RUN or STOP. */
  CMD: 1,
  ARM: 2,
  /** Operations per connection (0: no count bound). */
  OPS: 3,
  /** Time bound in ms (0: none); a slice ends at whichever bound comes first. */
  DURATION_MS: 4,
  /** 1: record the slice (a measured round); 0: warm-up, nothing kept. */
  MEASURED: 5,
  ROUND: 6,
  WORDS: 8,
} as const;
export const CMD_RUN = 1;
export const CMD_STOP = 2;
/** Reconnect to the databases of the OpenMessage waiting on the port, then report ready. */
export const CMD_OPEN = 3;

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
}

/** Posted once the worker is connected to every arm and ready for its first slice. */
export interface ReadyReport {
  type: 'ready';
  connection: number;
}

export type WorkerMessage = SliceReport | ReadyReport;
