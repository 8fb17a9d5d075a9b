// Runs the plan: every measure at every thread count, `runs` times, modes of a
// group interleaved; one fresh database per run.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type DatabaseOptions } from '../../../engine/index.ts';
import type { Measure, Metric } from './plan.ts';
import type { BenchPool } from './pool.ts';
import { SYNC_BYTES, type ResultMsg, type TaskMsg } from './protocol.ts';

export interface Settings {
  runs: number;
  threads: number[];
  warmupMs: number;
  windowMs: number;
  /** m1-wait: the committer's interval and the waits per waiter. */
  intervalUs: number;
  waits: number;
}

/** Per measure and thread count: the figure of each metric in each run. */
export interface Samples {
  values: Map<Metric, number[]>;
  retries: Record<string, number>;
  errors: string[];
}

export type Collected = Map<Measure, Map<number, Samples>>;

let taskId = 0;

const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
export { median };

function figures(results: readonly ResultMsg[]): Map<Metric, number> {
  const ok = results.filter((r) => r.error === null);
  const perThread = ok.filter((r) => r.ops > 0).map((r) => r.ns / r.ops);
  const writes = ok.reduce((a, r) => a + r.writeOps, 0);
  const out = new Map<Metric, number>();
  if (perThread.length > 0) out.set('op', perThread.reduce((a, b) => a + b, 0) / perThread.length);
  if (writes > 0) out.set('write', ok.reduce((a, r) => a + r.writeNs, 0) / writes);
  const waits = ok.flatMap((r) => r.waitNs);
  if (waits.length > 0) out.set('wait', median(waits));
  const lags = ok.flatMap((r) => r.lagNs);
  if (lags.length > 0) out.set('lag', median(lags));
  return out;
}

async function runOnce(pool: BenchPool, m: Measure, threads: number, s: Settings): Promise<ResultMsg[]> {
  const dir = m.backend === 'file' ? mkdtempSync(join(tmpdir(), 'shadowbench-')) : null;
  const options: DatabaseOptions = {
    backend: m.backend,
    pageCount: 260,
    versionsPerPage: 16,
    columns: ['balance'],
    maxConnections: 8,
    modes: { M1: 0, M6: 0, M11: 0, ...m.modes },
    fsync: 'off',
    autoCheckpointFrames: 1000,
    ...(dir === null ? {} : { path: join(dir, 'bench.db') }),
  };
  try {
    const db = openDatabase(options);
    const sync = new SharedArrayBuffer(SYNC_BYTES);
    const tasks: TaskMsg[] = Array.from({ length: threads }, (_, index) => ({
      type: 'task',
      id: ++taskId,
      op: m.kind,
      shared: db.shared,
      threads,
      index,
      warmupMs: s.warmupMs,
      windowMs: s.windowMs,
      waits: s.waits,
      readsPerWrite: m.readsPerWrite,
      intervalUs: s.intervalUs,
      sync,
    }));
    return await pool.run(tasks);
  } finally {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs every measure; `progress` receives one line per group and run. */
export async function runPlan(pool: BenchPool, measures: readonly Measure[], s: Settings, progress: (line: string) => void): Promise<Collected> {
  const collected: Collected = new Map(measures.map((m) => [m, new Map<number, Samples>()]));
  const groups = [...new Set(measures.map((m) => m.group))];
  const t0 = performance.now();
  // JIT warm-up: every op kind once on every worker, not recorded.
  progress(`[  0.0s] warm-up: every op on ${pool.size} workers`);
  for (const kind of new Set(measures.map((m) => m.kind))) {
    const m = measures.find((x) => x.kind === kind)!;
    await runOnce(pool, { ...m, modes: {} }, pool.size, { ...s, windowMs: s.warmupMs * 3 });
  }
  for (const group of groups) {
    const members = measures.filter((m) => m.group === group);
    for (let run = 1; run <= s.runs; run++) {
      progress(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${group}: run ${run}/${s.runs}`);
      for (const threads of s.threads) {
        for (const m of members) {
          if (!m.threads(threads) || threads > pool.size) continue;
          const results = await runOnce(pool, m, threads, s);
          const byThreads = collected.get(m)!;
          const samples = byThreads.get(threads) ?? { values: new Map<Metric, number[]>(), retries: {}, errors: [] };
          byThreads.set(threads, samples);
          for (const [metric, v] of figures(results)) samples.values.set(metric, [...(samples.values.get(metric) ?? []), v]);
          for (const r of results) {
            for (const [code, n] of Object.entries(r.retries)) samples.retries[code] = (samples.retries[code] ?? 0) + n;
            if (r.error !== null) samples.errors.push(`thread ${r.index}: ${r.error}`);
          }
        }
      }
    }
  }
  return collected;
}
