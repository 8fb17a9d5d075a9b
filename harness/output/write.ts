// Writes a run folder: run.json (what ran, where, how it ended), summary.json
// (figures per cell), histograms/<cell>.hlog (HdrHistogram log format, one
// tagged interval histogram per field), and summary.txt (every cell's table and
// card fields; `run --verbose` prints it after the first screen).

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { modeName, SWITCHABLE_CLASSES, type ControlMode, type FaultConfig, type SwitchableClass } from '../../engine/index.ts';
import type { CellEngineDescription } from '../engines/adapter.ts';
import type { HistogramSummary } from '../record/aggregate.ts';
import { parseKey } from '../record/keys.ts';
import type { CellResult, RoundSummary, Schedule } from '../run/runner.ts';
import type { GroupPlan } from '../run/group.ts';
import { runEnvironment, type RunEnvironment } from './environment.ts';
import type { FallbackEvent } from '../cards/evaluator.ts';
import type { Counterexample } from '../cards/counterexample.ts';
import { summaryTable } from './table.ts';
import { compareEngines, type EngineComparison } from './versus.ts';

export interface RunConfig {
  seed: number;
  rounds: number;
  /** Unmeasured rounds run before the measured ones (absent in older runs: none). */
  warmup_rounds?: number;
  schedule: Schedule;
  quick: boolean;
  duration_ms: number | null;
  /** Engine variants run (absent in runs from before variants existed: reference only). */
  variants?: string[];
  mode_sets: string[];
  workloads: { name: string; file: string; fixture_sha256: string | null }[];
  backends: string[] | null;
  concurrency: number[] | null;
  /** Run-wide faults. */
  faults: FaultConfig;
  /** Faults scoped to one mode set (`--inject …@SET`), by set label. */
  mode_set_faults: Record<string, FaultConfig>;
  /** --target-mde and --max-time, when the run added rounds until its comparisons could see that change (absent in older runs). */
  target_mde?: number | null;
  max_time_ms?: number | null;
  /** The slice length operation counts were calibrated to (runs before slices: the window length). */
  window_ms: number;
  trace_recorded: boolean;
  replay_of: string | null;
  /** The nightly baseline name, for runs made by `shadowbench nightly`. */
  nightly?: string | null;
}

export interface CellRecord {
  id: string;
  variant: string;
  backend: string;
  workload: string;
  concurrency: number;
  mode_set: string;
  control_modes: Record<SwitchableClass, ControlMode>;
  /** The faults this cell ran with (run-wide and its mode set's own). */
  faults: FaultConfig;
  status: 'ok' | 'failed';
  failures: string[];
  gaps: string[];
  /** Card classes (and their fields) the workload exercises but this engine declared it cannot report (absent in older runs). */
  not_reported?: string[];
  usable_for_gate: boolean;
  deterministic: boolean;
  correctness: string[];
  notes: string[];
  /** The audit log: every trigger that fired, its evidence and the fallback applied. */
  fallback_events: FallbackEvent[];
  /** Counterexample bundles in the run folder, one per fired trigger. */
  counterexamples: string[];
  operations: number;
  measured_ms: number;
  throughput_ops_s: number;
  errors: Record<string, number>;
  rounds: RoundSummary[];
  /** How the cell's group ran: the bound, operations per slice, every round's order of mode sets (absent in runs before slices). */
  schedule?: GroupPlan | null;
  histograms_file: string;
}

export interface RunRecord {
  format: 'shadowbench-run';
  version: 1;
  run_id: string;
  started_at: string;
  ended_at: string;
  argv: string[];
  config: RunConfig;
  /** The first cell's engine (the reference engine's when it ran). */
  engine: CellEngineDescription | null;
  environment: RunEnvironment;
  /** Present when mode sets ran at the same time: their figures share the machine. */
  schedule_note: string | null;
  cells: CellRecord[];
  totals: { cells: number; failed: number; with_gaps: number; correctness_failures: number; fallbacks: number };
}

/** What a run was asked to do, with defaults for the parts a library caller need not say. */
export type RunConfigInput = Pick<RunConfig, 'seed' | 'rounds'> & Partial<RunConfig>;

/** The run record of finished cells: one construction for the CLI, the benches and the tests. */
export function runRecordOf(o: { run_id: string; started: Date; ended: Date; argv?: readonly string[]; config: RunConfigInput; results: readonly CellResult[]; environment?: RunEnvironment }): RunRecord {
  const config: RunConfig = {
    schedule: 'interleaved', quick: false, duration_ms: null, variants: [...new Set(o.results.map((r) => r.cell.variant))], mode_sets: [...new Set(o.results.map((r) => r.cell.modeSet.label))], workloads: [],
    backends: null, concurrency: null, faults: {}, mode_set_faults: {}, window_ms: 500, trace_recorded: false, replay_of: null, ...o.config,
  };
  const cells = o.results.map(cellRecord);
  return {
    format: 'shadowbench-run', version: 1, run_id: o.run_id, started_at: o.started.toISOString(), ended_at: o.ended.toISOString(),
    argv: [...(o.argv ?? [])], config, engine: (o.results.find((r) => r.engine !== null && r.cell.variant === 'reference') ?? o.results.find((r) => r.engine !== null))?.engine ?? null, environment: o.environment ?? runEnvironment(),
    schedule_note: null,
    cells,
    totals: {
      cells: cells.length, failed: cells.filter((c) => c.status === 'failed').length,
      with_gaps: cells.filter((c) => c.gaps.length > 0).length, correctness_failures: cells.filter((c) => c.correctness.length > 0).length,
      fallbacks: cells.reduce((n, c) => n + c.fallback_events.filter((e) => e.action === 'force_legacy').length, 0),
    },
  };
}

export interface CellSummary {
  id: string;
  throughput_ops_s: number;
  histograms: Record<string, HistogramSummary>;
  counters: Record<string, number>;
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
  const control_modes = Object.fromEntries(SWITCHABLE_CLASSES.map((k) => [k, modeName(k, c.modeSet.modes[k])])) as Record<SwitchableClass, ControlMode>;
  return {
    id: c.id, variant: c.variant, backend: c.backend, workload: c.workload.spec.name, concurrency: c.concurrency,
    mode_set: c.modeSet.label, control_modes, faults: r.faults, status: r.status, failures: r.failures, gaps: r.gaps, not_reported: r.not_reported,
    usable_for_gate: r.status === 'ok' && r.gaps.length === 0 && r.correctness.length === 0,
    deterministic: c.deterministic, correctness: r.correctness, notes: r.notes, fallback_events: r.events, counterexamples: r.counterexamples.map((x) => counterexampleFile(c.id, x)), operations: r.operations, measured_ms: round2(r.measured_ms),
    throughput_ops_s: r.measured_ms > 0 ? round2((r.operations / r.measured_ms) * 1000) : 0,
    errors, rounds: r.rounds, schedule: r.plan, histograms_file: `histograms/${c.id}.hlog`,
  };
}

function writeHlog(path: string, r: CellResult, startMs: number, endMs: number): void {
  const lines: string[] = [];
  const writer = new hdr.HistogramLogWriter((s) => lines.push(s));
  writer.outputComment(`shadowbench cell ${r.cell.id}; values in ns (latencies) or units (counts)`);
  writer.outputLogFormatVersion();
  writer.outputStartTime(startMs);
  writer.outputLegend();
  for (const name of [...r.aggregate.histograms.keys()].sort()) {
    const h = r.aggregate.histograms.get(name)!;
    h.tag = name;
    h.startTimeStampMsec = startMs;
    h.endTimeStampMsec = endMs;
    writer.outputIntervalHistogram(h);
  }
  writeFileSync(path, lines.join(''));
}

/** Writes the run folder; returns the engines side by side (empty when one variant ran). */
export function writeRun(runDir: string, run: RunRecord, results: CellResult[], startMs: number, endMs: number): EngineComparison[] {
  mkdirSync(join(runDir, 'histograms'), { recursive: true });
  const summaries: CellSummary[] = results.map((r) => ({
    id: r.cell.id,
    throughput_ops_s: r.measured_ms > 0 ? round2((r.operations / r.measured_ms) * 1000) : 0,
    histograms: r.aggregate.summaries(),
    counters: r.aggregate.counterRecord(),
  }));
  for (const r of results) writeHlog(join(runDir, 'histograms', `${r.cell.id}.hlog`), r, startMs, endMs);
  for (const r of results) {
    for (const x of r.counterexamples) {
      const file = join(runDir, counterexampleFile(r.cell.id, x));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(x, null, 2)}\n`);
    }
  }
  writeFileSync(join(runDir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
  const engine_comparison = compareEngines(run.cells, summaries);
  writeFileSync(join(runDir, 'summary.json'), `${JSON.stringify({ run_id: run.run_id, cells: summaries, engine_comparison }, null, 2)}\n`);
  writeFileSync(join(runDir, 'summary.txt'), summaryTable(run, summaries, engine_comparison));
  return engine_comparison;
}
