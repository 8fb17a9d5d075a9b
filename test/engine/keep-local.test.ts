// The keep-local classes (M2–M5, M7–M10, M12) and the typed errors: each
// card's invalidation rule, observed through the field records it emits.
// Two connections in one thread are enough here: nothing below races.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, EngineError, type Connection, type Database, type FieldRecord, type MetadataClass, type RecordByClass } from '../../engine/index.ts';

function recorder() {
  const records: FieldRecord[] = [];
  return {
    hook: (r: FieldRecord) => records.push(r),
    of<C extends MetadataClass>(cls: C): RecordByClass[C][] {
      return records.filter((r) => r.metadata_class === cls) as RecordByClass[C][];
    },
    clear: () => records.splice(0),
  };
}

function memoryDb(): Database {
  return openDatabase({ backend: 'memory', pageCount: 64, columns: ['balance'] });
}

function fileDb(): Database {
  return openDatabase({ backend: 'file', path: join(mkdtempSync(join(tmpdir(), 'sb-keep-')), 'db'), pageCount: 64, columns: ['balance'], fsync: 'off' });
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof EngineError) return err.code;
    throw err;
  }
  return 'none';
}

test('M2: every statement binds a fresh copy with its own statement_id', () => {
  const db = memoryDb();
  const rec = recorder();
  const a = db.connect({ hook: rec.hook });
  const b = db.connect();
  a.exec('SELECT balance FROM 1');
  b.exec('UPDATE 1 SET balance = 5');
  a.exec('SELECT balance FROM 1');
  const binds = rec.of('M2');
  assert.is(binds.length, 2);
  assert.is(binds[1]!.statement_id, binds[0]!.statement_id + 1);
  assert.is(binds[1]!.visible_commit_seq, binds[0]!.visible_commit_seq + 1, "another connection's commit is visible after a fresh bind");
  assert.is(binds[0]!.is_memory, true);
});

test('M3 + M12 + M10: a DDL on another connection forces reprepare, recompile and an engine rebuild', () => {
  const db = memoryDb();
  const rec = recorder();
  const a = db.connect({ hook: rec.hook });
  const b = db.connect();
  a.exec('SELECT balance FROM 2');
  a.exec('SELECT balance FROM 2');
  assert.ok(
    rec.of('M12').some((r) => r.operation === 'compile_hit'),
    'warm hit on repeat',
  );
  assert.ok(rec.of('M10').some((r) => r.operation === 'reuse' && r.cache_hit));
  rec.clear();
  b.schemaChange('ALTER ADD COLUMN extra');
  b.exec('UPDATE 2 SET extra = 9');
  assert.is(a.exec('SELECT extra FROM 2'), 9);
  assert.ok(rec.of('M3').some((r) => r.operation === 'check' && r.reprepare_triggered));
  assert.ok(rec.of('M12').some((r) => r.operation === 'invalidate'));
  assert.ok(rec.of('M10').some((r) => r.operation === 'rebuild'));
  rec.clear();
  const c = db.connect({ hook: rec.hook });
  c.exec('SELECT extra FROM 2');
  assert.ok(
    rec.of('M12').some((r) => r.operation === 'parse_miss' && r.lane_id === c.slot),
    'no cross-connection cache leakage',
  );
});

test('M4: a parked read snapshot is reused until a commit or a write boundary', () => {
  const db = memoryDb();
  const rec = recorder();
  const a = db.connect({ hook: rec.hook });
  const b = db.connect();
  for (let i = 0; i < 3; i++) {
    a.begin('read');
    a.exec('SELECT balance FROM 3');
    a.commit();
  }
  assert.is(rec.of('M4').filter((r) => r.operation === 'reuse' && r.cache_hit).length, 2);
  b.exec('UPDATE 3 SET balance = 1');
  rec.clear();
  a.begin('read');
  assert.is(a.exec('SELECT balance FROM 3'), 1, 'never a stale parked snapshot');
  a.commit();
  assert.ok(rec.of('M4').some((r) => r.operation === 'invalidate' && !r.cookie_match));
  rec.clear();
  a.begin('write');
  a.rollback();
  assert.ok(
    rec.of('M4').some((r) => r.operation === 'invalidate'),
    'a write boundary invalidates',
  );
});

test('M5: repeated :memory: writes reuse the retained txn; a remote commit or DDL invalidates; file never parks', () => {
  const db = memoryDb();
  const rec = recorder();
  const a = db.connect({ hook: rec.hook });
  const b = db.connect();
  for (let i = 0; i < 4; i++) a.exec('UPDATE 4 SET balance = balance + 1');
  assert.is(rec.of('M5').filter((r) => r.operation === 'reuse').length, 3);
  b.exec('UPDATE 5 SET balance = 1');
  rec.clear();
  a.exec('UPDATE 4 SET balance = balance + 1');
  assert.ok(rec.of('M5').some((r) => r.operation === 'invalidate' && !r.cookie_match));
  a.schemaChange('ALTER ADD COLUMN x');
  rec.clear();
  a.exec('UPDATE 4 SET balance = balance + 1');
  assert.not.ok(
    rec.of('M5').some((r) => r.operation === 'reuse'),
    'DDL dropped the retained txn',
  );
  assert.is(a.exec('SELECT balance FROM 4'), 6);

  const f = fileDb();
  const frec = recorder();
  const fa = f.connect({ hook: frec.hook });
  for (let i = 0; i < 3; i++) fa.exec('UPDATE 4 SET balance = balance + 1');
  assert.is(frec.of('M5').length, 0, 'file-backed paths never route through M5');
});

test('M7 + M8: a reader refreshes after another writer appends, and rebuilds after a checkpoint', () => {
  const db = fileDb();
  const rec = recorder();
  const a = db.connect({ hook: rec.hook });
  const b = db.connect();
  a.exec('SELECT balance FROM 1');
  rec.clear();
  b.exec('UPDATE 1 SET balance = 3');
  b.exec('UPDATE 2 SET balance = 4');
  assert.is(a.exec('SELECT balance FROM 1'), 3);
  const refresh = rec.of('M7').find((r) => r.operation === 'refresh');
  assert.ok(refresh !== undefined && refresh.frame_count >= 2 && !refresh.rebuild_required, "caught up to the other writer's frames");
  rec.clear();
  assert.ok(b.checkpoint() >= 2);
  assert.is(a.exec('SELECT balance FROM 2'), 4);
  assert.ok(
    rec.of('M8').some((r) => r.operation === 'compare' && r.salts_changed),
    'checkpoint changes the generation identity',
  );
  assert.ok(rec.of('M7').some((r) => r.operation === 'refresh' && r.rebuild_required && r.frame_count === 0));
});

test('M9: a remote commit invalidates the local MemDB view; local commits advance the gate', () => {
  const db = memoryDb();
  const rec = recorder();
  const a = db.connect({ hook: rec.hook });
  const b = db.connect();
  a.exec('UPDATE 6 SET balance = 1');
  rec.clear();
  a.exec('UPDATE 6 SET balance = 2');
  assert.not.ok(
    rec.of('M9').some((r) => r.stale_detected),
    'own commit kept the gate current',
  );
  b.exec('UPDATE 6 SET balance = 3');
  rec.clear();
  assert.is(a.exec('SELECT balance FROM 6'), 3);
  assert.ok(rec.of('M9').some((r) => r.operation === 'refresh' && r.refresh_reason === 'remote_commit'));
});

test('typed errors: write_conflict (first committer wins), busy (page lock), schema_changed', () => {
  const db = memoryDb();
  const a: Connection = db.connect();
  const b: Connection = db.connect();
  a.begin('concurrent');
  b.begin('concurrent');
  a.exec('UPDATE 7 SET balance = 1');
  assert.is(
    code(() => b.exec('UPDATE 7 SET balance = 2')),
    'busy',
    'page lock held by a',
  );
  b.exec('UPDATE 8 SET balance = 2');
  a.commit();
  b.rollback();
  b.begin('concurrent');
  a.exec('UPDATE 9 SET balance = 1');
  b.exec('UPDATE 9 SET balance = 2');
  assert.is(
    code(() => b.commit()),
    'write_conflict',
  );
  assert.is(b.inTransaction, false, 'a failed commit rolls back');
  b.begin('concurrent');
  b.exec('UPDATE 10 SET balance = 1');
  a.schemaChange('ALTER ADD COLUMN y');
  assert.is(
    code(() => b.commit()),
    'schema_changed',
  );
  assert.is(
    code(() => a.exec('SELECT nope FROM 1')),
    'misuse',
  );
  assert.is(
    code(() => a.prepare('DELETE FROM 1')),
    'misuse',
  );
  assert.is(a.prepare('SELECT balance FROM ?').run([9]), 1);
});

test.run();
