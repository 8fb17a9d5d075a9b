// The gate's verdicts on runs whose truth is known (synthetic run records: a
// clear gain, a clear regression, a divergence, too few rounds, noise, a tail
// that moves alone, nothing run). Its statistics: gate-stats.test.ts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { gate } from '../../harness/gate/gate.ts';
import { aligned, chunkLogRatio, pairLogRatios, valuesToCompare } from '../../harness/gate/series.ts';
import { compareRuns } from '../../harness/gate/compare.ts';
import { buildReport, reportJson, reportMarkdown } from '../../harness/gate/report.ts';
import { stableJson } from '../../harness/shared/json.ts';
import type { CellRecord, RunRecord } from '../../harness/results/record.ts';
import type { RoundSummary } from '../../harness/run/runner.ts';
import type { ControlMode, SwitchableClass } from '../../engine/index.ts';

const LEGACY: Record<SwitchableClass, ControlMode> = { M1: 'legacy', M6: 'legacy', M11: 'legacy' };

/** Rounds whose median latency follows their throughput (a slower operation, fewer of them a second) and whose p99 is given. */
function rounds(throughputs: number[], p99: number[]): RoundSummary[] {
  return throughputs.map((t, i) => ({
    round: i + 1,
    operations: t,
    measured_ms: 1000,
    throughput_ops_s: t,
    state_hash: null,
    failures: [],
    latency_ns: { concurrent_write: { count: 1000, p50: 250_000 / t, p90: p99[i]! / 2, p99: p99[i]!, p999: p99[i]! * 2, max: p99[i]! * 3, mean: p99[i]! / 3 } },
  }));
}

function cell(mode: string, modes: Record<SwitchableClass, ControlMode>, rs: RoundSummary[]): CellRecord {
  return {
    id: `reference.commutative-inserts.file.c4.${mode}`,
    variant: 'reference',
    backend: 'file',
    workload: 'commutative-inserts',
    concurrency: 4,
    mode_set: mode,
    control_modes: modes,
    faults: {},
    status: 'ok',
    failures: [],
    gaps: [],
    usable_for_gate: true,
    deterministic: false,
    correctness: [],
    notes: [],
    fallback_events: [],
    counterexamples: [],
    operations: 0,
    measured_ms: 0,
    throughput_ops_s: 0,
    errors: {},
    rounds: rs,
    histograms_file: 'x.hlog',
  };
}

function runOf(cells: CellRecord[]): RunRecord {
  return {
    format: 'shadowbench-run',
    version: 1,
    run_id: 'synthetic',
    started_at: '',
    ended_at: '',
    argv: [],
    config: {
      seed: 1,
      rounds: 6,
      schedule: 'interleaved',
      quick: false,
      duration_ms: null,
      mode_sets: [],
      workloads: [],
      backends: null,
      concurrency: null,
      faults: {},
      mode_set_faults: {},
      window_ms: 500,
      trace_recorded: false,
      replay_of: null,
    },
    engine: null,
    schedule_note: null,
    cells,
    totals: { cells: cells.length, failed: 0, with_gaps: 0, correctness_failures: 0, fallbacks: 0 },
    environment: {
      git_commit: 'abc',
      git_dirty: false,
      node_version: 'v20',
      platform: 'linux',
      arch: 'x64',
      kernel: '',
      cpu_model: 'cpu',
      cpu_count: 2,
      total_memory_bytes: 1,
      hardware_signature: 'sig',
    },
  };
}

const base = [1000, 1010, 990, 1005, 995, 1002];
const baseP99 = [500, 505, 495, 502, 498, 501];
const scale = (xs: number[], f: number): number[] => xs.map((x) => x * f);
const M6_NEW: Record<SwitchableClass, ControlMode> = { ...LEGACY, M6: 'snapshot' };
const M6_SHADOW: Record<SwitchableClass, ControlMode> = { ...LEGACY, M6: 'shadow_compare' };

function verdictOf(cells: CellRecord[], counters: Record<string, Record<string, number>> = {}) {
  return gate({ run: runOf(cells), counters: new Map(Object.entries(counters)) }).find((v) => v.metadata_class === 'M6')!;
}

test('a clear gain with a clean shadow run promotes, with the numbers behind it', () => {
  const v = verdictOf([
    cell('legacy', LEGACY, rounds(base, baseP99)),
    cell('shadow_compare', M6_SHADOW, rounds(base, baseP99)),
    cell('new', M6_NEW, rounds(scale(base, 1.2), scale(baseP99, 0.8))),
  ]);
  assert.is(v.verdict, 'promote', v.reasons.join('\n'));
  const t = v.comparisons.find((c) => c.metric === 'throughput_ops_s')!;
  assert.is(t.outcome, 'improved');
  assert.ok(t.rank_test.p_value < 0.05 && t.effect_size.value === 1 && t.ci!.lower > 0);
  assert.ok(
    v.reasons.some(
      (r) =>
        r.startsWith('significant improvement') && r.includes('paired by round') && r.includes('t interval') && r.includes('Wilcoxon') && r.includes('MDE'),
    ),
    v.reasons.join('\n'),
  );
  assert.is(t.test!.test, 'paired_trimmed_t_log_ratio');
  assert.is(t.test!.n_baseline, 6, 'cells of one run: rounds paired');
  assert.is(v.inconclusive, false);
  assert.ok(
    v.not_run.some((n) => n.includes('cross-node')),
    'the topology line is listed as not run, never passed',
  );
});

test('a clear regression rolls back; so does any divergence, judged as an exact count', () => {
  const slower = verdictOf([cell('legacy', LEGACY, rounds(base, baseP99)), cell('new', M6_NEW, rounds(scale(base, 0.85), baseP99))]);
  assert.is(slower.verdict, 'rollback');
  assert.ok(
    slower.reasons.some((r) => r.startsWith('significant regression') && r.includes('latency_p50_ns')),
    slower.reasons.join('\n'),
  );
  const diverged = verdictOf(
    [
      cell('legacy', LEGACY, rounds(base, baseP99)),
      cell('shadow_compare', M6_SHADOW, rounds(base, baseP99)),
      cell('new', M6_NEW, rounds(scale(base, 1.2), baseP99)),
    ],
    { 'reference.commutative-inserts.file.c4.shadow_compare': { 'M6.shadow_verdict.diverged': 1 } },
  );
  assert.is(diverged.verdict, 'rollback', 'one divergence outweighs any speedup');
  assert.equal(diverged.zero_contracts.find((z) => z.counter === 'M6.shadow_verdict.diverged')!.count, 1);
});

test('too few rounds or too much noise: an inconclusive hold saying how large a change could go unseen; nothing run: hold', () => {
  const few = verdictOf([
    cell('legacy', LEGACY, rounds(base.slice(0, 1), baseP99)),
    cell('shadow_compare', M6_SHADOW, rounds(base, baseP99)),
    cell('new', M6_NEW, rounds(scale(base.slice(0, 1), 1.5), baseP99)),
  ]);
  assert.is(few.verdict, 'hold');
  assert.ok(few.inconclusive);
  assert.ok(few.comparisons.every((c) => c.outcome === 'inconclusive' && c.inconclusive_reason === 'too_few_rounds' && c.mde === null));
  assert.ok(
    few.reasons.some((r) => r.startsWith('hold: inconclusive') && r.includes('up to ∞')),
    few.reasons.join('\n'),
  );
  const noisy = verdictOf([
    cell('legacy', LEGACY, rounds([100, 5000, 300, 9000, 50, 2000], baseP99)),
    cell('shadow_compare', M6_SHADOW, rounds(base, baseP99)),
    cell('new', M6_NEW, rounds([200, 100, 7000, 400, 3000, 90], baseP99)),
  ]);
  assert.is(noisy.verdict, 'hold');
  assert.ok(noisy.inconclusive);
  assert.ok(
    noisy.reasons.some((r) =>
      /^hold: inconclusive — 1 of 1 deciding comparisons could miss a change larger than 10\.0% \(minimum detectable effect up to \d+/.test(r),
    ),
    noisy.reasons.join('\n'),
  );
  const none = verdictOf([cell('legacy', LEGACY, rounds(base, baseP99))]);
  assert.is(none.verdict, 'hold');
  assert.not.ok(none.inconclusive, 'no comparison is not a blind one');
  assert.ok(none.reasons.some((r) => r.includes('not enough evidence')));
});

test('no change on quiet arms: the hold says how small a change it could have seen', () => {
  const wobble = (f: number) => base.map((x, i) => x * (1 + (i % 2 === 0 ? f : -f)));
  const v = verdictOf([
    cell('legacy', LEGACY, rounds(base, baseP99)),
    cell('shadow_compare', M6_SHADOW, rounds(base, baseP99)),
    cell(
      'new',
      M6_NEW,
      rounds(
        wobble(0.004),
        baseP99.map((x, i) => x * (1 + (i % 3) * 0.002)),
      ),
    ),
  ]);
  assert.is(v.verdict, 'hold');
  assert.not.ok(v.inconclusive);
  assert.ok(v.largest_mde !== null && v.largest_mde < 0.1);
  assert.ok(
    v.reasons.some((r) => /^hold: no significant gain over the baseline comparator; no change larger than \d+\.\d% could be seen/.test(r)),
    v.reasons.join('\n'),
  );
});

test('a tail that moves alone is reported and never rolls back; one Holm family spans the classes', () => {
  const tail = rounds(base, baseP99);
  tail.forEach((r, i) => (r.latency_ns['concurrent_write']!.p99 *= 3 * (1 + i * 0.01)));
  const v = verdictOf([cell('legacy', LEGACY, rounds(base, baseP99)), cell('shadow_compare', M6_SHADOW, rounds(base, baseP99)), cell('new', M6_NEW, tail)]);
  assert.is.not(v.verdict, 'rollback', v.reasons.join('\n'));
  const p99 = v.comparisons.find((c) => c.metric.endsWith('latency_p99_ns'))!;
  assert.is(p99.deciding, false);
  assert.is(p99.outcome, 'regressed');
  assert.ok(
    v.reasons.some((r) => r.startsWith('tail latency regression (reported, not deciding)')),
    v.reasons.join('\n'),
  );
  // The new cell serves M1, M6 and M11 alike: its comparisons are one object each, judged once, in one family.
  const all = gate({
    run: runOf([cell('legacy', LEGACY, rounds(base, baseP99)), cell('new', { M1: 'polling', M6: 'snapshot', M11: 'sharded' }, rounds(base, baseP99))]),
    counters: new Map(),
  });
  const deciding = all.flatMap((x) => x.comparisons).filter((c) => c.deciding);
  assert.ok(deciding.length > 0);
  assert.ok(
    deciding.every((c) => c.family.size === new Set(deciding).size),
    "family size = the run's distinct deciding comparisons",
  );
});

test('reports: canonical JSON is byte-identical for the same input and carries trace_correlation over itself', () => {
  const input = { run: runOf([cell('legacy', LEGACY, rounds(base, baseP99)), cell('new', M6_NEW, rounds(scale(base, 1.2), baseP99))]), counters: new Map() };
  const a = buildReport(input);
  const b = buildReport(input);
  assert.is(reportJson(a), reportJson(b));
  const { trace_correlation, ...body } = a;
  assert.is(trace_correlation, createHash('sha256').update(stableJson(body, 0)).digest('hex'));
  assert.equal(
    a.verdicts.map((v) => v.metadata_class),
    ['M1', 'M6', 'M11'],
  );
  for (const v of a.verdicts) assert.ok(['promote', 'hold', 'rollback'].includes(v.verdict) && v.reasons.length > 0);
  assert.match(reportMarkdown(a), /\| M6 \| \*\*HOLD\*\* \|/);
});

test('compare: a run against itself has no regression; a slower one regresses; other hardware is not comparable', () => {
  const a = runOf([cell('legacy', LEGACY, rounds(base, baseP99))]);
  const same = compareRuns(a, a);
  assert.ok(same.comparable);
  assert.is(same.regressions, 0);
  const slow = compareRuns(a, runOf([cell('legacy', LEGACY, rounds(scale(base, 0.8), scale(baseP99, 1.3)))]));
  assert.ok(slow.regressions >= 1, JSON.stringify(slow.comparisons.map((c) => c.outcome)));
  assert.is(slow.comparisons.find((c) => c.metric === 'concurrent_write.latency_p50_ns')?.outcome, 'regressed', 'the deciding median regressed');
  assert.ok(
    slow.comparisons.every((c) => c.test?.test === 'welch_t_log'),
    'rounds of two runs do not pair',
  );
  const other = runOf([cell('legacy', LEGACY, rounds(base, baseP99))]);
  other.environment = { ...other.environment, hardware_signature: 'different' };
  const nc = compareRuns(a, other);
  assert.not.ok(nc.comparable);
  assert.match(nc.why_not!, /hardware signatures differ/);
});

test('compare: runs on a machine at another speed compare at one speed by the yardstick; without it, as measured', () => {
  const yard = (rs: RoundSummary[], ns: (number | null)[]): RoundSummary[] => rs.map((r, i) => ({ ...r, yardstick_ns: ns[i]! }));
  const ys = [250_000, 252_000, 249_000, 251_000, 248_000, 250_500];
  const withYardstick = (r: RunRecord): RunRecord => ({ ...r, config: { ...r.config, yardstick: 'y/1' } });
  const a = withYardstick(runOf([cell('legacy', LEGACY, yard(rounds(base, baseP99), ys))]));
  // The same code on a machine 30% slower: every figure and the yardstick's reading move together.
  const slowMachine = withYardstick(runOf([cell('legacy', LEGACY, yard(rounds(scale(base, 1 / 1.3), scale(baseP99, 1.3)), scale(ys, 1.3)))]));
  const same = compareRuns(a, slowMachine);
  assert.is(same.regressions, 0, JSON.stringify(same.comparisons.map((c) => [c.metric, c.relative_diff])));
  assert.ok(
    same.comparisons.every((c) => c.speed === 'yardstick'),
    'both runs carry the same yardstick',
  );
  const p50 = (r: typeof same) => r.comparisons.find((c) => c.metric === 'concurrent_write.latency_p50_ns')!;
  assert.ok(Math.abs(p50(same).relative_diff) < 1e-9, `at one speed the median did not move (${p50(same).relative_diff})`);
  // 10% slower code on that slower machine: the 10% is what remains.
  const slowCode = withYardstick(runOf([cell('legacy', LEGACY, yard(rounds(scale(base, 1 / 1.43), scale(baseP99, 1.43)), scale(ys, 1.3)))]));
  const slower = compareRuns(a, slowCode);
  assert.is(p50(slower).outcome, 'regressed');
  assert.ok(Math.abs(p50(slower).relative_diff - 0.1) < 1e-9, `the code's +10% (${p50(slower).relative_diff})`);
  // Different yardsticks (or none) cannot be put at one speed: compared as measured, the slower machine is a regression.
  const asMeasured = compareRuns(a, { ...slowMachine, config: { ...slowMachine.config, yardstick: 'y/2' } });
  assert.ok(asMeasured.comparisons.every((c) => c.speed === 'as_measured'));
  assert.is(p50(asMeasured).outcome, 'regressed');
  const oneMissing = withYardstick(runOf([cell('legacy', LEGACY, yard(rounds(base, baseP99), [...ys.slice(0, 5), null]))]));
  assert.ok(
    compareRuns(a, oneMissing).comparisons.every((c) => c.speed === 'as_measured'),
    'a round without a reading: as measured',
  );
});

test('cells of one run pair round number to round number, even when a kind is missing from some rounds', () => {
  const base = { better: 'lower' as const, values: [10, 20, 30, 40, 50], rounds: [1, 2, 3, 4, 5], chunks: [null, null, null, null, null] };
  const cand = { better: 'lower' as const, values: [11, 33, 44, 55], rounds: [1, 3, 4, 5], chunks: [null, null, null, null] };
  assert.equal(aligned(base, cand), [
    [10, 30, 40, 50],
    [11, 33, 44, 55],
  ]);
  assert.equal(valuesToCompare(base, cand, false), [base.values, cand.values], 'different runs: all of each, unpaired');
  assert.equal(
    pairLogRatios(base, cand).map((x) => x.toFixed(4)),
    [11 / 10, 33 / 30, 44 / 40, 55 / 50].map((r) => Math.log(r).toFixed(4)),
    'rounds without chunks pair by their own values',
  );
});

test('interleaved rounds pair chunk by chunk: a chunk pair the machine changed speed between is trimmed, the round value never used', () => {
  // Ten chunk pairs at +10%, the machine's speed changing under them (x1.7 from chunk 4 on), and two pairs a slow
  // spell (x1.7) fell between, once on each side.
  const machine = (j: number): number => (j >= 4 ? 1.7 : 1);
  const baseChunks = Array.from({ length: 10 }, (_, j) => 100 * machine(j) * (j === 3 ? 1.7 : 1));
  const candChunks = Array.from({ length: 10 }, (_, j) => 110 * machine(j) * (j === 7 ? 1.7 : 1));
  const base = { better: 'lower' as const, values: [1000], rounds: [1], chunks: [baseChunks] };
  const cand = { better: 'lower' as const, values: [1], rounds: [1], chunks: [candChunks] };
  const [d] = pairLogRatios(base, cand);
  assert.ok(Math.abs(d! - Math.log(1.1)) < 1e-12, `the trimmed chunk pairs say +10% (${Math.expm1(d!)})`);
  assert.is(chunkLogRatio([1, 2], [1, 2, 3]), null, 'chunks of different lengths do not pair');
  const mixed = pairLogRatios(base, { ...cand, chunks: [null] });
  assert.ok(Math.abs(mixed[0]! - Math.log(1 / 1000)) < 1e-12, 'one side without chunks: the round values');
});

test('SQLite cells beside the reference engine change no verdict; the report sets them side by side', () => {
  const reference = [
    cell('legacy', LEGACY, rounds(base, baseP99)),
    cell('shadow_compare', M6_SHADOW, rounds(base, baseP99)),
    cell('new', M6_NEW, rounds(scale(base, 1.2), scale(baseP99, 0.8))),
  ].map((c) => ({ ...c, throughput_ops_s: c.rounds[0]!.throughput_ops_s }));
  // A failed, mismatching comparator cell with every class "legacy": it must neither roll back nor serve as a baseline.
  const sqlite: CellRecord = {
    ...cell('n/a', LEGACY, rounds(scale(base, 2), baseP99)),
    id: 'sqlite.commutative-inserts.file.c4',
    variant: 'sqlite',
    mode_set: 'n/a',
    correctness: ['round 1: final state differs'],
    usable_for_gate: false,
    throughput_ops_s: 2000,
  };
  const alone = gate({ run: runOf(reference), counters: new Map() });
  const beside = gate({ run: runOf([...reference, sqlite]), counters: new Map() });
  assert.equal(beside, alone);
  assert.is(beside.find((v) => v.metadata_class === 'M6')!.verdict, 'promote');

  const p99 = (id: string, v: number) => ({
    id,
    throughput_ops_s: 0,
    counters: {},
    histograms: { 'op.concurrent_write.latency_ns': { count: 10, p50: v, p90: v, p99: v, p999: v, max: v, mean: v } },
  });
  const report = buildReport({
    run: runOf([...reference, sqlite]),
    counters: new Map(),
    summaries: [...reference.map((c) => p99(c.id, 400)), p99(sqlite.id, 800)],
  });
  assert.is(report.engine_comparison.length, 1);
  const e = report.engine_comparison[0]!;
  assert.equal([e.workload, e.backend, e.concurrency, e.best?.label], ['commutative-inserts', 'file', 4, 'reference/new']);
  assert.equal(
    e.reference.map((r) => r.label),
    ['reference/legacy', 'reference/shadow_compare', 'reference/new'],
  );
  assert.equal(
    e.comparators.map((c) => [c.label, c.throughput_ratio, c.p99_ratio]),
    [['sqlite', 0.6, 0.5]],
  );
  assert.match(reportMarkdown(report), '| commutative-inserts | file | 4 | reference/new | 1200 | 400ns | sqlite | 2000 | 800ns | 0.60 | 0.50 |');
});

test.run();
