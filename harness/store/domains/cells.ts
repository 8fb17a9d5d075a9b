// Owner of the `cells` domain: one row per cell of a run (the results
// model's CellFigures, harness/results/record.ts), keyed `${run_id}/${cell_id}`.

import type { CellFigures } from '../../results/record.ts';
import type { Store } from '../connect.ts';
import { CellRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'cells');

/**
 * Field by field, not a spread: a field added to the cell record is not
 * stored until the model (and a migration) says so. A cell's fallback events
 * belong to the fallback_events domain, not to this row.
 */
export function cellRow(runId: string, c: CellFigures): CellRow {
  return {
    id: `${runId}/${c.id}`,
    run_id: runId,
    cell_id: c.id,
    variant: c.variant,
    backend: c.backend,
    workload: c.workload,
    concurrency: c.concurrency,
    mode_set: c.mode_set,
    control_modes: c.control_modes,
    status: c.status,
    failures: c.failures,
    gaps: c.gaps,
    not_reported: c.not_reported ?? null,
    usable_for_gate: c.usable_for_gate,
    deterministic: c.deterministic,
    correctness: c.correctness,
    notes: c.notes,
    operations: c.operations,
    measured_ms: c.measured_ms,
    throughput_ops_s: c.throughput_ops_s,
    errors: c.errors,
    rounds: c.rounds,
    histograms_file: c.histograms_file,
  };
}

/** A stored cell as the results model's cell figures. */
export function cellFigures(r: CellRow): CellFigures {
  return {
    id: r.cell_id,
    variant: r.variant,
    backend: r.backend,
    workload: r.workload,
    concurrency: r.concurrency,
    mode_set: r.mode_set,
    control_modes: r.control_modes,
    status: r.status,
    failures: r.failures,
    gaps: r.gaps,
    ...(r.not_reported === null ? {} : { not_reported: r.not_reported }),
    usable_for_gate: r.usable_for_gate,
    deterministic: r.deterministic,
    correctness: r.correctness,
    notes: r.notes,
    operations: r.operations,
    measured_ms: r.measured_ms,
    throughput_ops_s: r.throughput_ops_s,
    errors: r.errors,
    rounds: r.rounds,
    histograms_file: r.histograms_file,
  };
}

/** Every column but the id, which is `${run_id}/${cell_id}`: what a query joining runs selects of a cell. */
export const CELL_COLUMNS = (Object.keys(CellRow.shape) as (keyof CellRow)[]).filter((k): k is Exclude<keyof CellRow, 'id'> => k !== 'id');

export async function recordCells(store: Store, runId: string, cells: readonly CellFigures[]): Promise<void> {
  for (const c of cells) await access.write(store, cellRow(runId, c));
}

/** One run's cells, by cell id (index cells_run_id). */
export async function cellsOfRun(store: Store, runId: string): Promise<CellRow[]> {
  const rows = await store.db.selectFrom('cells').selectAll().where('run_id', '=', runId).orderBy('cell_id').execute();
  return rows.map(access.decode);
}
