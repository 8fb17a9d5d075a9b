// The external adapter against test/fixtures/line-engine.mjs, through the
// real runner (worker threads, a peer host thread, a peer process per cell
// round): a deterministic workload reaches the state its op streams imply
// (hashed as SQLite hashes it, so the two engines agree), the M6 records the
// peer declares are recorded and the rest listed as not reported. A peer that
// crashes, hangs, writes garbage or malformed field records fails its own
// cell with a cause naming the command; the other cells run, and the CLI
// exits 1. Bad engine flags are usage errors.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineAdapters } from '../../harness/engines/index.ts';
import { planMatrix } from '../../harness/plan/matrix.ts';
import { parseModeSets } from '../../harness/plan/modes.ts';
import { runMatrix, type CellResult } from '../../harness/run/runner.ts';
import { runCli } from '../support/cli.ts';
import { assertRunRefuses } from '../support/usage.ts';
import { expectedRowsHash, tinySpec } from '../support/engines.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sb-external-'));
const PEER = 'node test/fixtures/line-engine.mjs';

async function run(command: string, variants: ('external' | 'sqlite')[], name: string, timeoutMs = 10_000): Promise<CellResult[]> {
  const w = tinySpec(name, { backends: ['memory'], run: { operations: 400 } });
  const groups = planMatrix({ workloads: [w], modeSets: parseModeSets(undefined), variants });
  return runMatrix({
    groups,
    rounds: 1,
    seed: 5,
    faults: {},
    schedule: 'interleaved',
    runDir: join(tmp, name),
    engines: engineAdapters(variants, { command, timeoutMs }),
  });
}

test('line-engine: every op kind, the implied final state, its declared fields recorded', async () => {
  const w = tinySpec('ext-tiny');
  const groups = planMatrix({ workloads: [w], modeSets: parseModeSets(undefined), variants: ['external', 'sqlite'] });
  const results = await runMatrix({
    groups,
    rounds: 2,
    seed: 9,
    faults: {},
    schedule: 'interleaved',
    runDir: join(tmp, 'ok'),
    engines: engineAdapters(['external', 'sqlite'], { command: PEER, timeoutMs: 10_000 }),
  });
  const want = expectedRowsHash(w, 9, 2);
  assert.is(results.length, 4);
  for (const r of results) {
    assert.equal(r.failures, [], r.cell.id);
    assert.equal(
      r.rounds.map((x) => x.state_hash),
      [null, want],
      `${r.cell.id}: final state, after the last round`,
    );
    assert.equal(r.gaps, [], r.cell.id);
  }
  for (const r of results.filter((x) => x.cell.variant === 'external')) {
    const c = r.aggregate.counters;
    for (const k of ['read', 'write', 'concurrent_write', 'prepare', 'checkpoint', 'wait']) assert.ok((c.get(`op.${k}.ok`) ?? 0) > 0, `${r.cell.id}: ${k}`);
    assert.ok(
      (c.get('M6.publish') ?? 0) > 0,
      `${r.cell.id}: the peer's M6 records were recorded (${[...c.keys()].filter((k) => k.startsWith('M6')).join(', ')})`,
    );
    assert.ok(r.not_reported.some((n) => n.startsWith('M1 ')) && !r.not_reported.some((n) => n.startsWith('M6 ')), 'M6 reported, M1 not');
    assert.ok((c.get('errors.busy') ?? 0) > 0, 'a second writer got busy and was retried');
    assert.is(r.engine !== null && 'details' in r.engine ? r.engine.details['engine'] : null, 'line-engine 1.0');
    r.aggregate.destroy();
  }
});

const BAD_PEERS = [
  { does: 'hangs', command: 'node test/fixtures/hang-engine.mjs', cause: /did not answer [a-z_]+ within 150\d ms \(connection \d\)/ },
  { does: 'writes garbage', command: 'node test/fixtures/garbage-engine.mjs', cause: /wrote garbage: "this is not json"/ },
  {
    does: 'reports a malformed field record',
    command: 'LINE_ENGINE_FAIL=fields node test/fixtures/line-engine.mjs',
    cause: /answered commit with a malformed field record: 0\.alloc_ns: M6\.alloc_ns must be a number/,
  },
];
for (const { does, command, cause } of BAD_PEERS) {
  test(`a peer that ${does} fails its cell only`, async () => {
    const results = await run(command, ['external', 'sqlite'], `ext-${does.split(' ')[0]}`, 1500);
    const ext = results.find((r) => r.cell.variant === 'external')!;
    assert.is(ext.status, 'failed');
    assert.ok(ext.failures.length > 0 && ext.failures.every((f) => f.includes(`\`${command}\``) && cause.test(f)), ext.failures.join('\n'));
    const sqlite = results.find((r) => r.cell.variant === 'sqlite')!;
    assert.is(sqlite.status, 'ok', sqlite.failures.join('\n'));
    assert.ok(sqlite.operations > 0);
    for (const r of results) r.aggregate.destroy();
  });
}

test('CLI: a crashing peer fails its cell, keeps what it recorded, the rest runs, exit 1', async () => {
  const w = tinySpec('ext-crash', { backends: ['memory'], run: { operations: 600 } });
  const r = await runCli([
    'run',
    '--workload',
    w.file,
    '--variant',
    'sqlite,external',
    '--engine-cmd',
    'node test/fixtures/crash-engine.mjs',
    '--rounds',
    '1',
    '--json',
    '-q',
    '--out',
    join(tmp, 'cli'),
  ]);
  assert.is(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout) as { cells: { id: string; status: string; failures: string[] }[] };
  const ext = out.cells.find((c) => c.id.startsWith('external.'))!;
  assert.is(ext.status, 'failed');
  assert.ok(
    ext.failures.some((f) => f.includes('`node test/fixtures/crash-engine.mjs` exited with code 3') && f.includes('crashing on exec')),
    ext.failures.join('\n'),
  );
  assert.is(out.cells.find((c) => c.id.startsWith('sqlite.'))!.status, 'ok');
});

test('engine flags are checked, with the cause named (UsageError: exit 2)', async () => {
  await assertRunRefuses(
    [
      [['--variant', 'external'], /--variant external needs --engine-cmd/],
      [['--variant', 'reference,nope'], /--variant 'nope' is not one of reference, sqlite, external/],
      [['--variant', 'sqlite,sqlite'], /--variant lists a variant twice/],
      [['--engine-cmd', PEER], /--engine-cmd and --engine-timeout need --variant external/],
      [['--variant', 'sqlite', '--inject', 'M6.stale_publish=0.1'], /--inject applies to the reference engine only/],
      [['--variant', 'external', '--engine-cmd', PEER, '--engine-timeout', 'soon'], /--engine-timeout must be a positive number/],
    ],
    join(tmp, 'bad'),
  );
});

test.run();
