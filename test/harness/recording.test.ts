// Allocation-free recording: the bucket layout is HdrHistogram's, every row
// kind the engine writes carries its card's required fields, and head
// sampling keeps whole transactions, decided by trace id.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as hdr from 'hdr-histogram-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, REQUIRED_FIELDS, type FieldRecord, type Connection } from '../../engine/index.ts';
import { Xorshift32 } from '../../harness/shared/random.ts';
import { bucketIndex, bucketValue, bucketWidth, BucketCounts } from '../../harness/record/bucket-counts.ts';
import { Recorder } from '../../harness/record/recorder.ts';
import { attemptErrorKey, opKey, parseKey, recordKey, winsorizedKey } from '../../harness/record/keys.ts';
import { CARDS } from '../../harness/cards/cards.ts';

test("bucket indexes are HdrHistogram's (3 significant digits), from 0 to 60 s in ns", () => {
  const h = hdr.build({
    bitBucketSize: 64,
    numberOfSignificantValueDigits: 3,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60e9,
    autoResize: false,
    useWebAssembly: false,
  }) as hdr.JsHistogram;
  const rng = new Xorshift32(7);
  const values = [0, 1, 2047, 2048, 2049, 4095, 4096, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 59e9, 60e9];
  for (let i = 0; i < 20_000; i++) values.push(Math.floor(Math.exp(rng.next() * Math.log(60e9))));
  for (const v of values) {
    const i = bucketIndex(v);
    assert.is(i, h.countsArrayIndex(v), `index of ${v}`);
    assert.ok(bucketValue(i) <= v && v < bucketValue(i) + bucketWidth(i), `${v} within bucket ${i} [${bucketValue(i)}, +${bucketWidth(i)})`);
    assert.is(bucketValue(i), h.lowestEquivalentValue(v), `lowest value of ${v}'s bucket`);
  }
});

test("a window's buckets are exactly the values recorded, and values above the range count at its top", () => {
  const b = new BucketCounts(1e9);
  const want = hdr.build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 2, autoResize: true, useWebAssembly: false });
  const rng = new Xorshift32(3);
  for (let i = 0; i < 5000; i++) {
    const v = Math.floor(Math.exp(rng.next() * Math.log(1e9)));
    b.record(v);
    want.recordValue(v);
  }
  b.record(5e12);
  want.recordValue(1e9);
  assert.is(b.valueAtPercentile(50), want.getValueAtPercentile(50));
  const s = b.take()!;
  const got = hdr.build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 2, autoResize: true, useWebAssembly: false });
  for (let k = 0; k < s.index.length; k++) got.recordValueWithCount(bucketValue(s.index[k]!), s.count[k]!);
  assert.is(got.totalCount, 5001);
  for (const p of [0, 10, 50, 90, 99, 99.9, 100]) assert.is(got.getValueAtPercentile(p), want.getValueAtPercentile(p), `p${p}`);
  assert.is(b.take(), null, 'take() empties the window');
});

/** Drives every kind of operation the harness runs, on a memory and a file database. */
function exercise(connect: (db: ReturnType<typeof openDatabase>) => Connection, dir: string): void {
  for (const backend of ['memory', 'file'] as const) {
    const db = openDatabase({
      backend,
      seed: backend === 'file' ? 2 : 1,
      path: backend === 'file' ? join(dir, 'x.db') : null,
      pageCount: 64,
      columns: ['balance'],
      modes: { M1: 1, M6: 1, M11: 1 },
    });
    const c = connect(db);
    for (let i = 1; i <= 40; i++) {
      c.begin(i % 3 === 0 ? 'read' : i % 3 === 1 ? 'write' : 'concurrent');
      if (i % 3 === 0) c.exec('SELECT balance FROM ?', [1 + (i % 7)]);
      else c.exec('UPDATE ? SET balance = balance + ?', [1 + (i % 7), 1]);
      c.commit();
      if (i % 10 === 0) c.schemaChange(`ALTER ${i % 20 === 0 ? 'DROP' : 'ADD'} COLUMN x${i % 20 === 0 ? i - 10 : i}`);
      if (i % 13 === 0) c.checkpoint();
      if (i % 11 === 0) c.prepare(`SELECT balance FROM ${i % 5}`).run();
      if (i % 17 === 0) c.waitForCommit(c.visibleCommitSeq() + 1, 1);
    }
    c.close();
  }
}

test("every record the engine writes carries its card's required fields", () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-rec-'));
  try {
    const records: FieldRecord[] = [];
    exercise((db) => db.connect({ hook: (r) => records.push(r) }), dir);
    const kinds = new Set(records.map((r) => `${r.metadata_class}.${r.operation}`));
    assert.ok(kinds.size >= 25, `${kinds.size} kinds seen: ${[...kinds].join(' ')}`);
    for (const r of records) {
      const f = r as unknown as Record<string, unknown>;
      for (const field of REQUIRED_FIELDS[r.metadata_class]) assert.ok(f[field] !== undefined, `${r.metadata_class}.${r.operation} lacks ${field}`);
      assert.match(r.trace_id, /^[0-9a-f]{32}$/);
      assert.ok(r.end_ns >= r.start_ns && r.start_ns > 1.6e18, `${r.metadata_class}.${r.operation}: times ${r.start_ns}..${r.end_ns}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('head sampling keeps whole transactions, chosen by trace id; unsampled ones leave no record object', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-rec-'));
  try {
    // The same seeded workload twice: once every record through the hook, once through a recorder sampling 20%.
    const all: FieldRecord[] = [];
    exercise((db) => db.connect({ hook: (r) => all.push(r) }), dir);
    rmSync(join(dir, 'x.db'), { force: true });
    rmSync(join(dir, 'x.db-wal'), { force: true });
    const recorder = new Recorder(0, { sampleRatio: 0.2, timeRatio: 0 });
    recorder.active = true;
    let t = 1;
    const samples: FieldRecord[] = [];
    exercise((db) => {
      const c = db.connect({ sink: recorder.sink });
      // Every call is an operation of its own for the recorder, as the driver makes it.
      return new Proxy(c, {
        get(target, key, receiver) {
          const v = Reflect.get(target, key, receiver) as unknown;
          if (typeof v !== 'function') return v;
          return (...args: unknown[]) => {
            const out = (v as (...a: unknown[]) => unknown).apply(target, args);
            recorder.op('read', t, t, t + 0.001, null, 0);
            samples.push(...recorder.flush().samples);
            t += 1;
            return out;
          };
        },
      });
    }, dir);
    const byTrace = (rs: FieldRecord[]): Map<string, number> => {
      const m = new Map<string, number>();
      for (const r of rs) m.set(r.trace_id, (m.get(r.trace_id) ?? 0) + 1);
      return m;
    };
    const want = byTrace(all.filter((r) => parseInt(r.trace_id.slice(8, 16), 16) < 0.2 * 2 ** 32));
    const got = byTrace(samples);
    assert.ok(want.size > 3, `${want.size} sampled transactions`);
    assert.equal([...got].sort(), [...want].sort(), 'the sampled transactions, each with all its records');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every figure a recorder names reads back as a typed key, and the cards name figures that exist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-keys-'));
  try {
    const recorder = new Recorder(0, { sampleRatio: 1, timeRatio: 1 });
    recorder.active = true;
    const names = new Set<string>();
    exercise((db) => db.connect({ sink: recorder.sink }), dir);
    recorder.op('write', 1, 1, 1.001, 'busy', 1);
    recorder.count(attemptErrorKey('busy'));
    const w = recorder.flush();
    for (const k of Object.keys(w.counters)) names.add(k);
    for (const k of Object.keys(w.histograms)) names.add(k);
    const unknown = [...names].filter((n) => parseKey(n).kind === 'other' && !n.startsWith('samples.'));
    assert.equal(unknown, [], 'names parseKey cannot read');
    const kinds = new Set([...names].map((n) => parseKey(n).kind));
    for (const k of ['op', 'op_error', 'attempt_error', 'record_count', 'duration', 'field', 'value', 'op_flag'] as const)
      assert.ok(kinds.has(k), `a ${k} key was recorded`);
    assert.equal(parseKey(opKey.error('write', 'busy')), { kind: 'op_error', op: 'write', code: 'busy' });
    assert.equal(parseKey(winsorizedKey(recordKey.field('M6', 'alloc_ns'))), { kind: 'field', cls: 'M6', field: 'alloc_ns', figure: 'wsum' });
    assert.equal(parseKey(recordKey.gap('M11', 'shard_id')), { kind: 'gap', cls: 'M11', field: 'shard_id' });
    assert.equal(parseKey(recordKey.opFlag('M4', 'reuse', 'cookie_match', false)), {
      kind: 'op_flag',
      cls: 'M4',
      operation: 'reuse',
      field: 'cookie_match',
      value: false,
    });
    for (const card of Object.values(CARDS)) {
      for (const z of card.zero_contracts ?? []) assert.is.not(parseKey(z).kind, 'other', `${card.metadata_class} zero contract ${z}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
