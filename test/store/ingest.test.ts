// `store import <run-dir>`: a run folder goes into the store whole (run, cells,
// histograms) on both databases; an empty embedded store is migrated on this
// first use, PostgreSQL must be migrated first; a second import is refused,
// and a bad folder leaves nothing behind.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeVerb } from '../../harness/cli/store.ts';
import { cellsOfRun } from '../../harness/store/domains/cells.ts';
import { decodeHistogram, histogramsOfCell } from '../../harness/store/domains/histograms.ts';
import { getRun } from '../../harness/store/domains/runs.ts';
import { importRunFolder } from '../../harness/store/ingest.ts';
import { migrateTo, StoreVersionError } from '../../harness/store/migrate.ts';
import { DIALECTS, freshStore } from './databases.ts';
import { cell, run, writeRunFolder } from './fixtures.ts';

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

for (const dialect of DIALECTS) {
  test(`${dialect}: import a run folder`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sbtest-run-'));
    const { store, dispose } = await freshStore(dialect);
    try {
      writeRunFolder(dir);
      if (dialect === 'postgres') {
        assert.instance(await rejects(importRunFolder(store, dir)), StoreVersionError, 'postgres is never migrated implicitly');
        await migrateTo(store);
      }
      assert.equal(await importRunFolder(store, dir), { run_id: run.run_id, cells: 1, histograms: 2, fallbacks: 0 });
      assert.is((await getRun(store, run.run_id))?.id, run.run_id);
      assert.is((await cellsOfRun(store, run.run_id)).length, 1);
      const hs = await histogramsOfCell(store, run.run_id, cell.id);
      assert.equal(hs.map((h) => h.field), ['M1.read.duration_ns', 'M6.publish.duration_ns']);
      const h = decodeHistogram(hs[0]!);
      assert.is(h.totalCount, 100);
      h.destroy();
      assert.match((await rejects(importRunFolder(store, dir))).message, 'already in the store');
    } finally {
      await dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a run that does not fit the models is refused by name and nothing is kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbtest-run-'));
  const { store, url, dispose } = await freshStore('sqlite');
  try {
    writeRunFolder(dir);
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...run, cells: [{ ...cell, concurrency: 'four' }] }));
    let out = '';
    let err = '';
    const code = await storeVerb.run(['import', dir, '--store', url], { out: (t) => void (out += t), err: (t) => void (err += t) });
    assert.is(code, 1);
    assert.match(err, `cells ${run.run_id}/${cell.id}: row does not fit its model: concurrency:`);
    assert.is(await getRun(store, run.run_id), undefined, 'the transaction was rolled back');
  } finally {
    await dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
