// Owner of the `rollout_state` domain, control state: the current control mode
// of each switchable class per engine variant, with who set it, when and why.
// One row per (variant, class), replaced on every change; the history of
// changes lives in the audit log and decision journal, not here.

import type { Store } from '../connect.ts';
import type { RolloutStateRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'rollout_state');

export type ModeChange = Omit<RolloutStateRow, 'id'>;

export async function setControlMode(store: Store, change: ModeChange): Promise<RolloutStateRow> {
  const row: RolloutStateRow = { id: `${change.engine_variant}:${change.metadata_class}`, ...change };
  await access.write(store, row, { upsert: true });
  return row;
}

/** One variant's current mode per class (index rollout_state_variant_class). */
export async function controlState(store: Store, engineVariant: string): Promise<RolloutStateRow[]> {
  const rows = await store.db.selectFrom('rollout_state').selectAll().where('engine_variant', '=', engineVariant).orderBy('metadata_class').execute();
  return rows.map(access.decode);
}
