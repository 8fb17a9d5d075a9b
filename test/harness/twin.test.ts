// The twin arm (--twin, the nightly's speed reference): a real run with one,
// its workload on the frozen engine interleaved with the arms, gives every
// round its reading; it is no result cell, takes no fault of the run's, and
// the run names it as its yardstick. A frozen build's engine errors are
// retried as the live engine's are, though they are another class.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../../engine/index.ts';
import { loadBuild } from '../../harness/engines/build.ts';
import type { EngineConnection } from '../../harness/engines/connection.ts';
import { Driver } from '../../harness/pool/driver.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import { TWIN_LABEL } from '../../harness/plan/modes.ts';
import { twinYardstick } from '../../harness/run/twin.ts';
import { TWIN_BUILD } from '../../harness/runtime/yardstick.ts';
import { loadSuite } from '../../harness/spec/load.ts';
import { runCli } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sb-twin-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a run with --twin: every round read by the twin on the frozen engine, without the run-wide fault, and no twin cell', async () => {
  const r = await runCli([
    'run',
    '--workload',
    'commutative-inserts',
    '--backend',
    'memory',
    '--concurrency',
    '1',
    '--modes',
    'a:legacy,b:legacy',
    // Run-wide: every arm of the run, not the twin (its reading is the machine's speed, not the experiment).
    '--inject',
    'TXN.delay_ns=60000',
    '--rounds',
    '3',
    '--duration',
    '40',
    '--twin',
    '--out',
    dir,
    '--json',
    '-q',
  ]);
  assert.is(r.code, 0, r.stderr);
  const run = JSON.parse(readFileSync(join((JSON.parse(r.stdout) as { run_dir: string }).run_dir, 'run.json'), 'utf8')) as RunRecord;
  assert.is(run.config.yardstick, twinYardstick(TWIN_BUILD));
  assert.equal(run.cells.map((c) => c.mode_set).sort(), ['a', 'b']);
  for (const c of run.cells) {
    assert.is(c.status, 'ok', c.failures.join('; '));
    assert.is(c.rounds.length, 3);
    for (const round of c.rounds) {
      const p50 = round.latency_ns['concurrent_write']!.p50;
      // The arms carry 60 µs of injected work per transaction; the twin, on the same operations, does not.
      assert.ok(typeof round.yardstick_ns === 'number' && round.yardstick_ns > 0 && p50 > round.yardstick_ns + 40_000, `${p50} vs ${round.yardstick_ns}`);
    }
  }
  // The schedule the run record keeps is the one that ran: the twin is one of its arms, in every round's order.
  const schedule = run.cells[0]!.schedule!;
  assert.equal(schedule.arms, ['a', 'b', TWIN_LABEL]);
  for (const round of schedule.rounds) assert.equal([...round.order].sort(), ['a', 'b', TWIN_LABEL]);
});

test("a frozen build's retryable EngineError is retried like the live engine's", async () => {
  const frozen = await loadBuild(TWIN_BUILD.file);
  assert.is.not(frozen.EngineError, EngineError, 'another class: instanceof would not know it');
  const spec = loadSuite().find((w) => w.spec.name === 'hot-page-contention')!.spec;
  let attempts = 0;
  const conn: EngineConnection = {
    inTransaction: false,
    begin() {},
    exec() {
      attempts++;
      if (attempts === 1) throw new frozen.EngineError('busy', 'page locked');
      return 0;
    },
    commit() {},
    rollback() {},
    schemaChange() {},
    checkpoint() {},
    prepare: () => ({ run: () => 0 }),
    waitForCommit: () => true,
    visibleCommitSeq: () => 0,
    close() {},
  };
  const codes: string[] = [];
  const outcome = new Driver(conn, spec, 0, (code) => codes.push(code)).execute({ kind: 'read', keys: [1], deltas: [] });
  assert.equal(outcome, { error: null, retries: 1 });
  assert.equal(codes, ['busy']);
});

test.run();
