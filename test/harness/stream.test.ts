// Operation streams: deterministic per (spec, seed, connection), following
// the mix weights and the key distribution; traces replay the same ops in
// the same order, with null at the warm-up mark and at the end.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { opStream, type Op } from '../../harness/ops/stream.ts';
import { TraceWriter, traceStream } from '../../harness/ops/trace.ts';
import { workloadSpecSchema, type WorkloadInput, type WorkloadSpec } from '../../harness/spec/schema.ts';

function spec(over: Partial<WorkloadInput> = {}): WorkloadSpec {
  return workloadSpecSchema.parse({
    name: 'stream-test',
    description: 'op stream test',
    serves: { classes: ['M6'], verification: ['x'] },
    backends: ['memory'],
    concurrency: [4],
    fixture: { rows: 1000 },
    mix: { read: 2, concurrent_write: 1 },
    keys: { distribution: 'uniform' },
    run: { operations: 100 },
    ...over,
  });
}

function take(s: { next(): Op | null }, n: number): Op[] {
  const out: Op[] = [];
  for (let i = 0; i < n; i++) {
    const op = s.next();
    if (op === null) throw new Error(`stream ended after ${i} ops`);
    out.push(op);
  }
  return out;
}

function keyCounts(ops: readonly Op[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const op of ops) for (const k of op.keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

test('same seed and connection: identical first 1000 ops; another seed or connection: different', () => {
  const s = spec({ mix: { read: 2, write: 1, concurrent_write: 1, prepare: 1, wait: 0.5, ddl: 0.1, checkpoint: 0.1 } });
  const a = take(opStream(s, 42, 1, 4), 1000);
  const b = take(opStream(s, 42, 1, 4), 1000);
  assert.equal(a, b);
  assert.not.equal(take(opStream(s, 43, 1, 4), 1000), a);
  assert.not.equal(take(opStream(s, 42, 2, 4), 1000), a);
  // The workload's name is part of the seed too.
  assert.not.equal(take(opStream({ ...s, name: 'other-name' }, 42, 1, 4), 1000), a);
});

test('a one-connection stream has no waits: alone, a wait could only sleep out its timeout', () => {
  const s = spec({ mix: { read: 5, wait: 5 } });
  const kinds = new Set(take(opStream(s, 7, 0, 1), 2_000).map((op) => op.kind));
  assert.equal([...kinds], ['read']);
  assert.ok(
    take(opStream(s, 7, 0, 2), 2_000).some((op) => op.kind === 'wait'),
    'two connections keep them',
  );
});

test('the mix follows the weights over 20k ops (loose bounds); statements and deltas per kind', () => {
  const s = spec({ mix: { read: 5, concurrent_write: 3, wait: 1, ddl: 1 }, transaction: { statements: 3 } });
  const ops = take(opStream(s, 7, 0, 2), 20_000);
  const counts = new Map<string, number>();
  for (const op of ops) counts.set(op.kind, (counts.get(op.kind) ?? 0) + 1);
  const share = (k: string): number => (counts.get(k) ?? 0) / ops.length;
  assert.ok(Math.abs(share('read') - 0.5) < 0.03, `read ${share('read')}`);
  assert.ok(Math.abs(share('concurrent_write') - 0.3) < 0.03, `concurrent_write ${share('concurrent_write')}`);
  assert.ok(Math.abs(share('wait') - 0.1) < 0.02, `wait ${share('wait')}`);
  assert.ok(Math.abs(share('ddl') - 0.1) < 0.02, `ddl ${share('ddl')}`);
  for (const k of ['write', 'checkpoint', 'prepare']) assert.is(counts.get(k), undefined, `${k} has weight 0`);
  for (const op of ops) {
    if (op.kind === 'read') {
      assert.is(op.keys.length, 3);
      assert.equal(op.deltas, [0, 0, 0]);
    } else if (op.kind === 'concurrent_write') {
      assert.is(op.keys.length, 3);
      assert.ok(
        op.deltas.every((d) => d >= 1 && d <= 9),
        String(op.deltas),
      );
    } else {
      assert.equal(op.keys, []);
    }
  }
});

test('every distribution keeps keys in [1, rows]', () => {
  const rows = 97;
  const dists: WorkloadInput['keys'][] = [
    { distribution: 'uniform' },
    { distribution: 'zipfian', theta: 0.99 },
    { distribution: 'zipfian', theta: 0.2 },
    { distribution: 'hotset', hot_fraction: 0.05, hot_probability: 0.9 },
    { distribution: 'hotset', hot_fraction: 0.5, hot_probability: 1 },
    { distribution: 'disjoint' },
  ];
  for (const keys of dists) {
    const s = spec({ keys, fixture: { rows } });
    for (let conn = 0; conn < 3; conn++) {
      const counts = keyCounts(take(opStream(s, 3, conn, 3), 4000));
      for (const k of counts.keys()) assert.ok(Number.isInteger(k) && k >= 1 && k <= rows, `${keys.distribution}: key ${k}`);
    }
  }
  // Uniform reaches both ends of the range.
  const all = keyCounts(take(opStream(spec({ fixture: { rows } }), 3, 0, 1), 4000));
  assert.ok(all.has(1) && all.has(rows), 'uniform covers 1 and rows');
});

test("'disjoint' keeps connections in disjoint slices", () => {
  const s = spec({ keys: { distribution: 'disjoint' }, fixture: { rows: 1000 }, mix: { concurrent_write: 1 } });
  const connections = 4;
  const seen = Array.from({ length: connections }, (_, i) => new Set(keyCounts(take(opStream(s, 11, i, connections), 2000)).keys()));
  for (let i = 0; i < connections; i++) {
    const keys = [...seen[i]!];
    assert.ok(Math.min(...keys) >= 1 + i * 250 && Math.max(...keys) <= (i + 1) * 250, `connection ${i}: ${Math.min(...keys)}..${Math.max(...keys)}`);
    assert.ok(keys.length > 200, `connection ${i} covers its slice (${keys.length} keys)`);
    for (let j = i + 1; j < connections; j++) {
      const overlap = keys.filter((k) => seen[j]!.has(k));
      assert.equal(overlap, [], `connections ${i} and ${j} share keys`);
    }
  }
});

test("'hotset' sends about hot_probability of accesses to the hot keys", () => {
  const rows = 1000;
  const s = spec({ keys: { distribution: 'hotset', hot_fraction: 0.01, hot_probability: 0.8 }, fixture: { rows } });
  const counts = keyCounts(take(opStream(s, 5, 0, 1), 10_000));
  let hot = 0;
  let total = 0;
  for (const [k, n] of counts) {
    total += n;
    if (k <= 10) hot += n;
  }
  assert.ok(Math.abs(hot / total - 0.8) < 0.03, `hot share ${hot / total}`);
  // Cold keys are spread over the rest of the range.
  assert.ok([...counts.keys()].filter((k) => k > 10).length > 800, 'cold keys spread');
});

test('zipfian: rank-1 key is the most frequent, and frequency falls with rank', () => {
  const s = spec({ keys: { distribution: 'zipfian', theta: 0.99 }, fixture: { rows: 1000 } });
  const counts = keyCounts(take(opStream(s, 9, 0, 1), 10_000));
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  assert.is(ranked[0]![0], 1, `most frequent: ${JSON.stringify(ranked.slice(0, 3))}`);
  const c = (k: number): number => counts.get(k) ?? 0;
  assert.ok(c(1) > c(2) && c(2) > c(10) && c(10) > c(500), `1:${c(1)} 2:${c(2)} 10:${c(10)} 500:${c(500)}`);
});

test('trace round trip: same ops in order, null at each slice mark and at the end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-trace-'));
  try {
    const s = spec({ mix: { read: 2, write: 1, concurrent_write: 1, prepare: 1, wait: 0.5, ddl: 0.2, checkpoint: 0.2 }, transaction: { statements: 5 } });
    const gen = opStream(s, 77, 2, 3);
    const warm = take(gen, 300);
    // Large enough to cross the writer's 64 KiB buffer several times.
    const measured = take(gen, 20_000);
    const path = join(dir, 'conn2.trace');
    const w = new TraceWriter(path, { workload: s.name, seed: 77, connection: 2, connections: 3 });
    for (const op of warm) w.append(op);
    w.markSliceEnd();
    for (const op of measured) w.append(op);
    w.close();

    const r = traceStream(path);
    assert.equal(r.header, { format: 'shadowbench-trace', version: 2, workload: s.name, seed: 77, connection: 2, connections: 3 });
    assert.equal(take(r, warm.length), warm);
    assert.is(r.next(), null, 'null at the warm-up mark');
    assert.equal(take(r, measured.length), measured);
    assert.is(r.next(), null, 'null at the end');
    assert.is(r.next(), null, 'stays ended');

    // No warm-up: the mark comes first.
    const p2 = join(dir, 'nowarm.trace');
    const w2 = new TraceWriter(p2, { workload: s.name, seed: 1, connection: 0, connections: 1 });
    w2.markSliceEnd();
    w2.append(measured[0]!);
    w2.close();
    const r2 = traceStream(p2);
    assert.is(r2.next(), null);
    assert.equal(r2.next(), measured[0]);
    assert.is(r2.next(), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a trace round-trips the largest transaction a spec allows (255 statements)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-trace-'));
  try {
    const s = spec({ transaction: { statements: 255 }, mix: { concurrent_write: 1 } });
    const ops = take(opStream(s, 5, 0, 1), 300);
    assert.is(ops[0]!.keys.length, 255);
    const path = join(dir, 'wide.trace');
    const w = new TraceWriter(path, { workload: s.name, seed: 5, connection: 0, connections: 1 });
    w.markSliceEnd();
    for (const op of ops) w.append(op);
    w.close();
    const r = traceStream(path);
    assert.is(r.next(), null);
    assert.equal(take(r, ops.length), ops);
    assert.is(r.next(), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt header or body is rejected', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-trace-'));
  try {
    const s = spec();
    const path = join(dir, 'ok.trace');
    const w = new TraceWriter(path, { workload: s.name, seed: 1, connection: 0, connections: 1 });
    for (const op of take(opStream(s, 1, 0, 1), 10)) w.append(op);
    w.close();
    const bytes = readFileSync(path);
    const nl = bytes.indexOf(10);

    const badJson = join(dir, 'bad-json.trace');
    writeFileSync(badJson, Buffer.concat([Buffer.from('{"format": "shadowbench-tr'), bytes.subarray(nl)]));
    assert.throws(() => traceStream(badJson), /bad-json\.trace: not a shadowbench trace \(bad header\)/);

    const wrongFormat = join(dir, 'wrong-format.trace');
    writeFileSync(wrongFormat, Buffer.concat([Buffer.from(JSON.stringify({ format: 'other', version: 1 })), bytes.subarray(nl)]));
    assert.throws(() => traceStream(wrongFormat), /not a shadowbench trace/);

    const wrongVersion = join(dir, 'wrong-version.trace');
    writeFileSync(wrongVersion, Buffer.concat([Buffer.from(JSON.stringify({ format: 'shadowbench-trace', version: 3 })), bytes.subarray(nl)]));
    assert.throws(() => traceStream(wrongVersion), /not a shadowbench trace/);

    const noNewline = join(dir, 'no-newline.trace');
    writeFileSync(noNewline, 'no header line at all');
    assert.throws(() => traceStream(noNewline), /not a shadowbench trace/);

    // A body cut in the middle of an op, and an unknown kind byte.
    const truncated = join(dir, 'truncated.trace');
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 3));
    const t = traceStream(truncated);
    assert.throws(() => {
      while (t.next() !== null) {
        /* read on */
      }
    }, /truncated\.trace: corrupt trace at byte \d+/);
    const badKind = join(dir, 'bad-kind.trace');
    const copy = Buffer.from(bytes);
    copy[nl + 1] = 200;
    writeFileSync(badKind, copy);
    assert.throws(() => traceStream(badKind).next(), /corrupt trace at byte/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
