// Turns finished cells into a run record and a run folder (harness/results/):
// run.json (what ran, where, how it ended), summary.json (figures per cell),
// histograms/<cell>.hlog (HdrHistogram log format, one tagged interval
// histogram per field), plus counterexample bundles and summary.txt (every
// cell's table and card fields; `run --verbose` prints it after the first screen).

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { modeName, SWITCHABLE_CLASSES } from '../../engine/index.ts';
import type { Counterexample } from '../cards/counterexample.ts';
import { parseKey } from '../record/keys.ts';
import { writeRunFolder, type RunFolder } from '../results/folder.ts';
import { histogramLog } from '../results/hlog.ts';
import { RUN_FORMAT, RUN_VERSION, type CellRecord, type ControlModes, type RunConfig, type RunEnvironment, type RunRecord } from '../results/record.ts';
import type { CellSummary } from '../results/summary.ts';
import type { CellResult } from './runner.ts';
import { runEnvironment } from '../output/environment.ts';
import { YARDSTICK } from '../runtime/yardstick.ts';
import { summaryTable } from '../output/table.ts';
import { compareEngines } from '../results/versus.ts';

/** What a run was asked to do, with defaults for the parts a library caller need not say. */
export type RunConfigInput = Pick<RunConfig, 'seed' | 'rounds'> & Partial<RunConfig>;

/** The run record of finished cells: one construction for the CLI, the benches and the tests. */
export function runRecordOf(o: {
  run_id: string;
  started: Date;
  ended: Date;
  argv?: readonly string[];
  config: RunConfigInput;
  results: readonly CellResult[];
  environment?: RunEnvironment;
}): RunRecord {
  const config: RunConfig = {
    schedule: 'interleaved',
    quick: false,
    duration_ms: null,
    variants: [...new Set(o.results.map((r) => r.cell.variant))],
    mode_sets: [...new Set(o.results.map((r) => r.cell.modeSet.label))],
    workloads: [],
    backends: null,
    concurrency: null,
    faults: {},
    mode_set_faults: {},
    window_ms: 500,
    trace_recorded: false,
    replay_of: null,
    yardstick: YARDSTICK,
    ...o.config,
  };
  const cells = o.results.map(cellRecord);
  const engine = (o.results.find((r) => r.engine !== null && r.cell.variant === 'reference') ?? o.results.find((r) => r.engine !== null))?.engine ?? null;
  return {
    format: RUN_FORMAT,
    version: RUN_VERSION,
    run_id: o.run_id,
    started_at: o.started.toISOString(),
    ended_at: o.ended.toISOString(),
    argv: [...(o.argv ?? [])],
    config,
    engine: engine === null ? null : { ...engine },
    environment: o.environment ?? runEnvironment(),
    schedule_note: null,
    cells,
    totals: {
      cells: cells.length,
      failed: cells.filter((c) => c.status === 'failed').length,
      with_gaps: cells.filter((c) => c.gaps.length > 0).length,
      correctness_failures: cells.filter((c) => c.correctness.length > 0).length,
      fallbacks: cells.reduce((n, c) => n + c.fallback_events.filter((e) => e.action === 'force_legacy').length, 0),
    },
  };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

export const counterexampleFile = (cellId: string, x: Counterexample): string => `counterexamples/${cellId}.r${x.event.round}.${x.event.trigger}.json`;

export function cellRecord(r: CellResult): CellRecord {
  const c = r.cell;
  // `busy`, `write_conflict`, …: every failed attempt; `final.<code>`: operations that failed after all retries.
  const errors: Record<string, number> = {};
  for (const [k, v] of r.aggregate.counters) {
    const parsed = parseKey(k);
    const key = parsed.kind === 'attempt_error' ? parsed.code : parsed.kind === 'op_error' ? `final.${parsed.code}` : null;
    if (key !== null) errors[key] = (errors[key] ?? 0) + v;
  }
  const control_modes = Object.fromEntries(SWITCHABLE_CLASSES.map((k) => [k, modeName(k, c.modeSet.modes[k])])) as ControlModes;
  return {
    id: c.id,
    variant: c.variant,
    backend: c.backend,
    workload: c.workload.spec.name,
    concurrency: c.concurrency,
    mode_set: c.modeSet.label,
    control_modes,
    faults: r.faults,
    status: r.status,
    failures: r.failures,
    gaps: r.gaps,
    not_reported: r.not_reported,
    usable_for_gate: r.status === 'ok' && r.gaps.length === 0 && r.correctness.length === 0,
    deterministic: c.deterministic,
    correctness: r.correctness,
    notes: r.notes,
    fallback_events: r.events,
    counterexamples: r.counterexamples.map((x) => counterexampleFile(c.id, x)),
    operations: r.operations,
    measured_ms: round2(r.measured_ms),
    throughput_ops_s: r.measured_ms > 0 ? round2((r.operations / r.measured_ms) * 1000) : 0,
    errors,
    rounds: r.rounds,
    schedule: r.plan,
    histograms_file: `histograms/${c.id}.hlog`,
  };
}

/** A finished run as its folder holds it: the record, the figures per cell and every cell's histograms. */
export function runFolderOf(run: RunRecord, results: readonly CellResult[], startMs: number, endMs: number): RunFolder {
  const cells: CellSummary[] = results.map((r) => ({
    id: r.cell.id,
    throughput_ops_s: r.measured_ms > 0 ? round2((r.operations / r.measured_ms) * 1000) : 0,
    histograms: r.aggregate.summaries(),
    counters: r.aggregate.counterRecord(),
  }));
  return {
    run,
    summary: { run_id: run.run_id, cells, engine_comparison: compareEngines(run.cells, cells) },
    histograms: new Map(results.map((r) => [r.cell.id, histogramLog(r.cell.id, r.aggregate.histograms, startMs, endMs)])),
  };
}

/** Writes the run folder (and its counterexample bundles and summary.txt); returns it as written. */
export function writeRun(runDir: string, run: RunRecord, results: readonly CellResult[], startMs: number, endMs: number): RunFolder {
  const folder = runFolderOf(run, results, startMs, endMs);
  writeRunFolder(runDir, folder);
  for (const r of results) {
    for (const x of r.counterexamples) {
      const file = join(runDir, counterexampleFile(r.cell.id, x));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(x, null, 2)}\n`);
    }
  }
  writeFileSync(join(runDir, 'summary.txt'), summaryTable(run, folder.summary.cells, folder.summary.engine_comparison));
  return folder;
}
