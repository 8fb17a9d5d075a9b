// The first screen of `shadowbench run`, through the CLI on a real small run
// (reference modes and SQLite): the verdict per class with its reason and the
// smallest change it could have seen, engines side by side, the failed or
// diverged cells, and where summary.txt and gate.html are. Per-field tables
// only with --verbose; the gate's reports are in the run folder.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectable, firstScreen } from '../../harness/output/screen.ts';
import { writeGateReports } from '../../harness/output/gate-reports.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import { compare } from '../../harness/gate/comparison.ts';
import { DEFAULT_GATE } from '../../harness/gate/options.ts';
import { tinySpec } from '../support/tiny-spec.ts';
import { runCli } from '../support/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sb-screen-'));
const spec = join(tmp, 'tiny.json');
const workload = tinySpec('tiny');
writeFileSync(spec, JSON.stringify(workload));

test('run prints one screen: verdicts, engines side by side, problems, where the rest is; --verbose adds the tables', async () => {
  try {
    const r = await runCli([
      'run',
      '--workload',
      spec,
      '--variant',
      'reference,sqlite',
      '--modes',
      'legacy,new',
      '--rounds',
      '1',
      '--out',
      tmp,
      '-q',
      '--verbose',
    ]);
    assert.is(r.code, 0, r.stderr);
    const dir = /^results: (.+)$/m.exec(r.stdout)?.[1];
    assert.ok(dir !== undefined, r.stdout);
    const summary = readFileSync(join(dir, 'summary.txt'), 'utf8');
    // --verbose: the screen, then summary.txt as written, then where the run folder is.
    const at = r.stdout.indexOf(summary);
    assert.ok(at > 0, 'summary.txt follows the screen');
    assert.is(r.stdout.slice(at + summary.length), `results: ${dir}\n`);
    const screen = r.stdout.slice(0, at);
    const lines = screen.trimEnd().split('\n');
    assert.ok(lines.length <= 50, `${lines.length} lines`);
    for (const cls of ['M1', 'M6', 'M11']) assert.match(screen, new RegExp(`^  ${cls} +HOLD +not enough evidence`, 'm'));
    assert.is(screen.match(/smallest change it could have seen: not measured/g)?.length, 3);
    assert.match(screen, /^ {2}workload +backend +c +legacy +new +sqlite +ops\/s ratio +p99 ratio$/m);
    assert.match(screen, /^ {2}tiny +memory +c2 +\d+ +\d+ +\d+ +\d+\.\d\dx +\d+\.\d\dx$/m);
    assert.match(screen, /^Failed or diverged: none/m);
    assert.ok(screen.includes(`${dir}/summary.txt`) && screen.includes(`${dir}/gate.html`), screen);
    assert.not.match(screen, /M6\.snapshot_age_commits|p99\.9/, 'no per-field table on the screen');
    assert.match(summary, /M6\.snapshot_age_commits/);
    for (const f of ['gate.json', 'gate.md', 'gate.html']) assert.ok(existsSync(join(dir, f)), f);
    assert.is((JSON.parse(readFileSync(join(dir, 'gate.json'), 'utf8')) as { run_id: string }).run_id, dir.split('/').pop());

    // A failed cell is named on the screen with its cause.
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
    const failed = { ...run, cells: run.cells.map((c, k) => (k === 0 ? { ...c, status: 'failed' as const, failures: ['worker 1 died'] } : c)) };
    const text = firstScreen({ run: failed, runDir: dir, gate: writeGateReports(dir), engineComparison: [] });
    assert.match(text, /; 1 cell\(s\) failed or disagreed\n/);
    assert.match(text, /^Failed or diverged \(1\):\n {2}tiny\.memory\.c2\.legacy {2}failed: worker 1 died$/m);
    assert.match(text, /^ {2}tiny +memory +c2 +FAILED +\d+ +\d+$/m);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("the smallest detectable change: the deciding comparisons' MDEs, none when one is blind, not measured without any", () => {
  const base = compare('reference.tiny.memory.c2', 'throughput_ops_s', 'higher', [100, 101, 99, 100], [110, 111, 109, 112], DEFAULT_GATE, true);
  const c = (mde: number | null, deciding = true) => ({ ...base, mde, deciding });
  assert.is(detectable([]), 'not measured (no performance comparison)');
  assert.is(detectable([c(0.05, false)]), 'not measured (no performance comparison)', 'tails do not decide');
  assert.match(detectable([c(0.05), c(null)]), /^none: /);
  assert.is(detectable([c(0.05)]), '5.0%');
  assert.is(detectable([c(0.12), c(0.3, false), c(0.041)]), '4.1% to 12.0%, by metric (gate.md lists each)');
});

test.run();
