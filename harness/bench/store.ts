// `npm run bench:store`: rows per second writing a nightly's results (run,
// cells, per-field histograms) into the results store, SQLite and
// PostgreSQL in one run. A real run of the harness provides the results; it
// is imported again and again under fresh run ids. PostgreSQL is a
// throwaway local cluster (the tests' own), so no server is needed.

import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSuite } from '../spec/load.ts';
import { planMatrix } from '../plan/matrix.ts';
import { parseModeSets } from '../plan/modes.ts';
import { runMatrix } from '../run/runner.ts';
import { runRecordOf, writeRun, type RunRecord } from '../output/write.ts';
import { runEnvironment } from '../output/environment.ts';
import { importRunFolder } from '../store/ingest.ts';
import { migrateTo } from '../store/migrate.ts';
import { freshStore, type TestDialect } from '../../test/store/databases.ts';

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
  const run = runRecordOf({ run_id: 'bench-store-0', started: new Date(start), ended: new Date(), results, config: { seed: 1, rounds: 2, quick: true, duration_ms: 200 } });
  writeRun(runDir, run, results, start, Date.now());
  for (const r of results) r.aggregate.destroy();
  return runDir;
}

/** A copy of the run folder under a new run id. */
function copyAs(src: string, dir: string, id: string): string {
  const dst = join(dir, id);
  cpSync(src, dst, { recursive: true });
  const run = JSON.parse(readFileSync(join(dst, 'run.json'), 'utf8')) as RunRecord;
  writeFileSync(join(dst, 'run.json'), JSON.stringify({ ...run, run_id: id }));
  return dst;
}

async function bench(dialect: TestDialect, src: string, dir: string): Promise<{ dialect: string; imports: number; rows: number; seconds: number; rows_per_s: number; ms_per_nightly: number }> {
  const { store, dispose } = await freshStore(dialect);
  try {
    await migrateTo(store);
    const folders = Array.from({ length: imports }, (_, i) => copyAs(src, dir, `${dialect}-${i}`));
    let rows = 0;
    const t0 = performance.now();
    for (const f of folders) {
      const r = await importRunFolder(store, f);
      rows += 1 + r.cells + r.histograms;
    }
    const seconds = (performance.now() - t0) / 1000;
    return { dialect, imports, rows, seconds: Math.round(seconds * 1000) / 1000, rows_per_s: Math.round(rows / seconds), ms_per_nightly: Math.round((seconds * 1000) / imports) };
  } finally {
    await dispose();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sb-bench-store-'));
log('running a nightly-shaped harness run to import …');
const src = await makeRun(dir);
log(`run folder: ${readdirSync(join(src, 'histograms')).length} cells`);
const results = [];
for (const d of ['sqlite', 'postgres'] as const) {
  log(`importing ${imports} times into ${d} …`);
  results.push(await bench(d, src, dir));
}
if (values.json === true) process.stdout.write(`${JSON.stringify({ results }, null, 2)}\n`);
else {
  process.stdout.write('store     imports   rows   seconds   rows/s   ms per nightly\n');
  for (const r of results) process.stdout.write(`${r.dialect.padEnd(9)} ${String(r.imports).padStart(7)} ${String(r.rows).padStart(6)} ${r.seconds.toFixed(2).padStart(9)} ${String(r.rows_per_s).padStart(8)} ${String(r.ms_per_nightly).padStart(16)}\n`);
  process.stdout.write('rows = 1 run + its cells + one histogram row per (cell, field); SQLite is a WAL file, PostgreSQL a local throwaway cluster (fsync off)\n');
}
process.exit(0);
