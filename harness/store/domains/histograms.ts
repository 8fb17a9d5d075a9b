// Owner of the `histograms` domain: one HdrHistogram per cell and field, in
// HdrHistogram's compressed base64 encoding (the form its log format uses,
// so a run folder's histograms are stored as they are, never re-encoded).

import * as hdr from 'hdr-histogram-js';
import type { HistogramInterval } from '../../results/hlog.ts';
import type { Store } from '../connect.ts';
import type { HistogramRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'histograms');

export function histogramRow(runId: string, cellId: string, h: HistogramInterval): HistogramRow {
  return {
    id: `${runId}/${cellId}/${h.tag}`,
    run_id: runId,
    cell_id: cellId,
    field: h.tag,
    encoding: 'hdr-compressed-base64',
    data: h.data,
    start_ms: h.start_ms,
    end_ms: h.end_ms,
  };
}

export const recordHistogram = (store: Store, row: HistogramRow): Promise<void> => access.write(store, row);

/** The stored histogram, decoded; the caller owns (and must destroy) it. */
export function decodeHistogram(row: HistogramRow): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(row.data);
}

/** One cell's histograms, by field (index histograms_run_cell). */
export async function histogramsOfCell(store: Store, runId: string, cellId: string): Promise<HistogramRow[]> {
  const rows = await store.db.selectFrom('histograms').selectAll().where('run_id', '=', runId).where('cell_id', '=', cellId).orderBy('field').execute();
  return rows.map(access.decode);
}
