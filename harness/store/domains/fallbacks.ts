// Owner of the `fallback_events` domain, an audit log: rows are appended,
// never updated or deleted (this module offers no way to).

import type { Store } from '../connect.ts';
import type { FallbackEventRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'fallback_events');

export const recordFallback = (store: Store, row: FallbackEventRow): Promise<void> => access.write(store, row);
export const fallbacksOf = (store: Store, engineVariant: string): Promise<FallbackEventRow[]> => access.read(store, { engine_variant: engineVariant });
