// Owner of the `trigger_evaluations` domain: each evaluation of a rollout
// trigger, fired or not, kept as evidence for fallbacks and gate decisions.

import type { Store } from '../connect.ts';
import type { TriggerEvaluationRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'trigger_evaluations');

export const recordTriggerEvaluation = (store: Store, row: TriggerEvaluationRow): Promise<void> => access.write(store, row);
export const evaluationsOf = (store: Store, trigger: string): Promise<TriggerEvaluationRow[]> => access.read(store, { trigger });
