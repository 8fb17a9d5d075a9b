// Interleaved rounds: the arms take turns chunk by chunk (every chunk after
// another arm's), in chunks of equal size, all connections on one arm at a time (a barrier between
// chunks, real threads), each chunk's median found in place; a run records
// every round's chunks and comparisons within it pair them.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunkOps, chunkSequence } from '../../harness/pool/chunks.ts';
import { controlBytes } from '../../harness/pool/task.ts';
import { medianInPlace } from '../../harness/shared/select.ts';
import { Xorshift32 } from '../../harness/shared/random.ts';
import { CHUNK_MS, chunksOf, MIN_CHUNK_DECIDING_OPS } from '../../harness/run/sizing.ts';
import { busiestKindOf } from '../../harness/spec/mix.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import { runWorkers } from '../support/workers.ts';
import { runCli as cli } from '../support/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sb-chunks-'));

test('chunk sequence: each arm runs every chunk after another arm (a repeat was 10% slower), as often as the others', () => {
  for (const order of [
    [0, 1],
    [2, 0, 1],
    [3, 1, 0, 2],
  ]) {
    const seq = chunkSequence(order, 7);
    assert.is(seq.length, order.length * 7);
    for (const arm of order)
      assert.equal(
        seq.filter(([a]) => a === arm).map(([, j]) => j),
        [0, 1, 2, 3, 4, 5, 6],
        `arm ${arm} runs chunks 0..6 in order`,
      );
    for (let i = 1; i < seq.length; i++) assert.is.not(seq[i]![0], seq[i - 1]![0], `${order}: position ${i} follows another arm`);
    assert.equal(
      seq.slice(0, order.length).map(([a]) => a),
      order,
      'the round order opens it',
    );
  }
  assert.equal(chunkSequence([0], 3), [
    [0, 0],
    [0, 1],
    [0, 2],
  ]);
  for (const [ops, chunks] of [
    [1001, 20],
    [20, 20],
    [7, 3],
    [5, 1],
  ] as const) {
    const sizes = Array.from({ length: chunks }, (_, j) => chunkOps(ops, chunks, j));
    assert.is(
      sizes.reduce((s, x) => s + x, 0),
      ops,
      `${ops} in ${chunks}: every operation once`,
    );
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1 && Math.min(...sizes) > 0, `${ops} in ${chunks}: ${sizes}`);
  }
});

test('medianInPlace finds the median of any sample, ties and all', () => {
  const rng = new Xorshift32(7);
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + Math.floor(rng.next() * 60);
    const values = Array.from({ length: n }, () => Math.floor(rng.next() * (trial % 3 === 0 ? 4 : 1000)));
    const a = new Float64Array(n + 5).fill(-1);
    a.set(values);
    const sorted = [...values].sort((x, y) => x - y);
    assert.is(medianInPlace(a, n), sorted[n >> 1], `n=${n}: ${values}`);
    assert.equal(
      [...a.subarray(0, n)].sort((x, y) => x - y),
      sorted,
      'only reordered',
    );
    assert.is(a[n], -1, 'nothing past n touched');
  }
  assert.ok(Number.isNaN(medianInPlace(new Float64Array(4), 0)));
});

test('chunks of about CHUNK_MS, the same size, each with enough of the deciding kind', () => {
  assert.is(chunksOf(15000, 100, 1), 100 / CHUNK_MS);
  assert.is(chunksOf(300, 100, 1 / 3), 100 / MIN_CHUNK_DECIDING_OPS, 'too few reads for 20 chunks');
  assert.is(chunksOf(5, 100, 1), 1, 'a tiny slice stays whole');
  assert.is(chunksOf(100_000, 10_000, 1), 100, 'a long slice: at most 100 chunks');
  assert.is(busiestKindOf({ read: 2, write: 1 }), 'read');
  assert.is(busiestKindOf({ concurrent_write: 1 }), 'concurrent_write');
});

test('the chunk barrier: nobody leaves before everyone arrived, all see one release time per chunk, an abort frees the others', async () => {
  const parties = 4;
  const chunks = 40;
  const control = new SharedArrayBuffer(controlBytes(2));
  const script = new URL('./chunks.worker.ts', import.meta.url);
  type Out = { index: number; releases: number[]; early: number; aborted: string | null };
  const ok = await runWorkers<Out>(script, parties, { control, counter: new SharedArrayBuffer(4), parties, chunks, failing: -1, failAt: 0 });
  assert.equal(ok.errors, []);
  assert.is(ok.results.length, parties);
  for (const r of ok.results) {
    assert.is(r.early, 0, `worker ${r.index} left a chunk before all had arrived`);
    assert.is(r.aborted, null);
    assert.equal(r.releases, ok.results[0]!.releases, 'one release time per chunk, the same for all');
  }
  const rel = ok.results[0]!.releases;
  assert.ok(
    rel.every((t, i) => i === 0 || t >= rel[i - 1]!),
    'release times only move forward',
  );

  const failing = await runWorkers<Out>(script, parties, {
    control: new SharedArrayBuffer(controlBytes(2)),
    counter: new SharedArrayBuffer(4),
    parties,
    chunks,
    failing: 2,
    failAt: 5,
  });
  assert.equal(failing.errors, []);
  for (const r of failing.results.filter((x) => x.index !== 2)) {
    assert.is(r.aborted, 'another connection failed during the round', `worker ${r.index} stopped waiting`);
    assert.ok(r.releases.length <= 5, `worker ${r.index} passed no chunk the failed one did not reach`);
  }
});

test('a run records every round chunk by chunk, and compare --arms pairs the chunks', async () => {
  const out = join(tmp, 'runs');
  const r = await cli([
    'run',
    '--workload',
    'commutative-inserts',
    '--backend',
    'memory',
    '--concurrency',
    '2',
    '--modes',
    'a:legacy,b:legacy',
    '--rounds',
    '3',
    '--duration',
    '40',
    '--out',
    out,
    '--json',
    '-q',
  ]);
  assert.is(r.code, 0, r.stderr);
  const dir = (JSON.parse(r.stdout) as { run_dir: string }).run_dir;
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
  for (const cell of run.cells) {
    const chunks = cell.schedule!.chunks!;
    assert.ok(chunks >= 2, `${cell.id}: ${chunks} chunks per arm`);
    assert.is(cell.rounds.length, 3);
    for (const round of cell.rounds) {
      assert.is(round.chunks!.kind, 'concurrent_write');
      assert.is(round.chunks!.wall_ms.length, chunks);
      assert.is(round.chunks!.p50_ns.length, chunks);
      assert.ok(round.chunks!.p50_ns.every((x) => x > 0));
      assert.ok(round.chunks!.wall_ms.reduce((s, x) => s + x, 0) >= round.measured_ms * 0.5, 'the chunks make up the slice');
      assert.is(round.operations, cell.schedule!.ops_per_slice * 2, 'every connection ran the whole slice');
    }
  }
  const c = await cli(['compare', dir, '--arms', 'a,b', '--json']);
  const json = JSON.parse(c.stdout) as { metrics: { metric: string; deciding: boolean; rounds: number[] }[] };
  const deciding = json.metrics.find((m) => m.deciding)!;
  assert.is(deciding.metric, 'concurrent_write.latency_p50_ns');
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
