// Owner of the `baselines` domain: named reference figures (one per name,
// engine variant and workload) that regressions are judged against.

import type { Store } from '../connect.ts';
import type { BaselineRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'baselines');

export const recordBaseline = (store: Store, row: BaselineRow): Promise<void> => access.write(store, row);
export const baselinesNamed = (store: Store, name: string): Promise<BaselineRow[]> => access.read(store, { name });
