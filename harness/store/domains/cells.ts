// Owner of the `cells` domain: one row per cell of a run (CellRecord in
// harness/output/write.ts), keyed `${run_id}/${cell_id}`.

import type { CellRecord } from '../../output/write.ts';
import type { Store } from '../connect.ts';
import type { CellRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'cells');

/**
 * Field by field, not a spread: a field added to CellRecord is not stored
 * until the model (and a migration) says so. A cell's fallback events belong
 * to the fallback_events domain, not to this row.
 */
/** The parts of a CellRecord this domain stores (CellRecord may carry more). */
export type CellFields = Pick<CellRecord,
  | 'id' | 'variant' | 'backend' | 'workload' | 'concurrency' | 'mode_set' | 'control_modes' | 'status' | 'failures' | 'gaps'
  | 'usable_for_gate' | 'deterministic' | 'correctness' | 'notes' | 'operations' | 'measured_ms' | 'throughput_ops_s' | 'errors'
  | 'rounds' | 'histograms_file'>;

export function cellRow(runId: string, c: CellFields): CellRow {
  return {
    id: `${runId}/${c.id}`, run_id: runId, cell_id: c.id, variant: c.variant, backend: c.backend, workload: c.workload,
    concurrency: c.concurrency, mode_set: c.mode_set, control_modes: c.control_modes, status: c.status, failures: c.failures,
    gaps: c.gaps, usable_for_gate: c.usable_for_gate, deterministic: c.deterministic, correctness: c.correctness, notes: c.notes,
    operations: c.operations, measured_ms: c.measured_ms, throughput_ops_s: c.throughput_ops_s, errors: c.errors,
    rounds: JSON.parse(JSON.stringify(c.rounds)) as CellRow['rounds'], histograms_file: c.histograms_file,
  };
}

export async function recordCells(store: Store, runId: string, cells: readonly CellFields[]): Promise<void> {
  for (const c of cells) await access.write(store, cellRow(runId, c));
}

export const cellsOfRun = (store: Store, runId: string): Promise<CellRow[]> => access.read(store, { run_id: runId });
