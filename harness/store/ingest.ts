// Imports a run folder (harness/output/write.ts: run.json and
// histograms/<cell>.hlog) into the store, through the owner modules of the
// runs, cells and histograms domains, in one transaction: a run is either
// wholly in the store or not at all. An empty embedded store is migrated
// first (ensureReady); any other store must be at this build's version.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import type { RunRecord } from '../output/write.ts';
import { StoreError, type Store } from './connect.ts';
import { recordCells } from './domains/cells.ts';
import { histogramRow, recordHistogram } from './domains/histograms.ts';
import { getRun, recordRun } from './domains/runs.ts';
import { ensureReady } from './migrate.ts';
import { recordFallback } from './domains/fallbacks.ts';
import { isSwitchable } from '../../engine/index.ts';

export interface ImportResult {
  run_id: string;
  cells: number;
  histograms: number;
  /** Live fallbacks (a class forced to legacy mid-run) written to the audit log. */
  fallbacks: number;
}

function readRunRecord(runDir: string): RunRecord {
  const file = join(runDir, 'run.json');
  if (!existsSync(file)) throw new StoreError(`${file}: no such file (not a run folder)`);
  const run = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunRecord>;
  if (run.format !== 'shadowbench-run' || run.version !== 1) throw new StoreError(`${file}: not a shadowbench-run version 1 record`);
  // Field-level validation happens in the owner modules' models on write.
  return run as RunRecord;
}

export async function importRunFolder(store: Store, runDir: string): Promise<ImportResult> {
  const run = readRunRecord(runDir);
  await ensureReady(store);
  if ((await getRun(store, run.run_id)) !== undefined) throw new StoreError(`run ${run.run_id} is already in the store`);
  let histograms = 0;
  let fallbacks = 0;
  await store.db.transaction().execute(async (trx) => {
    const tx: Store = { ...store, db: trx };
    await recordRun(tx, run);
    await recordCells(tx, run.run_id, run.cells);
    for (const cell of run.cells) {
      // Only fallbacks that switched a mode belong in the audit log; keep-local alerts stay in run.json.
      for (const e of (cell.fallback_events ?? []).filter((x) => x.action === 'force_legacy')) {
        if (!isSwitchable(e.metadata_class)) continue;
        await recordFallback(tx, {
          id: `${run.run_id}:${cell.id}:r${e.round}:${e.trigger}`, occurred_at: e.time, engine_variant: cell.variant,
          metadata_class: e.metadata_class, from_mode: cell.control_modes[e.metadata_class], to_mode: 'legacy',
          reason: `${e.trigger}: ${e.observation.detail}`, actor: 'live-evaluator', run_id: run.run_id,
        });
        fallbacks++;
      }
    }
    for (const cell of run.cells) {
      const file = join(runDir, cell.histograms_file);
      if (!existsSync(file)) continue; // a cell that failed before measuring has no histograms
      const reader = new hdr.HistogramLogReader(readFileSync(file, 'utf8'));
      for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
        try {
          const field = h.tag ?? 'untagged';
          await recordHistogram(tx, histogramRow(run.run_id, cell.id, field, h, Math.round(h.startTimeStampMsec), Math.round(h.endTimeStampMsec)));
          histograms++;
        } finally {
          h.destroy();
        }
      }
    }
  });
  return { run_id: run.run_id, cells: run.cells.length, histograms, fallbacks };
}
