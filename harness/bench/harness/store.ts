// `npm run bench:store`: rows per second writing a nightly's results (run,
// cells, per-field histograms) into the results store, SQLite and
// PostgreSQL in one run. A real run of the harness provides the results,
// read back from its folder once; they are imported again and again under
// fresh run ids, from memory, as the nightly imports. PostgreSQL is a
// throwaway local cluster (harness/store/throwaway-postgres.ts, the tests'
// too), so no server is needed.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSuite } from '../../spec/load.ts';
import { planMatrix } from '../../plan/matrix.ts';
import { parseModeSets } from '../../plan/modes.ts';
import { runMatrix } from '../../run/runner.ts';
import { runRecordOf, writeRun } from '../../run/record.ts';
import { readRunFolder, type RunFolder } from '../../results/folder.ts';
import { openStore, type Store } from '../../store/connect.ts';
import { importRun } from '../../store/ingest.ts';
import { migrateTo } from '../../store/migrate.ts';
import { freshPgDatabase, startPostgres } from '../../store/throwaway-postgres.ts';

const { values } = parseArgs({ options: { imports: { type: 'string', default: '20' }, json: { type: 'boolean' } } });
const imports = Number(values.imports);
const log = (s: string): void => void process.stderr.write(`${s}\n`);

/** A nightly-shaped run folder: two canonical workloads, every mode, c1 and c4, two rounds. */
async function makeRun(dir: string): Promise<string> {
  const workloads = loadSuite().filter((w) => ['commutative-inserts', 'mixed-read-write'].includes(w.spec.name));
  const groups = planMatrix({ workloads, modeSets: parseModeSets(undefined), quick: true, duration_ms: 200 });
  const runDir = join(dir, 'run');
  const start = Date.now();
  const results = await runMatrix({ groups, rounds: 2, seed: 1, faults: {}, schedule: 'interleaved', runDir });
  const run = runRecordOf({
    run_id: 'bench-store-0',
    started: new Date(start),
    ended: new Date(),
    results,
    config: { seed: 1, rounds: 2, quick: true, duration_ms: 200 },
  });
  writeRun(runDir, run, results, start, Date.now());
  for (const r of results) r.aggregate.destroy();
  return runDir;
}

/** The run under a new run id. */
const renamed = (f: RunFolder, id: string): RunFolder => ({ ...f, run: { ...f.run, run_id: id }, summary: { ...f.summary, run_id: id } });

type Dialect = 'sqlite' | 'postgres';

/** An empty store of the dialect: a SQLite file in `dir`, or a database on a throwaway PostgreSQL cluster. */
async function emptyStore(dialect: Dialect, dir: string): Promise<{ store: Store; dispose(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const store = openStore({ dialect: 'sqlite', path: join(dir, 'bench.db') });
    return { store, dispose: () => store.close() };
  }
  const server = await startPostgres();
  const db = await freshPgDatabase(server);
  const store = openStore({ dialect: 'postgres', url: db.url });
  return {
    store,
    async dispose() {
      await store.close();
      await db.drop();
      server.stop();
    },
  };
}

async function bench(
  dialect: Dialect,
  src: RunFolder,
  dir: string,
): Promise<{ dialect: string; imports: number; rows: number; seconds: number; rows_per_s: number; ms_per_nightly: number }> {
  const { store, dispose } = await emptyStore(dialect, dir);
  try {
    await migrateTo(store);
    const runs = Array.from({ length: imports }, (_, i) => renamed(src, `${dialect}-${i}`));
    let rows = 0;
    const t0 = performance.now();
    for (const f of runs) {
      const r = await importRun(store, f);
      rows += 1 + r.cells + r.histograms;
    }
    const seconds = (performance.now() - t0) / 1000;
    return {
      dialect,
      imports,
      rows,
      seconds: Math.round(seconds * 1000) / 1000,
      rows_per_s: Math.round(rows / seconds),
      ms_per_nightly: Math.round((seconds * 1000) / imports),
    };
  } finally {
    await dispose();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sb-bench-store-'));
log('running a nightly-shaped harness run to import …');
const src = readRunFolder(await makeRun(dir));
log(`run folder: ${src.run.cells.length} cells`);
const results = [];
for (const d of ['sqlite', 'postgres'] as const) {
  log(`importing ${imports} times into ${d} …`);
  results.push(await bench(d, src, dir));
}
if (values.json === true) process.stdout.write(`${JSON.stringify({ results }, null, 2)}\n`);
else {
  process.stdout.write('store     imports   rows   seconds   rows/s   ms per nightly\n');
  for (const r of results)
    process.stdout.write(
      `${r.dialect.padEnd(9)} ${String(r.imports).padStart(7)} ${String(r.rows).padStart(6)} ${r.seconds.toFixed(2).padStart(9)} ${String(r.rows_per_s).padStart(8)} ${String(r.ms_per_nightly).padStart(16)}\n`,
    );
  process.stdout.write(
    'rows = 1 run + its cells + one histogram row per (cell, field); SQLite is a WAL file, PostgreSQL a local throwaway cluster (fsync off)\n',
  );
}
rmSync(dir, { recursive: true, force: true });
process.exit(0);
