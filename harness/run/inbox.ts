// The main thread's side of a group's slices: collects each connection's
// report of a slice and wakes the conductor when all have arrived, or fails
// it at once when a connection's task fails or a slice overruns.

import type { SliceReport, WorkerMessage } from '../pool/task.ts';

interface Waiter {
  done: () => boolean;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class SliceInbox {
  private readyCount = 0;
  private seq = 0;
  private reports: SliceReport[] = [];
  private failure: Error | null = null;
  private waiter: Waiter | null = null;

  constructor(private readonly connections: number) {}

  take(m: WorkerMessage): void {
    if (m.type === 'ready') this.readyCount++;
    else if (m.seq === this.seq) this.reports.push(m);
    this.check();
  }

  /** A connection's task failed: whoever waits, and every later wait, fails with its cause. */
  fail(connection: number, err: unknown): void {
    const e = err as { message?: unknown; code?: unknown };
    const message = `${typeof e.message === 'string' ? e.message : String(err)}${typeof e.code === 'string' ? ` (${e.code})` : ''}`;
    this.failure ??= new Error(`connection ${connection}: ${message}`);
    this.check();
  }

  /** The next `ready()` waits for every connection to report ready again (after a reopen). */
  expectReady(): void {
    this.readyCount = 0;
  }

  /** Resolves once every connection is connected to every arm. */
  ready(timeoutMs: number): Promise<void> {
    return this.wait(
      () => this.readyCount >= this.connections,
      timeoutMs,
      `connections ready: ${this.readyCount} of ${this.connections} within ${timeoutMs / 1000} s`,
    );
  }

  /** Resolves with the `expected` reports (one per connection, or per connection and arm of a round) of command `seq`, released just before. */
  async slice(seq: number, timeoutMs: number, expected = this.connections): Promise<SliceReport[]> {
    if (seq !== this.seq) {
      this.seq = seq;
      this.reports = [];
    }
    await this.wait(
      () => this.reports.length >= expected,
      timeoutMs,
      `slice ${seq}: ${this.reports.length} of ${expected} reports arrived within ${Math.round(timeoutMs / 1000)} s (a connection may have died holding an engine lock)`,
    );
    return this.reports.sort((a, b) => a.arm - b.arm || a.connection - b.connection);
  }

  private wait(done: () => boolean, timeoutMs: number, overrun: string): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(overrun));
      }, timeoutMs);
      this.waiter = { done, resolve, reject, timer };
    });
  }

  private check(): void {
    const w = this.waiter;
    if (w === null) return;
    if (this.failure !== null) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.reject(this.failure);
    } else if (w.done()) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.resolve();
    }
  }
}
