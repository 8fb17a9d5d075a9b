// Owner of the `fallback_events` domain, an audit log: rows are appended,
// never updated or deleted (this module offers no way to).

import type { Store } from '../connect.ts';
import type { FallbackEventRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'fallback_events');

export const recordFallback = (store: Store, row: FallbackEventRow): Promise<void> => access.write(store, row);

/** One variant's fallbacks, oldest first (index fallback_events_variant_class_time). */
export async function fallbacksOf(store: Store, engineVariant: string): Promise<FallbackEventRow[]> {
  const rows = await store.db
    .selectFrom('fallback_events')
    .selectAll()
    .where('engine_variant', '=', engineVariant)
    .orderBy('occurred_at')
    .orderBy('id')
    .execute();
  return rows.map(access.decode);
}
