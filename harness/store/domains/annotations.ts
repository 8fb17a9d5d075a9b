// Owner of the `metric_annotations` domain: a journal of acknowledgements and
// mutes, appended and never updated; the latest row per metric is in force.

import type { Store } from '../connect.ts';
import type { MetricAnnotationRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'metric_annotations');

export const recordAnnotation = (store: Store, row: MetricAnnotationRow): Promise<void> => access.write(store, row);

/** Every annotation for one hardware signature, oldest first. */
export async function annotationsFor(store: Store, hardware_signature: string): Promise<MetricAnnotationRow[]> {
  const rows = await store.db
    .selectFrom('metric_annotations')
    .selectAll()
    .where('hardware_signature', '=', hardware_signature)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(access.decode);
}
