// Owner of the `gate_decisions` domain, a decision journal: rows are appended,
// never updated or deleted (this module offers no way to).

import type { Store } from '../connect.ts';
import type { GateDecisionRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'gate_decisions');

export const recordDecision = (store: Store, row: GateDecisionRow): Promise<void> => access.write(store, row);
export const decisionsOf = (store: Store, engineVariant: string): Promise<GateDecisionRow[]> => access.read(store, { engine_variant: engineVariant });
