// Owner of the `histograms` domain: one HdrHistogram per cell and field, in
// HdrHistogram's compressed base64 encoding (the form its log format uses).

import * as hdr from 'hdr-histogram-js';
import type { Store } from '../connect.ts';
import type { HistogramRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'histograms');

export function histogramRow(runId: string, cellId: string, field: string, h: hdr.Histogram, startMs: number, endMs: number): HistogramRow {
  return {
    id: `${runId}/${cellId}/${field}`, run_id: runId, cell_id: cellId, field,
    encoding: 'hdr-compressed-base64', data: hdr.encodeIntoCompressedBase64(h), start_ms: startMs, end_ms: endMs,
  };
}

export const recordHistogram = (store: Store, row: HistogramRow): Promise<void> => access.write(store, row);

/** The stored histogram, decoded; the caller owns (and must destroy) it. */
export function decodeHistogram(row: HistogramRow): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(row.data);
}

export const histogramsOfCell = (store: Store, runId: string, cellId: string): Promise<HistogramRow[]> => access.read(store, { run_id: runId, cell_id: cellId });
