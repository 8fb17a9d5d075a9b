// shadow_compare's policy knobs: the sampled fraction (deterministic per
// transaction, keyed by its trace_id) and the allowed-difference policy a
// card declares. Single-threaded: a stale publication is visible to the
// next transaction of any connection.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openDatabase, EngineError, type FieldRecord, type M6Record } from '../../engine/index.ts';

function staleRun(options: { shadowSampleRatio?: number; allowed?: string[]; seed?: number }): M6Record[] {
  const db = openDatabase({
    backend: 'memory',
    pageCount: 64,
    modes: { M1: 0, M6: 1, M11: 0 },
    faults: { M6: { stale_publish: 1 } },
    seed: options.seed ?? 1,
    ...(options.shadowSampleRatio === undefined ? {} : { shadowSampleRatio: options.shadowSampleRatio }),
    ...(options.allowed === undefined ? {} : { shadowAllowedDifferences: { M6: options.allowed } }),
  });
  const records: FieldRecord[] = [];
  const c = db.connect({ hook: (r) => records.push(r) });
  // Each read after a commit binds M6 afresh (M5 keeps the writes on their retained transaction).
  for (let i = 0; i < 400; i++) {
    c.exec('UPDATE ? SET value = value + 1', [1 + (i % 10)]);
    c.exec('SELECT value FROM ?', [1 + (i % 10)]);
  }
  c.close();
  return records.filter((r): r is M6Record => r.metadata_class === 'M6' && r.operation !== 'publish');
}

test('full sampling compares every transaction; every stale publication diverges', () => {
  const binds = staleRun({});
  assert.ok(binds.length >= 400);
  assert.ok(binds.every((r) => r.operation === 'shadow_compare'));
  assert.ok(binds.filter((r) => r.shadow_verdict === 'diverged').length > 300);
});

test('a sampled fraction compares about that share of transactions, the same ones for the same seed, keyed by trace_id', () => {
  const half = staleRun({ shadowSampleRatio: 0.5 });
  const compared = half.filter((r) => r.operation === 'shadow_compare');
  const share = compared.length / half.length;
  assert.ok(share > 0.35 && share < 0.65, `about half compared: ${share}`);
  assert.ok(
    half.filter((r) => r.operation === 'read').every((r) => r.shadow_verdict === 'none' && r.control_mode === 'shadow_compare'),
    'the rest run the legacy path alone',
  );
  for (const r of compared) assert.ok(Number.parseInt(r.trace_id.slice(0, 8), 16) < 0.5 * 2 ** 32, "the decision is the trace_id's");
  const again = staleRun({ shadowSampleRatio: 0.5 });
  assert.equal(
    again.map((r) => r.operation),
    half.map((r) => r.operation),
    'deterministic for a seed',
  );
  assert.is(staleRun({ shadowSampleRatio: 0 }).filter((r) => r.operation === 'shadow_compare').length, 0);
});

test('the allowed-difference policy is what the comparison ignores, and nothing else', () => {
  // Once the ten rows exist, a stale publication differs from the truth in
  // visible_commit_seq only; while the first writes grow the database it also
  // differs in db_size and freelist_count, which stay judged.
  const allowed = staleRun({ allowed: ['visible_commit_seq'] });
  const flagged = allowed.filter((r) => r.shadow_verdict === 'diverged');
  assert.ok(flagged.length <= 10, `only the growing commits diverge (${flagged.length})`);
  for (const r of flagged)
    assert.equal(
      r.diverged_fields?.map((f) => f.field),
      ['db_size', 'freelist_count'],
    );
  const timing = staleRun({ allowed: ['alloc_ns', 'snapshot_age_commits'] });
  assert.ok(timing.filter((r) => r.shadow_verdict === 'diverged').length > 300, 'allowing timing fields hides no real divergence');
  const d = timing.filter((r) => r.shadow_verdict === 'diverged').at(-1)!;
  assert.equal(
    d.diverged_fields?.map((f) => f.field),
    ['visible_commit_seq'],
  );
});

test('a policy naming an unknown field or class is a config error', () => {
  for (const bad of [{ M6: ['nope'] }, { M2: ['x'] }]) {
    try {
      openDatabase({ backend: 'memory', pageCount: 16, shadowAllowedDifferences: bad as never });
      assert.unreachable('accepted');
    } catch (err) {
      assert.instance(err, EngineError);
      assert.is((err as EngineError).code, 'config');
      assert.match((err as Error).message, /shadowAllowedDifferences/);
    }
  }
  assert.throws(() => openDatabase({ backend: 'memory', pageCount: 16, shadowSampleRatio: 2 }), /shadowSampleRatio/);
});

test.run();
