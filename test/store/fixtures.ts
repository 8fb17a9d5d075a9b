// A small run and its run folder for the store tests: one cell, two tagged
// histograms, written and read through the results model (harness/results/).

import * as hdr from 'hdr-histogram-js';
import { writeRunFolder, type RunFolder } from '../../harness/results/folder.ts';
import { histogramLog } from '../../harness/results/hlog.ts';
import type { CellRecord, RunRecord } from '../../harness/results/record.ts';

export const cell: CellRecord = {
  id: 'mixed-read-write.memory.c4.legacy',
  variant: 'baseline',
  backend: 'memory',
  workload: 'mixed-read-write',
  concurrency: 4,
  mode_set: 'legacy',
  control_modes: { M1: 'legacy', M6: 'legacy', M11: 'legacy' },
  faults: {},
  status: 'ok',
  failures: [],
  gaps: ['a gap'],
  not_reported: ['M4'],
  usable_for_gate: false,
  deterministic: true,
  correctness: [],
  notes: ['note'],
  fallback_events: [],
  counterexamples: [],
  operations: 123456,
  measured_ms: 1001.25,
  throughput_ops_s: 123302.12,
  errors: { busy: 3, 'final.busy': 1 },
  rounds: [{ round: 1, operations: 123456, measured_ms: 1001.25, throughput_ops_s: 123302.12, latency_ns: {}, state_hash: 'abc', failures: [] }],
  histograms_file: 'histograms/mixed-read-write.memory.c4.legacy.hlog',
};

export const run: RunRecord = {
  format: 'shadowbench-run',
  version: 1,
  run_id: '20260101T000000Z-s1-1',
  started_at: '2026-01-01T00:00:00.000Z',
  ended_at: '2026-01-01T00:01:00.500Z',
  argv: ['run', '--quick'],
  config: {
    seed: 1,
    rounds: 2,
    schedule: 'interleaved',
    quick: true,
    duration_ms: null,
    mode_sets: ['legacy'],
    workloads: [{ name: 'mixed-read-write', file: 'w.json', fixture_sha256: null }],
    backends: null,
    concurrency: [4],
    faults: {},
    mode_set_faults: {},
    window_ms: 1000,
    trace_recorded: false,
    replay_of: null,
  },
  engine: null,
  environment: {
    git_commit: null,
    git_dirty: null,
    node_version: 'v20',
    platform: 'linux',
    arch: 'x64',
    kernel: '6',
    cpu_model: 'cpu',
    cpu_count: 2,
    total_memory_bytes: 2 ** 33,
    hardware_signature: '0123456789abcdef',
  },
  schedule_note: null,
  cells: [cell],
  totals: { cells: 1, failed: 0, with_gaps: 1, correctness_failures: 0, fallbacks: 0 },
};

export const TAGS = ['M1.read.duration_ns', 'M6.publish.duration_ns'];
const SUMMARY = { count: 100, p50: 500, p90: 900, p99: 990, p999: 1000, max: 1000, mean: 505 };

/** `run` as its folder holds it: one .hlog with two tagged histograms of 100 values each. */
export function runFolder(): RunFolder {
  const hs = new Map(
    TAGS.map((tag) => {
      const h = hdr.build({ useWebAssembly: false });
      for (let i = 1; i <= 100; i++) h.recordValue(i * 10);
      return [tag, h] as const;
    }),
  );
  const log = histogramLog(cell.id, hs, 1000, 2000);
  for (const h of hs.values()) h.destroy();
  return {
    run,
    summary: {
      run_id: run.run_id,
      cells: [{ id: cell.id, throughput_ops_s: cell.throughput_ops_s, histograms: Object.fromEntries(TAGS.map((t) => [t, SUMMARY])), counters: {} }],
      engine_comparison: [],
    },
    histograms: new Map([[cell.id, log]]),
  };
}

/** Writes `run`'s folder into `dir`. */
export const writeFixtureFolder = (dir: string): void => writeRunFolder(dir, runFolder());
