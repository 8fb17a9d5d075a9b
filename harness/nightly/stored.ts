// What the nightly reads from and writes to the results store: stored runs
// (the results model's RunFigures: what comparisons need), the nightly
// history of one baseline name and hardware signature, the accepted
// baseline, annotations, and the gate's decisions (the decision journal).

import { median } from 'simple-statistics';
import { NEW_MODE, SWITCHABLE_CLASSES, type SwitchableClass } from '../../engine/index.ts';
import type { GateReport } from '../gate/report.ts';
import { metricsOf } from '../gate/series.ts';
import type { RunFigures } from '../results/record.ts';
import type { Store } from '../store/connect.ts';
import { annotationsFor, recordAnnotation } from '../store/domains/annotations.ts';
import { acceptBaseline, baselineOf } from '../store/domains/baselines.ts';
import { decisionsWithIds, recordDecision } from '../store/domains/decisions.ts';
import { nightlyRuns, storedRun } from '../store/domains/runs.ts';
import type { Annotation } from './judge.ts';

export { storedRun };

/** The last `limit` nightly runs of `name` on this hardware signature before `before` (a run id), oldest first. */
export const nightlyHistory = (store: Store, name: string, hardware_signature: string, before: string, limit: number): Promise<RunFigures[]> =>
  nightlyRuns(store, { name, hardware_signature, except: before, limit });

export async function baselineRun(store: Store, name: string, hardware_signature: string): Promise<RunFigures | null> {
  const rows = await baselineOf(store, name, hardware_signature);
  return rows.length === 0 ? null : storedRun(store, rows[0]!.run_id);
}

/** Makes `run` the baseline `name` of its hardware signature: one row per usable cell, with its medians. */
export async function acceptRun(store: Store, run: RunFigures, name: string, by: string, now = new Date()): Promise<number> {
  const hw = run.environment.hardware_signature;
  const rows = run.cells
    .filter((c) => c.usable_for_gate)
    .map((c) => ({
      id: `${name}@${hw}/${c.id}`,
      name,
      hardware_signature: hw,
      engine_variant: c.variant,
      workload: c.workload,
      run_id: run.run_id,
      cell_id: c.id,
      created_at: now.toISOString(),
      created_by: by,
      metrics: Object.fromEntries([...metricsOf(c)].filter(([, s]) => s.values.length > 0).map(([m, s]) => [m, median(s.values)])),
    }));
  await acceptBaseline(store, name, hw, rows);
  return rows.length;
}

export async function annotationsOf(store: Store, hardware_signature: string): Promise<Annotation[]> {
  return (await annotationsFor(store, hardware_signature)).map(({ kind, metric, at_run, reason, created_by, created_at }) => ({
    kind,
    metric,
    at_run,
    reason,
    created_by,
    created_at,
  }));
}

const decisionId = (runId: string, cls: SwitchableClass): string => `${runId}:${cls}`;

/** One journal row per class verdict of the run's gate report. */
export async function recordGateDecisions(store: Store, report: GateReport, by: string, now = new Date()): Promise<void> {
  for (const v of report.verdicts) {
    const cls = v.metadata_class as SwitchableClass;
    await recordDecision(store, {
      id: decisionId(report.run_id, cls),
      decided_at: now.toISOString(),
      engine_variant: 'reference',
      metadata_class: cls,
      decision: v.verdict,
      from_mode: 'shadow_compare',
      to_mode: v.verdict === 'promote' ? NEW_MODE[cls] : v.verdict === 'rollback' ? 'legacy' : null,
      rationale: v.reasons.join('; ') || v.verdict,
      evidence: { run_id: report.run_id, trace_correlation: report.trace_correlation, comparisons: v.comparisons.length, not_run: v.not_run },
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
  const rows = await decisionsWithIds(
    store,
    SWITCHABLE_CLASSES.map((cls) => decisionId(runId, cls)),
  );
  return Object.fromEntries(rows.map((d) => [d.metadata_class, d.decision]));
}
