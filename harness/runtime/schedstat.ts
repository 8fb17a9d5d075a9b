// What the scheduler says about the calling thread (Linux:
// /proc/thread-self/schedstat, "on-CPU ns, run-queue wait ns, timeslices").
// Wall time = on-CPU + waiting for a CPU + blocked; the run-queue wait is the
// machine's noise, time blocked (a lock wait in Atomics.wait) is what a
// concurrency primitive changes. The kernel updates these at scheduler
// ticks: read them around tens of milliseconds, never per operation.

import { closeSync, openSync, readSync } from 'node:fs';

export interface SchedSample {
  cpu_ns: number;
  runq_ns: number;
}

const PATH = '/proc/thread-self/schedstat';

export class SchedStat {
  private readonly fd: number | null;
  private readonly buf = Buffer.alloc(128);

  constructor() {
    let fd: number | null = null;
    try {
      fd = openSync(PATH, 'r');
    } catch {
      fd = null;
    }
    this.fd = fd;
  }

  /** Whether this OS reports per-thread scheduler times. */
  get available(): boolean {
    return this.fd !== null;
  }

  /** The thread's cumulative times now, or null where unavailable. */
  read(): SchedSample | null {
    if (this.fd === null) return null;
    const n = readSync(this.fd, this.buf, 0, this.buf.length, 0);
    const parts = this.buf.toString('latin1', 0, n).trim().split(' ');
    const cpu = Number(parts[0]);
    const runq = Number(parts[1]);
    return Number.isFinite(cpu) && Number.isFinite(runq) ? { cpu_ns: cpu, runq_ns: runq } : null;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
  }
}

/** b − a, or null when either is unknown. */
export function schedDelta(a: SchedSample | null, b: SchedSample | null): SchedSample | null {
  return a === null || b === null ? null : { cpu_ns: b.cpu_ns - a.cpu_ns, runq_ns: b.runq_ns - a.runq_ns };
}

export const SCHEDSTAT_UNAVAILABLE = `${PATH} is not readable here: on-CPU time and run-queue wait are not reported`;
