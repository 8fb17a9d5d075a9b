// The message types between the runner and a pool worker. One task drives
// one connection for one round; a worker thread runs one task at a time, so
// one thread is one connection.

import type { MessagePort } from 'node:worker_threads';
import type { EngineHandle } from '../engines/connection.ts';
import type { AmountSpec, WorkloadSpec } from '../spec/schema.ts';
import type { WindowDelta } from '../record/recorder.ts';

export interface ConnectionTask {
  /** The cell database to connect to, for whichever engine variant runs the cell. */
  engine: EngineHandle;
  spec: WorkloadSpec;
  run: AmountSpec;
  warmup: AmountSpec | null;
  seed: number;
  connection: number;
  connections: number;
  /** Int32 words: [arrived, released]. Every connection starts measuring together. */
  barrier: SharedArrayBuffer;
  /** Window deltas are posted here while the task runs. */
  port: MessagePort;
  window_ms: number;
  /** Record the operation stream to this trace file. */
  trace_out: string | null;
  /** Replay this connection's operations from a trace file instead of generating them. */
  trace_in: string | null;
  /** Head-sampling ratio of field records (anomalies are always sampled). */
  sample_ratio: number;
  /** False runs the engine with no field-record hook (operation timings only): telemetry off, for measuring its cost. */
  field_records: boolean;
}

export interface ConnectionResult {
  connection: number;
  /** Operations completed in the measured phase (successful or failed). */
  operations: number;
  measured_ms: number;
  /** The last window, which the task returns rather than posts. */
  final: WindowDelta;
}

/** Posted on the port: a window, or a note that the task is about to fail. */
export type WorkerMessage = { type: 'window'; delta: WindowDelta };
