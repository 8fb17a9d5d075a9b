// A small run record and run folder for the store tests.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import type { CellFields } from '../../harness/store/domains/cells.ts';
import type { RunFields } from '../../harness/store/domains/runs.ts';

// Typed by the fields the store takes (CellRecord and RunRecord carry more and
// are still growing); run.json also gets `format`/`version` for import.
export const cell: CellFields = {
  id: 'mixed-read-write.memory.c4.legacy', variant: 'baseline', backend: 'memory', workload: 'mixed-read-write', concurrency: 4, mode_set: 'legacy',
  control_modes: { M1: 'legacy', M6: 'legacy', M11: 'legacy' }, status: 'ok', failures: [], gaps: ['a gap'], usable_for_gate: false,
  deterministic: true, correctness: [], notes: ['note'], operations: 123456, measured_ms: 1001.25, throughput_ops_s: 123302.12,
  errors: { busy: 3, 'final.busy': 1 },
  rounds: [{ round: 1, operations: 123456, measured_ms: 1001.25, throughput_ops_s: 123302.12, latency_ns: {}, state_hash: 'abc', failures: [] }],
  histograms_file: 'histograms/mixed-read-write.memory.c4.legacy.hlog',
};

export const run: RunFields & { format: 'shadowbench-run'; version: 1; cells: CellFields[] } = {
  format: 'shadowbench-run', version: 1, run_id: '20260101T000000Z-s1-1', started_at: '2026-01-01T00:00:00.000Z', ended_at: '2026-01-01T00:01:00.500Z',
  argv: ['run', '--quick'],
  config: {
    seed: 1, rounds: 2, schedule: 'interleaved', quick: true, duration_ms: null, mode_sets: ['legacy'], workloads: [{ name: 'mixed-read-write', file: 'w.json', fixture_sha256: null }],
    backends: null, concurrency: [4], faults: {}, mode_set_faults: {}, window_ms: 1000, trace_recorded: false, replay_of: null,
  },
  engine: null,
  environment: { git_commit: null, git_dirty: null, node_version: 'v20', platform: 'linux', arch: 'x64', kernel: '6', cpu_model: 'cpu', cpu_count: 2, total_memory_bytes: 2 ** 33, hardware_signature: '0123456789abcdef' },
  schedule_note: null, cells: [cell], totals: { cells: 1, failed: 0, with_gaps: 1, correctness_failures: 0, fallbacks: 0 },
};

/** Writes `run` as a run folder: run.json and one .hlog with two tagged histograms. */
export function writeRunFolder(dir: string): void {
  mkdirSync(join(dir, 'histograms'), { recursive: true });
  writeFileSync(join(dir, 'run.json'), JSON.stringify(run, null, 2));
  const lines: string[] = [];
  const writer = new hdr.HistogramLogWriter((s) => lines.push(s));
  writer.outputLogFormatVersion();
  writer.outputStartTime(1000);
  writer.outputLegend();
  for (const tag of ['M1.read.duration_ns', 'M6.publish.duration_ns']) {
    const h = hdr.build({ useWebAssembly: false });
    for (let i = 1; i <= 100; i++) h.recordValue(i * 10);
    h.tag = tag;
    h.startTimeStampMsec = 1000;
    h.endTimeStampMsec = 2000;
    writer.outputIntervalHistogram(h);
    h.destroy();
  }
  writeFileSync(join(dir, cell.histograms_file), lines.join(''));
}
