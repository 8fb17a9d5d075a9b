// The main thread's side of a group's pool tasks: starts one task per
// connection, then drives them through shared control words, one command
// at a time, each answered by every connection before the next. Between
// commands the workers wait in Atomics.wait, so whatever the main thread
// does then competes with no measured slice.

import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import type { EngineHandle } from '../engines/connection.ts';
import { resetBarrier } from '../pool/chunks.ts';
import {
  CMD_OPEN,
  CMD_ROUND,
  CMD_RUN,
  CMD_STOP,
  controlBytes,
  SLICE,
  SLICE_TIMEOUT_MS,
  type GroupTask,
  type OpenMessage,
  type SliceReport,
  type WorkerMessage,
} from '../pool/task.ts';
import { SliceInbox } from './inbox.ts';

/** One interleaved round of every arm (CMD_ROUND). */
export interface RoundCommand {
  /** The arms in the round's order; chunks take turns in this order, then reversed. */
  order: readonly number[];
  /** Operations per arm and connection, cut into `chunks` chunks. */
  ops: number;
  chunks: number;
  measured: boolean;
  round: number;
}

export interface SliceCommand {
  arm: number;
  /** Operations per connection (0: no count bound). */
  ops: number;
  /** Time bound in ms (0: none). */
  durationMs: number;
  measured: boolean;
  round: number;
}

export class SliceControl {
  private readonly ctl: Int32Array;
  private readonly inbox: SliceInbox;
  private readonly channels: MessageChannel[] = [];
  private readonly aborts: AbortController[] = [];
  readonly tasks: Promise<unknown>[];
  private seq = 0;
  /** Reopens posted to every connection, for a failure's message. */
  private reopens = 0;

  /** Starts one task per connection; `task(connection, control, port)` builds each. */
  constructor(
    pool: Piscina,
    private readonly connections: number,
    task: (connection: number, control: SharedArrayBuffer, port: MessageChannel['port2']) => GroupTask,
    private readonly sliceMs: number,
    arms: number,
  ) {
    const control = new SharedArrayBuffer(controlBytes(arms));
    this.ctl = new Int32Array(control);
    this.inbox = new SliceInbox(connections);
    this.tasks = Array.from({ length: connections }, (_, connection) => {
      const ch = new MessageChannel();
      this.channels.push(ch);
      ch.port1.on('message', (m: WorkerMessage) => this.inbox.take(m));
      const abort = new AbortController();
      this.aborts.push(abort);
      const run = pool.run(task(connection, control, ch.port2), { transferList: [ch.port2], signal: abort.signal }) as Promise<unknown>;
      run.catch((err: unknown) => this.inbox.fail(connection, err));
      return run;
    });
  }

  /** Resolves once every connection is connected to every arm. */
  ready(): Promise<void> {
    return this.inbox.ready(SLICE_TIMEOUT_MS);
  }

  /** One slice of one arm on every connection; resolves with their reports. */
  run(c: SliceCommand): Promise<SliceReport[]> {
    this.ctl[SLICE.CMD] = CMD_RUN;
    this.ctl[SLICE.ARM] = c.arm;
    this.ctl[SLICE.OPS] = c.ops;
    this.ctl[SLICE.DURATION_MS] = c.durationMs;
    this.ctl[SLICE.MEASURED] = c.measured ? 1 : 0;
    this.ctl[SLICE.ROUND] = c.round;
    this.release();
    return this.inbox.slice(this.seq, (c.durationMs > 0 ? c.durationMs : this.sliceMs) + SLICE_TIMEOUT_MS);
  }

  /** One interleaved round of every arm on every connection; resolves with each connection's report of each arm. */
  round(c: RoundCommand): Promise<SliceReport[]> {
    resetBarrier(this.ctl);
    this.ctl[SLICE.CMD] = CMD_ROUND;
    this.ctl[SLICE.OPS] = c.ops;
    this.ctl[SLICE.CHUNKS] = c.chunks;
    this.ctl[SLICE.MEASURED] = c.measured ? 1 : 0;
    this.ctl[SLICE.ROUND] = c.round;
    this.ctl[SLICE.ARMS] = c.order.length;
    c.order.forEach((arm, i) => (this.ctl[SLICE.ORDER + i] = arm));
    this.release();
    return this.inbox.slice(this.seq, this.sliceMs * c.order.length + SLICE_TIMEOUT_MS, this.connections * c.order.length);
  }

  /** Every connection closes its arms' connections and connects to these databases instead, with fresh streams unless `keepStreams`. */
  async open(arms: EngineHandle[], keepStreams: boolean): Promise<void> {
    const message: OpenMessage = { type: 'open', arms, keep_streams: keepStreams };
    for (const ch of this.channels) ch.port1.postMessage(message);
    this.reopens++;
    this.inbox.expectReady();
    this.ctl[SLICE.CMD] = CMD_OPEN;
    this.release();
    try {
      await this.inbox.ready(SLICE_TIMEOUT_MS);
    } catch (err) {
      // Beside the worker's count of reopens received: a message lost on the way or one read twice.
      throw new Error(`${(err as Error).message} (reopen ${this.reopens} posted to every connection)`);
    }
  }

  stopAll(why: string): void {
    for (const a of this.aborts) if (!a.signal.aborted) a.abort(new Error(why));
  }

  /** Tells every connection to stop and waits for the tasks (stopping those that do not within the timeout). */
  async stop(): Promise<PromiseSettledResult<unknown>[]> {
    this.ctl[SLICE.CMD] = CMD_STOP;
    this.release();
    const timer = setTimeout(() => this.stopAll(`a connection did not stop within ${SLICE_TIMEOUT_MS / 1000} s`), SLICE_TIMEOUT_MS);
    try {
      return await Promise.allSettled(this.tasks);
    } finally {
      clearTimeout(timer);
      // Let reports already queued on the ports arrive before closing them.
      await new Promise((resolve) => setImmediate(resolve));
      for (const ch of this.channels) ch.port1.close();
    }
  }

  private release(): void {
    Atomics.store(this.ctl, SLICE.SEQ, ++this.seq);
    Atomics.notify(this.ctl, SLICE.SEQ);
  }
}
