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

export const controlState = (store: Store, engineVariant: string): Promise<RolloutStateRow[]> => access.read(store, { engine_variant: engineVariant });
