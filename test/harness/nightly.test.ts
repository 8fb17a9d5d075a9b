// `shadowbench nightly` end to end through the real CLI and a real store
// (SQLite, then PostgreSQL): the first night has no baseline and accepts
// itself; a night with a large injected slowdown on the M6 path exits 1 with
// the regression named; a mute, with its reason, turns that into exit 0 and
// the report shows the reason; bad input exits 2 before any run starts.
// The cells are short (one workload, c1, 100 ms rounds) and the slowdown is
// large (tens of times), so the verdicts hold on a loaded machine.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { freshPgDatabase, sharedPostgres } from '../store/databases.ts';

const CELL = 'reference.commutative-inserts.memory.c1.legacy';
const SHAPE = ['--workload', 'commutative-inserts', '--backend', 'memory', '--concurrency', '1', '--modes', 'legacy', '--duration', '100', '-q'];
// One night of history cannot tell noise from change: this test judges from the first night.
const SLOW = ['--inject', 'M6.delay_ns=300000', '--noise-nights', '0'];

interface Night {
  code: number;
  report: {
    exit_code: number;
    outcome: string;
    reasons: string[];
    baseline: { run_id: string | null; why_not: string | null };
    findings: { key: string; status: string; note: string | null }[];
  };
  stderr: string;
}

async function nightly(store: string, out: string, extra: string[]): Promise<Night> {
  const r = await runCli(['nightly', ...SHAPE, '--store', store, '--out', out, '--json', ...extra]);
  assert.ok(r.stdout.trim().startsWith('{'), `nightly printed JSON (exit ${r.code}): ${r.stderr}`);
  return { code: r.code, report: JSON.parse(r.stdout) as Night['report'], stderr: r.stderr };
}

async function scenario(store: string, out: string): Promise<void> {
  const first = await nightly(store, out, ['--accept']);
  assert.is(first.code, 0, first.report.reasons.join('\n'));
  assert.is(first.report.baseline.run_id, null);
  assert.match(first.report.baseline.why_not!, /accept one with --accept/);
  assert.match(first.stderr, /accepted .* as baseline 'nightly'/);
  const status = await runCli(['nightly', 'status', '--store', store, '--json']);
  assert.is(status.code, 0, status.stderr);
  const accepted = JSON.parse(status.stdout) as { baseline: string; nights: string[] };
  assert.is(accepted.nights.length, 1);
  assert.is(accepted.baseline, accepted.nights[0]);

  const slow = await nightly(store, out, SLOW);
  assert.is(slow.code, 1, JSON.stringify(slow.report.findings));
  assert.is(slow.report.outcome, 'regression');
  assert.is(slow.report.baseline.run_id, accepted.baseline);
  // Median latency is the steadiest figure on a loaded machine; throughput and p99 may come out too noisy to judge.
  assert.ok(
    slow.report.findings.some((f) => f.key === `${CELL}:concurrent_write.latency_p50_ns` && f.status === 'regressed'),
    JSON.stringify(slow.report.findings),
  );
  assert.ok(
    slow.report.reasons.some((x) => x.startsWith(`regression against baseline ${accepted.baseline}: ${CELL}:`)),
    slow.report.reasons.join('\n'),
  );

  const mute = await runCli(['nightly', 'mute', `${CELL}:*`, '--reason', 'delay injected on purpose', '--by', 'tester', '--store', store]);
  assert.is(mute.code, 0, mute.stderr);
  const muted = await nightly(store, out, SLOW);
  assert.is(muted.code, 0, muted.report.reasons.join('\n'));
  assert.ok(muted.report.findings.filter((f) => f.key.startsWith(CELL)).every((f) => f.status === 'muted'));
  const runDir = readdirSync(out)
    .filter((d) => !d.endsWith('.db'))
    .sort()
    .at(-1)!;
  const md = readFileSync(join(out, runDir, 'nightly.md'), 'utf8');
  assert.match(md, /muted `reference\.commutative-inserts\.memory\.c1\.legacy:\*` \(\d+ metric\(s\)\) by tester .*: delay injected on purpose/);
  for (const f of ['nightly.json', 'gate.json', 'gate.md', 'gate.html']) assert.ok(existsSync(join(out, runDir, f)), f);
}

test('sqlite store: accept, regression (exit 1), mute with a reason (exit 0)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-nightly-'));
  try {
    await scenario(join(dir, 'store.db'), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('postgres store: the same nights', async () => {
  const db = await freshPgDatabase(await sharedPostgres());
  const dir = mkdtempSync(join(tmpdir(), 'sb-nightly-pg-'));
  try {
    // A PostgreSQL store is migrated explicitly, never implicitly.
    const m = await runCli(['store', 'migrate', '--store', db.url]);
    assert.is(m.code, 0, m.stderr);
    await scenario(db.url, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  }
});

test('bad input exits 2 and starts no run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-nightly-bad-'));
  try {
    const store = join(dir, 'store.db');
    const cases: [string[], RegExp][] = [
      [['nightly', ...SHAPE, '--store', 'ftp://example.com/x', '--out', dir], /store URL scheme not supported: 'ftp:\/\/example\.com\/x'/],
      [['nightly', 'mute', `${CELL}:*`, '--store', store], /--reason is required/],
      [['nightly', 'ack', `${CELL}:throughput_ops_s`, '--reason', 'x', '--store', store], /--at <run-id> is required/],
      [['nightly', 'ack', `${CELL}:throughput_ops_s`, '--at', 'no-such-run', '--reason', 'x', '--store', store], /--at no-such-run: no such run in the store/],
      [['nightly', 'mute', 'not-a-metric', '--reason', 'x', '--store', store], /'not-a-metric' is not <cell-id>:<metric>/],
      [['nightly', 'frobnicate'], /unknown subcommand 'frobnicate'/],
      [['nightly', 'accept', 'nope', '--store', store], /no run nope in the store/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal(
      readdirSync(dir).filter((d) => !d.startsWith('store.db')),
      [],
      'no run folder was made',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a report that cannot be written exits 2, says which and why, and still prints the report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-nightly-unwritable-'));
  try {
    // A directory where the summary file should be: the write fails with EISDIR.
    const r = await runCli(['nightly', ...SHAPE, '--store', join(dir, 'store.db'), '--out', dir, '--json', '--summary', dir]);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot write ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: EISDIR`));
    assert.match(r.stderr, /the run folder and the store keep the run; the report is on stdout/);
    assert.is((JSON.parse(r.stdout) as { format: string }).format, 'shadowbench-nightly');
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--help documents the subcommands and exit codes', async () => {
  const r = await runCli(['nightly', '--help']);
  assert.is(r.code, 0);
  for (const s of ['accept <run-id>', 'ack <metric> --at <run-id>', 'mute <metric>', 'Exit status: 0 no regression, 1', '--summary FILE'])
    assert.ok(r.stdout.includes(s), s);
});

test.run();
