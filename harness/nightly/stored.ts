// What the nightly reads from and writes to the results store: stored runs
// rebuilt as run records, the nightly history of one baseline name and
// hardware signature, the accepted baseline, annotations, and the gate's
// decisions (the decision journal).

import { median } from 'simple-statistics';
import { NEW_MODE, type SwitchableClass } from '../../engine/index.ts';
import type { GateReport } from '../gate/report.ts';
import { metricsOf } from '../gate/series.ts';
import type { CellRecord, RunRecord } from '../output/write.ts';
import type { Store } from '../store/connect.ts';
import { annotationsFor, recordAnnotation } from '../store/domains/annotations.ts';
import { acceptBaseline, baselineOf } from '../store/domains/baselines.ts';
import { cellsOfRun } from '../store/domains/cells.ts';
import { decisionsOf, recordDecision } from '../store/domains/decisions.ts';
import { allRuns, getRun } from '../store/domains/runs.ts';
import type { RunRow } from '../store/models.ts';
import type { Annotation } from './judge.ts';

/** A stored run as a run record: what comparisons need (the audit log lives in its own domain). */
async function rebuild(store: Store, row: RunRow): Promise<RunRecord> {
  const cells = (await cellsOfRun(store, row.id)).map((c): CellRecord => ({
    id: c.cell_id, variant: c.variant, backend: c.backend, workload: c.workload, concurrency: c.concurrency, mode_set: c.mode_set,
    control_modes: c.control_modes as CellRecord['control_modes'], faults: {}, status: c.status, failures: c.failures, gaps: c.gaps,
    usable_for_gate: c.usable_for_gate, deterministic: c.deterministic, correctness: c.correctness, notes: c.notes, fallback_events: [],
    counterexamples: [], operations: c.operations, measured_ms: c.measured_ms, throughput_ops_s: c.throughput_ops_s, errors: c.errors,
    rounds: c.rounds as unknown as CellRecord['rounds'], histograms_file: c.histograms_file,
  }));
  return {
    format: 'shadowbench-run', version: 1, run_id: row.id, started_at: row.started_at, ended_at: row.ended_at, argv: row.argv,
    config: row.config as unknown as RunRecord['config'], engine: row.engine as unknown as RunRecord['engine'],
    environment: row.environment as unknown as RunRecord['environment'], schedule_note: row.schedule_note, cells,
    totals: row.totals as unknown as RunRecord['totals'],
  };
}

export async function storedRun(store: Store, id: string): Promise<RunRecord | null> {
  const row = await getRun(store, id);
  return row === undefined ? null : rebuild(store, row);
}

const signatureOf = (row: RunRow): unknown => (row.environment as { hardware_signature?: unknown }).hardware_signature;

/** The last `limit` nightly runs of `name` on this hardware signature before `before` (a run id), oldest first. */
export async function nightlyHistory(store: Store, name: string, hardware_signature: string, before: string, limit: number): Promise<RunRecord[]> {
  const rows = (await allRuns(store))
    .filter((r) => (r.config as { nightly?: unknown }).nightly === name && signatureOf(r) === hardware_signature && r.id !== before)
    .sort((a, b) => a.started_at.localeCompare(b.started_at) || a.id.localeCompare(b.id))
    .slice(-limit);
  return Promise.all(rows.map((r) => rebuild(store, r)));
}

export async function baselineRun(store: Store, name: string, hardware_signature: string): Promise<RunRecord | null> {
  const rows = await baselineOf(store, name, hardware_signature);
  return rows.length === 0 ? null : storedRun(store, rows[0]!.run_id);
}

/** Makes `run` the baseline `name` of its hardware signature: one row per usable cell, with its medians. */
export async function acceptRun(store: Store, run: RunRecord, name: string, by: string, now = new Date()): Promise<number> {
  const hw = run.environment.hardware_signature;
  const rows = run.cells.filter((c) => c.usable_for_gate).map((c) => ({
    id: `${name}@${hw}/${c.id}`, name, hardware_signature: hw, engine_variant: c.variant, workload: c.workload, run_id: run.run_id, cell_id: c.id,
    created_at: now.toISOString(), created_by: by,
    metrics: Object.fromEntries([...metricsOf(c)].filter(([, s]) => s.values.length > 0).map(([m, s]) => [m, median(s.values)])),
  }));
  await acceptBaseline(store, name, hw, rows);
  return rows.length;
}

export async function annotationsOf(store: Store, hardware_signature: string): Promise<Annotation[]> {
  return (await annotationsFor(store, hardware_signature)).map(({ kind, metric, at_run, reason, created_by, created_at }) => ({ kind, metric, at_run, reason, created_by, created_at }));
}

/** One journal row per class verdict of the run's gate report. */
export async function recordGateDecisions(store: Store, report: GateReport, by: string, now = new Date()): Promise<void> {
  for (const v of report.verdicts) {
    const cls = v.metadata_class as SwitchableClass;
    await recordDecision(store, {
      id: `${report.run_id}:${cls}`, decided_at: now.toISOString(), engine_variant: 'reference', metadata_class: cls, decision: v.verdict,
      from_mode: 'shadow_compare', to_mode: v.verdict === 'promote' ? NEW_MODE[cls] : v.verdict === 'rollback' ? 'legacy' : null,
      rationale: v.reasons.join('; ') || v.verdict, evidence: { run_id: report.run_id, trace_correlation: report.trace_correlation, comparisons: v.comparisons.length, not_run: v.not_run },
      decided_by: by,
    });
  }
}

/** Appends a user's acknowledgement, mute or unmute to the journal. */
export async function annotate(store: Store, hardware_signature: string, a: Annotation): Promise<string> {
  const id = `${a.kind}:${hardware_signature}:${a.metric}:${a.created_at}`;
  await recordAnnotation(store, { id, hardware_signature, ...a });
  return id;
}

/** The gate's verdicts recorded for one run, by class. */
export async function verdictsOf(store: Store, runId: string): Promise<Record<string, string>> {
  const rows = (await decisionsOf(store, 'reference')).filter((d) => d.id.startsWith(`${runId}:`));
  return Object.fromEntries(rows.map((d) => [d.metadata_class, d.decision]));
}
