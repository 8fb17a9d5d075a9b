// Owner of the `runs` domain: one row per run, taken from the run record
// (harness/results/record.ts) without its cells, which the cells domain
// holds, plus the engines side by side from its summary. Stored runs read
// back as the results model's RunFigures, cells included, in one query.

import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { RunFigures } from '../../results/record.ts';
import type { EngineComparison } from '../../results/summary.ts';
import type { Store } from '../connect.ts';
import type { Database } from '../database.ts';
import type { RunRow } from '../models.ts';
import { ownerAccess } from '../table.ts';
import { access as cells, CELL_COLUMNS, cellFigures } from './cells.ts';

export const access = ownerAccess(import.meta.url, 'runs');

/** The parts of a run record this domain stores; totals are any named counts. */
export type RunFields = Omit<RunFigures, 'cells'> & { totals: Record<string, number> };

// Round-tripped through JSON so only JSON-representable values are stored (and compared).
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export function runRow(run: RunFields, engine_comparison: EngineComparison[] | null): RunRow {
  return {
    id: run.run_id,
    started_at: run.started_at,
    ended_at: run.ended_at,
    argv: run.argv,
    config: plain(run.config),
    engine: run.engine === null ? null : plain(run.engine),
    environment: plain(run.environment),
    schedule_note: run.schedule_note,
    totals: { ...run.totals },
    nightly: run.config.nightly ?? null,
    hardware_signature: run.environment.hardware_signature,
    engine_comparison: engine_comparison === null ? null : plain(engine_comparison),
  };
}

export const recordRun = (store: Store, row: RunRow): Promise<void> => access.write(store, row);
export const getRun = (store: Store, id: string): Promise<RunRow | undefined> => access.get(store, { id });

type RunsFilter = (eb: ExpressionBuilder<Database, 'runs' | 'cells'>) => Expression<SqlBool>;

/** The runs the filter selects, each with its cells: one query (runs joined with cells on index cells_run_id), oldest first. */
async function runsWithCells(store: Store, filter: RunsFilter): Promise<RunFigures[]> {
  const rows = await store.db
    .selectFrom('runs')
    .innerJoin('cells', 'cells.run_id', 'runs.id')
    .selectAll('runs')
    .select(CELL_COLUMNS.map((c) => `cells.${c}` as const))
    .where(filter)
    .orderBy('runs.started_at')
    .orderBy('runs.id')
    .orderBy('cells.cell_id')
    .execute();
  const runs = new Map<string, RunFigures>();
  for (const row of rows) {
    let run = runs.get(row.id);
    if (run === undefined) {
      const r = access.decode(row);
      run = {
        run_id: r.id,
        started_at: r.started_at,
        ended_at: r.ended_at,
        argv: r.argv,
        config: r.config,
        engine: r.engine,
        environment: r.environment,
        schedule_note: r.schedule_note,
        cells: [],
      };
      runs.set(row.id, run);
    }
    run.cells.push(cellFigures(cells.decode({ ...row, id: `${row.run_id}/${row.cell_id}` })));
  }
  return [...runs.values()];
}

export async function storedRun(store: Store, id: string): Promise<RunFigures | null> {
  return (await runsWithCells(store, (eb) => eb('runs.id', '=', id)))[0] ?? null;
}

/**
 * The last `limit` runs of the nightly baseline `name` on this hardware
 * signature, `except` one run id, oldest first: one query, the runs picked by
 * index runs_nightly_signature_started.
 */
export function nightlyRuns(store: Store, o: { name: string; hardware_signature: string; except: string; limit: number }): Promise<RunFigures[]> {
  return runsWithCells(store, (eb) =>
    eb(
      'runs.id',
      'in',
      eb
        .selectFrom('runs as r')
        .select('r.id')
        .where('r.nightly', '=', o.name)
        .where('r.hardware_signature', '=', o.hardware_signature)
        .where('r.id', '<>', o.except)
        .orderBy('r.started_at', 'desc')
        .orderBy('r.id', 'desc')
        .limit(o.limit),
    ),
  );
}
