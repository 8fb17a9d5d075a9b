// Owner of the `baselines` domain: the accepted baseline per name and
// hardware signature, one row per cell of the accepted run. Accepting a run
// replaces the previous baseline of that name and signature as a whole.

import type { Store } from '../connect.ts';
import type { BaselineRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'baselines');

/** The baseline's rows, by cell (index baselines_name_signature_cell). */
export async function baselineOf(store: Store, name: string, hardware_signature: string): Promise<BaselineRow[]> {
  const rows = await store.db
    .selectFrom('baselines')
    .selectAll()
    .where('name', '=', name)
    .where('hardware_signature', '=', hardware_signature)
    .orderBy('cell_id')
    .execute();
  return rows.map(access.decode);
}

/** Replaces the baseline `name` for `hardware_signature` with these rows, in one transaction. */
export async function acceptBaseline(store: Store, name: string, hardware_signature: string, rows: readonly BaselineRow[]): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    const tx: Store = { ...store, db: trx };
    await access.remove(tx, (q) => q.where('name', '=', name).where('hardware_signature', '=', hardware_signature));
    for (const r of rows) await access.write(tx, r);
  });
}
