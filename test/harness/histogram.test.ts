// Recording and aggregation: window deltas from several worker-side
// recorders, merged on the main thread, give exactly the histograms and
// counters of all values recorded in one place (HDR merge is lossless).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as hdr from 'hdr-histogram-js';
import type { FieldRecord, M11Record, M6Record } from '../../engine/index.ts';
import { Xorshift32 } from '../../harness/shared/random.ts';
import { Accumulator, RoundAggregate, initHistograms, summarize } from '../../harness/record/aggregate.ts';
import { LATENCY_MAX_NS } from '../../harness/record/fields.ts';
import { addSparse, type SparseCounts } from '../../harness/record/bucket-counts.ts';
import { Recorder, type WindowDelta } from '../../harness/record/recorder.ts';

const PERCENTILES = [50, 90, 99, 99.9, 100];

/** A window's buckets as an HdrHistogram (as the main thread merges them). */
function histogramOf(s: SparseCounts): hdr.Histogram {
  const h = reference();
  addSparse(h, s);
  return h;
}

function reference(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 'packed',
    numberOfSignificantValueDigits: 3,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    autoResize: true,
    useWebAssembly: false,
  });
}

/** Log-uniform integers over ~1 ns .. ~10 s: every bucket magnitude gets values. */
function latency(rng: Xorshift32): number {
  return Math.max(1, Math.round(Math.exp(rng.next() * Math.log(1e10))));
}

function assertSameHistogram(name: string, got: hdr.Histogram | undefined, want: hdr.Histogram): void {
  assert.ok(got !== undefined, `${name}: merged histogram exists`);
  assert.is(got.totalCount, want.totalCount, `${name}: totalCount`);
  for (const p of PERCENTILES) assert.is(got.getValueAtPercentile(p), want.getValueAtPercentile(p), `${name}: p${p}`);
  // The whole summary (p50 .. p99.9, max, mean) is identical too.
  assert.equal(summarize(got), summarize(want), `${name}: summary`);
}

const m11 = (lockWait: number, active: number, start: number, dur: number, mode: 'legacy' | 'sharded'): M11Record => ({
  metadata_class: 'M11',
  trace_id: 't',
  start_ns: start,
  end_ns: start + dur,
  operation: 'begin',
  session_id: 1,
  shard_id: 0,
  lock_wait_ns: lockWait,
  active_sessions_in_shard: active,
  control_mode: mode,
  shadow_verdict: 'none',
});

const m6 = (verdict: M6Record['shadow_verdict']): M6Record => ({
  metadata_class: 'M6',
  trace_id: 't',
  start_ns: 0,
  end_ns: 10,
  operation: 'shadow_compare',
  snapshot_generation: 1,
  visible_commit_seq: 1,
  db_size: 2,
  freelist_count: 0,
  alloc_ns: 0,
  snapshot_age_commits: 0,
  control_mode: 'shadow_compare',
  shadow_verdict: verdict,
});

/** A driver operation of `latencyNs` whose service part is `serviceNs` (the recorder takes monotonic ms). */
const op = (r: Recorder, kind: 'read' | 'write', latencyNs: number, serviceNs: number, error: string | null, retries: number): void =>
  r.op(kind, 0, (latencyNs - serviceNs) / 1e6, latencyNs / 1e6, error, retries);

/** A field record lasting `durationNs`, as an engine writes it (record times are monotonic ms; 0 means untimed). */
const record = (r: Recorder, rec: FieldRecord, durationNs: number): void => r.record(rec, 1, 1 + durationNs / 1e6);

async function mergeEqualsAllValues(): Promise<void> {
  const rng = new Xorshift32(12345);
  const recorders = Array.from({ length: 3 }, (_, i) => new Recorder(i));
  for (const r of recorders) r.active = true;
  const want = {
    readLatency: reference(),
    readService: reference(),
    writeLatency: reference(),
    lockWait: reference(),
    active: reference(),
    duration: reference(),
  };
  const counters = new Map<string, number>();
  const bump = (k: string, n = 1): void => void counters.set(k, (counters.get(k) ?? 0) + n);
  const deltas: WindowDelta[] = [];

  for (let window = 0; window < 3; window++) {
    for (const r of recorders) {
      const n = 100 + Math.floor(rng.next() * 400);
      for (let i = 0; i < n; i++) {
        const kind = rng.next() < 0.7 ? 'read' : 'write';
        const lat = latency(rng);
        const svc = Math.max(1, Math.floor(lat * rng.next()));
        const retries = rng.next() < 0.1 ? 1 + Math.floor(rng.next() * 3) : 0;
        const failed = kind === 'write' && rng.next() < 0.02;
        op(r, kind, lat, svc, failed ? 'busy' : null, retries);
        if (failed) bump(`op.${kind}.error.busy`);
        else {
          bump(`op.${kind}.ok`);
          bump(`op.${kind}.service_ns.sum`, svc);
          if (kind === 'read') {
            want.readLatency.recordValue(lat);
            want.readService.recordValue(svc);
          } else want.writeLatency.recordValue(lat);
        }
        if (retries > 0) bump(`op.${kind}.retries`, retries);

        // Engine field records, as the hook receives them.
        const wait = latency(rng);
        const act = Math.floor(rng.next() * 64);
        const dur = latency(rng);
        record(r, m11(wait, act, 1e15 + i, dur, i % 3 === 0 ? 'sharded' : 'legacy'), dur);
        want.lockWait.recordValue(wait);
        want.active.recordValue(act);
        want.duration.recordValue(dur);
        bump('M11.begin');
        bump('M11.active_sessions_in_shard.sum', act);
        bump(`M11.control_mode.${i % 3 === 0 ? 'sharded' : 'legacy'}`);
        bump('M11.shadow_verdict.none');
        bump('M11.session_not_found.false');
        bump('M11.begin.session_not_found.false');
        bump('M11.begin.duration_ns.sum', dur);
        bump('M11.begin.duration_ns.count');
        bump('M11.lock_wait_ns.sum', wait);
        bump('M11.shard_id.0');
      }
      const d = r.flush();
      assert.is(d.connection, recorders.indexOf(r));
      assert.is(d.window, window);
      assert.ok(d.end_ms >= d.start_ms);
      deltas.push(d);
    }
  }

  // Merge in a scrambled order, over two rounds folded into a cell, as the runner does.
  const order = deltas.map((_, i) => i).sort((a, b) => ((a * 7919) % 23) - ((b * 7919) % 23));
  const rounds = [new RoundAggregate(), new RoundAggregate()];
  order.forEach((idx, k) => rounds[k % 2]!.add(deltas[idx]!));
  assert.is(rounds[0]!.windows + rounds[1]!.windows, deltas.length);
  const cell = new Accumulator();
  for (const r of rounds) cell.merge(r.finish());

  assertSameHistogram('op.read.latency_ns', cell.histograms.get('op.read.latency_ns'), want.readLatency);
  assertSameHistogram('op.read.service_ns', cell.histograms.get('op.read.service_ns'), want.readService);
  assertSameHistogram('op.write.latency_ns', cell.histograms.get('op.write.latency_ns'), want.writeLatency);
  assertSameHistogram('M11.lock_wait_ns', cell.histograms.get('M11.lock_wait_ns'), want.lockWait);
  assertSameHistogram('M11.active_sessions_in_shard', cell.histograms.get('M11.active_sessions_in_shard'), want.active);
  assertSameHistogram('M11.begin.duration_ns', cell.histograms.get('M11.begin.duration_ns'), want.duration);
  assert.equal(Object.keys(cell.summaries()), [
    'M11.active_sessions_in_shard',
    'M11.begin.duration_ns',
    'M11.lock_wait_ns',
    'op.read.latency_ns',
    'op.read.service_ns',
    'op.write.latency_ns',
    'op.write.service_ns',
  ]);
  // The summaries from the kept sums (no pass over the buckets for the mean) are those of the merged histograms.
  for (const [name, h] of cell.histograms) assert.equal(cell.summary(name), summarize(h), `${name}: summary from the kept sum`);
  for (const r of rounds) for (const [name, h] of r.histograms) assert.equal(r.summary(name), summarize(h), `${name}: round summary`);
  const s = summarize(cell.histograms.get('op.read.latency_ns')!);
  assert.equal(
    [s.count, s.p50, s.p90, s.p99, s.p999, s.max],
    [want.readLatency.totalCount, ...PERCENTILES.map((p) => want.readLatency.getValueAtPercentile(p))],
  );

  // Counters sum exactly (and there are no others).
  // (Winsorized sums, `.wsum`, depend on each window's own p99: checked apart.)
  const totals = cell.counterRecord();
  assert.equal(
    Object.fromEntries(Object.entries(totals).filter(([k]) => !k.endsWith('.wsum'))),
    Object.fromEntries([...counters.entries()].sort(([a], [b]) => (a < b ? -1 : 1))),
  );
  for (const [k, v] of Object.entries(totals).filter(([k]) => k.endsWith('.wsum'))) {
    const sum = totals[k.replace(/\.wsum$/, '.sum')];
    if (sum !== undefined) assert.ok(v <= sum * 1.001 && v > 0, `${k} ${v} within ${sum}`);
  }

  for (const r of rounds) r.destroy();
  cell.destroy();
  for (const h of Object.values(want)) h.destroy();
}

test('histogram merge equals a histogram of all values (several recorders, several windows each; JS merge)', async () => {
  await mergeEqualsAllValues();
});

test('the same with WebAssembly histograms in the main thread (as runMatrix sets up)', async () => {
  await initHistograms();
  await mergeEqualsAllValues();
});

test('a merged summary never reports a max below its p99.9 (one value, merged from a window)', () => {
  const r = new Recorder(0);
  r.active = true;
  op(r, 'read', 3001, 3001, null, 0);
  const acc = new RoundAggregate();
  acc.add(r.flush());
  acc.finish();
  const s = summarize(acc.histograms.get('op.read.latency_ns')!);
  assert.is(s.count, 1);
  assert.ok(s.max >= s.p999 && s.p999 >= s.p50, JSON.stringify(s));
  assert.ok(s.max >= 3001, `max ${s.max} covers the recorded 3001`);
  acc.destroy();
});

test('a recorder keeps nothing while inactive, and each flush is a delta', () => {
  const r = new Recorder(3);
  op(r, 'read', 100, 50, null, 0);
  record(r, m11(5, 1, 0, 10, 'legacy'), 10);
  const warm = r.flush();
  assert.equal(warm.counters, {});
  assert.equal(warm.histograms, {});
  assert.equal(warm.samples, []);

  r.active = true;
  op(r, 'read', 100, 50, null, 0);
  const first = r.flush();
  op(r, 'read', 200, 50, null, 0);
  op(r, 'read', 300, 50, null, 0);
  const second = r.flush();
  const empty = r.flush();
  assert.equal([first.window, second.window, empty.window], [1, 2, 3]);
  assert.is(first.counters['op.read.ok'], 1);
  assert.is(second.counters['op.read.ok'], 2, 'the second window holds only its own ops');
  assert.equal(empty.counters, {});
  assert.equal(empty.histograms, {});
  const h = histogramOf(second.histograms['op.read.latency_ns']!);
  assert.is(h.totalCount, 2);
  assert.is(h.maxValue, 300);
  h.destroy();
  assert.is(second.start_ms, first.end_ms, 'windows tile time');
});

test('values are clamped into the histogram range; required-field gaps and samples', () => {
  const r = new Recorder(0);
  r.active = true;
  r.op('read', 5e-6, 0, 0, null, 0);
  op(r, 'read', 2e11, 1, null, 0);
  const d = r.flush();
  const lat = histogramOf(d.histograms['op.read.latency_ns']!);
  assert.is(lat.totalCount, 2);
  assert.is(lat.getValueAtPercentile(0), 0, 'the negative value is clamped to 0');
  assert.ok(lat.maxValue <= LATENCY_MAX_NS * 1.001 && lat.maxValue >= LATENCY_MAX_NS * 0.999, `2e11 is clamped to ${LATENCY_MAX_NS}: max ${lat.maxValue}`);
  lat.destroy();

  // A record missing a required field is counted as a gap, once per (class, operation).
  const partial = { ...m11(1, 1, 0, 1, 'legacy') } as Partial<M11Record>;
  delete partial.shard_id;
  record(r, partial as FieldRecord, 1);
  record(r, partial as FieldRecord, 1);
  // Anomalies are always sampled; ordinary records a few per class per window.
  for (let i = 0; i < 10; i++) record(r, m6('match'), 10);
  for (let i = 0; i < 3; i++) record(r, m6('diverged'), 10);
  const g = r.flush();
  assert.is(g.counters['gap.M11.shard_id'], 1);
  assert.is(g.counters['M6.shadow_verdict.diverged'], 3);
  assert.is(g.samples.filter((s) => s.metadata_class === 'M6' && s.shadow_verdict === 'diverged').length, 3);
  assert.ok(g.samples.filter((s) => s.metadata_class === 'M6' && s.shadow_verdict === 'match').length <= 4);
});

test.run();
