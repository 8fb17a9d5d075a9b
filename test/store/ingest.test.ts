// `store import <run-dir>`: a run folder goes into the store whole (run, cells,
// histograms) on both databases; an empty embedded store is migrated on this
// first use, PostgreSQL must be migrated first; a second import is refused.
// A folder with a missing, truncated or corrupt file (run.json, summary.json,
// any .hlog) is refused with one line naming the file, exit 2, and nothing
// of it is stored.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeVerb } from '../../harness/cli/store.ts';
import { cellsOfRun } from '../../harness/store/domains/cells.ts';
import { decodeHistogram, histogramsOfCell } from '../../harness/store/domains/histograms.ts';
import { getRun } from '../../harness/store/domains/runs.ts';
import { importRunFolder } from '../../harness/store/ingest.ts';
import { migrateTo, StoreVersionError } from '../../harness/store/migrate.ts';
import { DIALECTS, freshStore } from './databases.ts';
import { TAGS, cell, run, writeFixtureFolder } from './fixtures.ts';

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await storeVerb.run(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

for (const dialect of DIALECTS) {
  test(`${dialect}: import a run folder`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sbtest-run-'));
    const { store, dispose } = await freshStore(dialect);
    try {
      writeFixtureFolder(dir);
      if (dialect === 'postgres') {
        assert.instance(await rejects(importRunFolder(store, dir)), StoreVersionError, 'postgres is never migrated implicitly');
        await migrateTo(store);
      }
      assert.equal(await importRunFolder(store, dir), { run_id: run.run_id, cells: 1, histograms: 2, fallbacks: 0 });
      assert.is((await getRun(store, run.run_id))?.id, run.run_id);
      assert.equal(
        (await cellsOfRun(store, run.run_id)).map((c) => c.not_reported),
        [['M4']],
      );
      const hs = await histogramsOfCell(store, run.run_id, cell.id);
      assert.equal(
        hs.map((h) => [h.field, h.start_ms, h.end_ms]),
        TAGS.map((t) => [t, 1000, 2000]),
      );
      const h = decodeHistogram(hs[0]!);
      assert.is(h.totalCount, 100);
      h.destroy();
      assert.match((await rejects(importRunFolder(store, dir))).message, 'already in the store');
    } finally {
      await dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${dialect}: a damaged run folder is refused by file, exit 2, and nothing of it is stored`, async () => {
    const { store, url, dispose } = await freshStore(dialect);
    const hlog = cell.histograms_file;
    const cut = (text: string, keep: number): string => text.slice(0, Math.floor(text.length * keep));
    const damages: [string, string, (dir: string) => void, RegExp][] = [
      ['missing run.json', 'run.json', (d) => unlinkSync(join(d, 'run.json')), /no such file \(not a run folder\)/],
      [
        'truncated run.json',
        'run.json',
        (d) => writeFileSync(join(d, 'run.json'), cut(readFileSync(join(d, 'run.json'), 'utf8'), 0.6)),
        /not valid JSON: truncated or corrupt/,
      ],
      [
        'corrupt run.json',
        'run.json',
        (d) => writeFileSync(join(d, 'run.json'), JSON.stringify({ ...run, cells: [{ ...cell, concurrency: 'four' }] })),
        /does not fit the run record: cells\.0\.concurrency: /,
      ],
      ['missing summary.json', 'summary.json', (d) => unlinkSync(join(d, 'summary.json')), /no such file \(the run folder is incomplete\)/],
      [
        'truncated summary.json',
        'summary.json',
        (d) => writeFileSync(join(d, 'summary.json'), cut(readFileSync(join(d, 'summary.json'), 'utf8'), 0.5)),
        /not valid JSON: truncated or corrupt/,
      ],
      [
        'summary.json of no cell',
        'summary.json',
        (d) => writeFileSync(join(d, 'summary.json'), JSON.stringify({ run_id: run.run_id, cells: [] })),
        /no figures for 1 of the 1 cells/,
      ],
      ['missing .hlog', hlog, (d) => unlinkSync(join(d, hlog)), /no such file \(the run folder is incomplete\)/],
      [
        '.hlog cut mid-line',
        hlog,
        (d) => writeFileSync(join(d, hlog), readFileSync(join(d, hlog), 'utf8').slice(0, -25)),
        /does not end with a complete line \(truncated\)/,
      ],
      [
        '.hlog cut after a line',
        hlog,
        (d) => {
          const lines = readFileSync(join(d, hlog), 'utf8').split('\n');
          writeFileSync(join(d, hlog), `${lines.slice(0, -2).join('\n')}\n`);
        },
        /holds 1 of the 2 histograms summary\.json lists \(missing M6\.publish\.duration_ns\): truncated or corrupt/,
      ],
      [
        '.hlog with a corrupt histogram',
        hlog,
        (d) => {
          const text = readFileSync(join(d, hlog), 'utf8');
          const at = text.lastIndexOf(',') + 30;
          writeFileSync(join(d, hlog), `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`);
        },
        /line \d+: histogram 'M6\.publish\.duration_ns' does not decode \(.*\): truncated or corrupt/,
      ],
    ];
    try {
      await migrateTo(store);
      for (const [what, file, damage, message] of damages) {
        const dir = mkdtempSync(join(tmpdir(), 'sbtest-damaged-'));
        try {
          writeFixtureFolder(dir);
          damage(dir);
          const r = await cli('import', dir, '--store', url);
          assert.is(r.code, 2, `${what}: ${r.err}`);
          assert.is(r.err.trimEnd().split('\n').length, 1, `${what}: one line: ${r.err}`);
          assert.ok(r.err.startsWith(`shadowbench store import: ${join(dir, file)}: `), `${what}: names the file: ${r.err}`);
          assert.match(r.err, message, what);
          assert.is(await getRun(store, run.run_id), undefined, `${what}: nothing stored`);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      // The same folder, undamaged, goes in.
      const dir = mkdtempSync(join(tmpdir(), 'sbtest-whole-'));
      try {
        writeFixtureFolder(dir);
        const r = await cli('import', dir, '--store', url, '--json');
        assert.is(r.code, 0, r.err);
        assert.equal(JSON.parse(r.out).histograms, 2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      await dispose();
    }
  });
}

test.run();
