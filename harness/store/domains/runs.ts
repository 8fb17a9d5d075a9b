// Owner of the `runs` domain: one row per run, taken from the run's RunRecord
// (harness/output/write.ts) without its cells, which the cells domain holds.

import type { RunRecord } from '../../output/write.ts';
import type { Store } from '../connect.ts';
import type { RunRow } from '../models.ts';
import { ownerAccess } from '../table.ts';

export const access = ownerAccess(import.meta.url, 'runs');

/** The parts of a RunRecord this domain stores; totals are any named counts. */
export type RunFields = Pick<RunRecord, 'run_id' | 'started_at' | 'ended_at' | 'argv' | 'config' | 'engine' | 'environment' | 'schedule_note'> & {
  totals: Record<string, number>;
};

export function runRow(run: RunFields): RunRow {
  return {
    id: run.run_id, started_at: run.started_at, ended_at: run.ended_at, argv: run.argv,
    // Round-tripped through JSON so only JSON-representable values are stored (and compared).
    config: JSON.parse(JSON.stringify(run.config)) as RunRow['config'],
    engine: run.engine === null ? null : (JSON.parse(JSON.stringify(run.engine)) as RunRow['config']),
    environment: JSON.parse(JSON.stringify(run.environment)) as RunRow['environment'],
    schedule_note: run.schedule_note, totals: { ...run.totals },
  };
}

export const recordRun = (store: Store, run: RunFields): Promise<void> => access.write(store, runRow(run));
export const getRun = async (store: Store, id: string): Promise<RunRow | undefined> => (await access.read(store, { id }))[0];
/** Every stored run, in id order (ids start with their UTC start time). */
export const allRuns = (store: Store): Promise<RunRow[]> => access.read(store);
