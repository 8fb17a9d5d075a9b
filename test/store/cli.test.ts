// `shadowbench store migrate|status|check [--json]` on real SQLite and
// PostgreSQL stores, the store URL forms, and password redaction: a password
// in the URL never appears in any output, success or failure.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { storeVerb } from '../../harness/cli/store.ts';
import { UsageError } from '../../harness/cli/verb.ts';
import { DEFAULT_STORE, StoreError, redactUrl, storeTarget } from '../../harness/store/connect.ts';
import { LATEST_VERSION } from '../../harness/store/migrations/index.ts';
import { freshPgDatabase, sharedPostgres } from './databases.ts';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await storeVerb.run(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

test('store URLs: file paths, sqlite:// and postgres://, flag over environment over default', () => {
  assert.equal(storeTarget(undefined, {}), { dialect: 'sqlite', path: resolve(DEFAULT_STORE) });
  assert.equal(storeTarget(undefined, { SHADOWBENCH_STORE_URL: 'x/y.db' }), { dialect: 'sqlite', path: resolve('x/y.db') });
  assert.equal(storeTarget('sqlite:///tmp/a.db', { SHADOWBENCH_STORE_URL: 'x/y.db' }), { dialect: 'sqlite', path: '/tmp/a.db' });
  assert.equal(storeTarget('sqlite://rel.db', {}), { dialect: 'sqlite', path: resolve('rel.db') });
  assert.equal(storeTarget('postgres://u:p@h/db', {}), { dialect: 'postgres', url: 'postgres://u:p@h/db' });
  assert.throws(
    () => storeTarget('mysql://u:hunter2@h/db', {}),
    (e: unknown) => e instanceof StoreError && !(e as Error).message.includes('hunter2'),
  );
  assert.is(redactUrl('postgres://u:hunter2@h:5432/db?password=x'), 'postgres://u:***@h:5432/db?password=***');
  assert.is(redactUrl('postgres://u@h/db'), 'postgres://u@h/db');
});

test('sqlite: status, migrate, check in text and --json; check fails on an unmigrated store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbtest-cli-'));
  const db = join(dir, 'nested', 'store.db');
  try {
    let r = await cli('status', '--store', db, '--json');
    assert.is(r.code, 0);
    assert.is(JSON.parse(r.out).current, 0);
    r = await cli('check', '--store', db);
    assert.is(r.code, 1);
    assert.match(r.out, 'SQLMODEL_VERSION_COMPAT_FAIL');
    assert.match(r.out, 'FAIL:');
    r = await cli('migrate', '--store', `sqlite://${db}`);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, `applied 1 initial`);
    assert.match(r.out, `applied 2 nightly baselines and metric annotations`);
    assert.match(
      r.out,
      `applied 3 runs queryable by nightly and hardware; engine comparison and not-reported classes kept (backfilled nightly and hardware_signature of 0 run(s))`,
    );
    assert.match(r.out, `schema version ${LATEST_VERSION} of ${LATEST_VERSION} (up to date)`);
    r = await cli('check', '--store', db, '--json');
    assert.is(r.code, 0, r.out);
    const report = JSON.parse(r.out);
    assert.is(report.schema, 'shadowbench.store-check/1');
    assert.ok(report.summary.passed);
    assert.match(report.summary.trace_correlation, /^[0-9a-f]{64}$/);
    r = await cli('migrate', '--store', db, '--to', '0', '--json');
    assert.is(r.code, 0);
    assert.equal(
      JSON.parse(r.out).steps.map((s: { direction: string; version: number }) => `${s.direction}${s.version}`),
      ['down3', 'down2', 'down1'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('postgres: migrate and check via the environment; the password never shows', async () => {
  const server = await sharedPostgres();
  const fresh = await freshPgDatabase(server);
  const secret = 'Sup3rSecretPw';
  const url = server.url(new URL(fresh.url).pathname.slice(1), secret);
  const before = process.env.SHADOWBENCH_STORE_URL;
  process.env.SHADOWBENCH_STORE_URL = url;
  try {
    const outputs: string[] = [];
    for (const argv of [['status'], ['migrate'], ['check'], ['check', '--json'], ['status', '--json']]) {
      const r = await cli(...argv);
      assert.is(r.code, 0, `${argv.join(' ')}: ${r.err}${r.out}`);
      outputs.push(r.out, r.err);
    }
    assert.match(outputs.join(''), 'postgres://postgres:***@127.0.0.1');
    assert.not.ok(outputs.join('').includes(secret));
    // A server that is not there: refused (exit 2), still without the password.
    const r = await cli('status', '--store', `postgres://postgres:${secret}@127.0.0.1:1/none`);
    assert.is(r.code, 2);
    assert.match(r.err, 'shadowbench store status: cannot reach the PostgreSQL at 127.0.0.1:1');
    assert.not.ok(r.err.includes(secret) || r.out.includes(secret));
  } finally {
    if (before === undefined) delete process.env.SHADOWBENCH_STORE_URL;
    else process.env.SHADOWBENCH_STORE_URL = before;
    await fresh.drop();
  }
});

test('usage errors', async () => {
  for (const argv of [[], ['frobnicate'], ['status', '--to', '1'], ['migrate', '--to', 'x'], ['check', 'extra']]) {
    let err: unknown;
    try {
      await cli(...argv);
    } catch (e) {
      err = e;
    }
    assert.instance(err, UsageError, argv.join(' '));
  }
});

test.run();
