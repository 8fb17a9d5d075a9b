// Stores a run (harness/results/: run record, summary, histograms) through the
// owner modules of the runs, cells, histograms and fallback_events domains,
// in one transaction: a run is either wholly in the store or not at all. From
// memory (a run just made, as the nightly does) or from a run folder, which is
// read whole and checked first, so a damaged folder stores nothing. An empty
// embedded store is migrated first (ensureReady); any other store must be at
// this build's version.

import { isSwitchable } from '../../engine/index.ts';
import { readRunFolder, type RunFolder } from '../results/folder.ts';
import { StoreError, type Store } from './connect.ts';
import { recordCells } from './domains/cells.ts';
import { recordFallback } from './domains/fallbacks.ts';
import { histogramRow, recordHistogram } from './domains/histograms.ts';
import { getRun, recordRun, runRow } from './domains/runs.ts';
import { ensureReady } from './migrate.ts';

export interface ImportResult {
  run_id: string;
  cells: number;
  histograms: number;
  /** Live fallbacks (a class forced to legacy mid-run) written to the audit log. */
  fallbacks: number;
}

export async function importRun(store: Store, { run, summary, histograms }: RunFolder): Promise<ImportResult> {
  await ensureReady(store);
  if ((await getRun(store, run.run_id)) !== undefined) throw new StoreError(`run ${run.run_id} is already in the store`);
  const result: ImportResult = { run_id: run.run_id, cells: run.cells.length, histograms: 0, fallbacks: 0 };
  await store.db.transaction().execute(async (trx) => {
    const tx: Store = { ...store, db: trx };
    await recordRun(tx, runRow(run, summary.engine_comparison));
    await recordCells(tx, run.run_id, run.cells);
    for (const cell of run.cells) {
      // Only fallbacks that switched a mode belong in the audit log; keep-local alerts stay in run.json.
      for (const e of cell.fallback_events.filter((x) => x.action === 'force_legacy')) {
        if (!isSwitchable(e.metadata_class)) continue;
        await recordFallback(tx, {
          id: `${run.run_id}:${cell.id}:r${e.round}:${e.trigger}`,
          occurred_at: e.time,
          engine_variant: cell.variant,
          metadata_class: e.metadata_class,
          from_mode: cell.control_modes[e.metadata_class],
          to_mode: 'legacy',
          reason: `${e.trigger}: ${e.observation.detail}`,
          actor: 'live-evaluator',
          run_id: run.run_id,
        });
        result.fallbacks++;
      }
      for (const h of histograms.get(cell.id)?.intervals ?? []) {
        await recordHistogram(tx, histogramRow(run.run_id, cell.id, h));
        result.histograms++;
      }
    }
  });
  return result;
}

/** Reads the run folder whole (RunFolderError naming a missing, truncated or corrupt file), then stores it. */
export const importRunFolder = (store: Store, runDir: string): Promise<ImportResult> => importRun(store, readRunFolder(runDir));
