// Owner of the `trigger_evaluations` domain: each evaluation of a rollout
// trigger, fired or not, kept as evidence for fallbacks and gate decisions.

import type { Store } from '../connect.ts';
import type { TriggerEvaluationRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'trigger_evaluations');

export const recordTriggerEvaluation = (store: Store, row: TriggerEvaluationRow): Promise<void> => access.write(store, row);

/** One trigger's evaluations, oldest first (index trigger_evaluations_trigger_time). */
export async function evaluationsOf(store: Store, trigger: string): Promise<TriggerEvaluationRow[]> {
  const rows = await store.db.selectFrom('trigger_evaluations').selectAll().where('trigger', '=', trigger).orderBy('evaluated_at').orderBy('id').execute();
  return rows.map(access.decode);
}
