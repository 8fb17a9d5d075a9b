// Owner of the `gate_decisions` domain, a decision journal: rows are appended,
// never updated or deleted (this module offers no way to).

import type { Store } from '../connect.ts';
import type { GateDecisionRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'gate_decisions');

export const recordDecision = (store: Store, row: GateDecisionRow): Promise<void> => access.write(store, row);

/** One variant's decisions, oldest first (index gate_decisions_variant_class_time). */
export async function decisionsOf(store: Store, engineVariant: string): Promise<GateDecisionRow[]> {
  const rows = await store.db
    .selectFrom('gate_decisions')
    .selectAll()
    .where('engine_variant', '=', engineVariant)
    .orderBy('decided_at')
    .orderBy('id')
    .execute();
  return rows.map(access.decode);
}

/** The decisions with these ids (primary key lookups), in id order. */
export async function decisionsWithIds(store: Store, ids: readonly string[]): Promise<GateDecisionRow[]> {
  if (ids.length === 0) return [];
  const rows = await store.db.selectFrom('gate_decisions').selectAll().where('id', 'in', ids).orderBy('id').execute();
  return rows.map(access.decode);
}
