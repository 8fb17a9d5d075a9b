// The gate's statistics against tabulated and hand-computed values: the t
// distribution, the paired and Welch t-tests, the rank tests' exact p-values
// and the smallest p their designs can reach, Holm's adjustment, and the
// minimum detectable effect against the power table in MEASUREMENT.md.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { cliffsDelta, mannWhitney, signedRank } from '../../harness/gate/ranks.ts';
import { pairedLogRatio, welchLogRatio } from '../../harness/gate/ttests.ts';
import { mannWhitneyMinP, pairedMde, pairsForMde, predictionMde, signedRankMinP, trimmedMean, unpairedMde, welchDf } from '../../harness/gate/mde.ts';
import { compare, judgeFamily, measure, pBeyond } from '../../harness/gate/comparison.ts';
import { DEFAULT_GATE } from '../../harness/gate/options.ts';
import { expectedNightHits, spreadForHits } from '../../harness/bench/harness/night-power.ts';

const near = (a: number, b: number, eps: number, what: string): void => assert.ok(Math.abs(a - b) < eps, `${what}: ${a} vs ${b}`);

test('Student t: tabulated two-sided 5% points and quantiles', () => {
  near(2 * (1 - tCdf(2.5706, 5)), 0.05, 1e-4, 't(5) at 2.5706');
  near(2 * (1 - tCdf(2.2281, 10)), 0.05, 1e-4, 't(10) at 2.2281');
  near(2 * (1 - tCdf(1, 1)), 0.5, 1e-12, 'Cauchy median');
  near(tQuantile(0.975, 5), 2.5706, 1e-3, 't(5) 97.5%');
  near(tQuantile(0.8, 29), 0.8542, 1e-3, 't(29) 80%');
});

test('paired t on log ratios: a drift between rounds cancels; Welch: hand-computed df', () => {
  // Rounds that speed up 2x over the run, the candidate 10% slower in each: unpaired, the drift swamps the change.
  const drift = [100, 120, 140, 160, 180, 200];
  const cand = drift.map((x, i) => x * 1.1 * (1 + ((i % 2) - 0.5) * 0.01));
  const pt = pairedLogRatio(drift, cand)!;
  assert.ok(pt.p_value < 1e-5, String(pt.p_value));
  near(pt.relative_change, 0.1, 0.01, 'change');
  assert.ok(pt.ci.lower > 0.08 && pt.ci.upper < 0.12, JSON.stringify(pt.ci));
  assert.ok(mannWhitney(cand, drift).p_value > 0.3, 'the unpaired rank test sees nothing');
  assert.ok(welchLogRatio(drift, cand)!.p_value > 0.3, 'nor does Welch');
  assert.is(pairedLogRatio([1], [1]), null, 'fewer than 2 pairs');
  assert.is(pairedLogRatio([1, 2, 3], [1, 2]), null, 'unequal lengths');
  // var(1..4) = 5/3, var(2,3,4,5.5) = 2.2292: df = (5/12 + 0.5573)² / ((5/12)²/3 + 0.5573²/3) = 5.877.
  near(welchDf(5 / 3, 4, 2.229166, 4), 5.877, 1e-3, 'Welch df');
  const w = welchLogRatio([10, 11, 9, 10.5], [20, 22, 18, 21])!;
  near(w.relative_change, 1, 0.01, 'doubling');
  assert.ok(w.p_value < 1e-4);
});

test("Yuen's trimmed paired t: hand-computed standard error, and one disturbed pair neither decides nor blinds", () => {
  // 1..9 and 100, 10% trimmed: g = 1, kept 2..9 (mean 5.5); winsorized 2,2,3..9,9: variance 66.5/9; se = sqrt(9·(66.5/9)/(8·7)).
  const y = trimmedMean([1, 2, 3, 4, 5, 6, 7, 8, 9, 100], 0.1);
  assert.is(y.trimmed, 1);
  near(y.mean, 5.5, 1e-12, 'trimmed mean');
  near(y.se, Math.sqrt(66.5 / 56), 1e-12, 'se');
  assert.is(y.df, 7);
  assert.is(trimmedMean([1, 2, 3], 0.1).trimmed, 0, 'below 10 values nothing is cut');
  // Eleven pairs 5% slower (±1%), and one slice of the baseline disturbed whole (bench run, commutative-inserts file c1).
  const base = Array.from({ length: 12 }, (_, i) => (i === 10 ? 87.4 : 45));
  const cand = base.map((_, i) => 45 * 1.05 * (1 + ((i % 3) - 1) * 0.01));
  const robust = pairedLogRatio(base, cand)!;
  const plain = pairedLogRatio(base, cand, 0.95, 0)!;
  assert.is(robust.test, 'paired_trimmed_t_log_ratio');
  assert.ok(robust.p_value < 1e-6 && Math.abs(robust.relative_change - 0.05) < 0.005, JSON.stringify(robust));
  assert.ok(plain.p_value > 0.5, `Student's t is blinded by the one pair: p ${plain.p_value}`);
  assert.ok(pairedMde([0.01, -0.01, 0.02, 0, -0.02, 0.01, 0, -0.01, 0.01, 0, 0.02, -0.66], 0.05) < 0.05, 'the MDE, too');
});

test('rank tests: exact p-values, and the smallest p a design can reach', () => {
  const sep = mannWhitney([1, 2, 3, 4], [5, 6, 7, 8]);
  assert.is(sep.statistic, 0);
  near(sep.p_value, 2 / 70, 1e-12, 'complete separation of 4 vs 4');
  near(sep.min_p_value, 2 / 70, 1e-12, '4 vs 4 can never go below 0.0286');
  near(mannWhitneyMinP(6, 6), 2 / 924, 1e-12, '6 vs 6');
  assert.is(mannWhitney([1, 2, 3], [1, 2, 3]).p_value, 1);
  const big = mannWhitney(
    Array.from({ length: 30 }, (_, i) => i),
    Array.from({ length: 30 }, (_, i) => i + 40),
  );
  assert.is(big.method, 'normal');
  assert.ok(big.p_value < 1e-4, String(big.p_value));
  // Six pairs all slower: the exact signed-rank p is 2/2^6.
  const sr = signedRank([1, 1, 1, 1, 1, 1], [1.1, 1.2, 1.3, 1.4, 1.5, 1.6]);
  near(sr.p_value, 2 / 64, 1e-12, 'Wilcoxon exact, n = 6');
  near(sr.min_p_value, signedRankMinP(6), 1e-15, 'its smallest possible p');
  assert.is(cliffsDelta([5, 6], [1, 2]), 1);
  assert.is(cliffsDelta([1, 2], [5, 6]), -1);
});

test("minimum detectable effect: MEASUREMENT.md's power table (5% at alpha 0.05, 80% power)", () => {
  assert.equal(
    [0.2, 0.1, 0.05, 0.03].map((sd) => pairsForMde(sd, 0.05, 0.05)),
    [134, 35, 11, 6],
  );
  const d = Array.from({ length: 35 }, (_, i) => (i % 2 === 0 ? 0.1 : -0.1));
  // The table is Student's paired t; the gate's trimmed mean needs a few more pairs for the same sd.
  assert.ok(pairedMde(d, 0.05, 0.8, 0) <= 0.051 && pairedMde(d.slice(0, 30), 0.05, 0.8, 0) > 0.05, 'the found pair count is the fewest');
  assert.ok(pairedMde(d, 0.05) > pairedMde(d, 0.05, 0.8, 0), 'trimming costs clean pairs some power');
  assert.is(pairedMde([0.1], 0.05), Infinity, 'one pair: nothing can be seen');
  assert.is(pairsForMde(1, 0.001, 0.05, 0.8, 1000), null, 'unreachable within the budget');
  assert.ok(pairedMde(d, 0.05 / 100) > pairedMde(d, 0.05), 'a stricter level sees less');
  // Large samples approach the normal formula (1.96 + 0.8416) · σ · √(2/n).
  const a = Array.from({ length: 2000 }, (_, i) => Math.sin(i) * 0.1);
  const b = a.map((x) => -x);
  const sd = Math.sqrt(a.reduce((s, x) => s + x * x, 0) / 1999);
  near(Math.log1p(unpairedMde(a, b, 0.05)), 2.8016 * sd * Math.sqrt(2 / 2000), 1e-4, 'normal limit');
  assert.is(predictionMde([1], 0.05), Infinity);
});

test("the night-to-night test's power, simulated, against the noncentral t (scipy.stats.nct)", () => {
  // +10.9% against runs spread 0.025 (log), alpha 0.02: h = 5 finds it with probability 0.58; h = 5..19 together 12.50 times.
  const hs = Array.from({ length: 15 }, (_, i) => i + 5);
  near(expectedNightHits(0.025, 0.109, [5], 0.02, 0.8), 0.58, 0.03, 'h = 5');
  near(expectedNightHits(0.025, 0.109, hs, 0.02, 0.8), 12.5, 0.2, 'h = 5..19');
  // 14 of 15 expected: 14.26 at sd 0.020, 13.68 at 0.022.
  const sd = spreadForHits(14, 0.109, hs, 0.02, 0.8);
  assert.ok(sd > 0.02 && sd < 0.022, `spread for 14 of 15: ${sd}`);
});

test('Holm over a family (stdlib padjust): several metrics do not turn noise into a verdict', () => {
  // Three metrics with paired p of about 0.01, 0.03 and 0.04: Holm keeps only the first at alpha 0.05.
  const fam = [
    [1.05, 0.01],
    [1.04, 0.03],
    [1.03, 0.04],
  ].map(([f, spread], k) => {
    const base = [100, 100, 100, 100, 100, 100];
    return measure(
      'g',
      `m${k}`,
      'lower',
      true,
      base,
      base.map((x, i) => x * f! * (1 + (i % 2 === 0 ? spread! : -spread!))),
      true,
    );
  });
  judgeFamily('three', fam, DEFAULT_GATE);
  // Holm over what decides: the p of a change beyond ±min_effect, never smaller than the t test's own.
  const ps = fam.map((c) => c.p_beyond_min_effect!);
  for (const c of fam) assert.ok(c.p_beyond_min_effect! >= c.test!.p_value, `${c.metric}: the margin test is the stricter`);
  const sorted = [...ps].sort((x, y) => x - y);
  for (const c of fam) {
    const k = sorted.indexOf(c.p_beyond_min_effect!);
    const holm = Math.max(...sorted.slice(0, k + 1).map((p, j) => Math.min(1, (3 - j) * p)));
    near(c.p_adjusted!, holm, 1e-12, `Holm-adjusted p of ${c.metric}`);
    assert.is(c.family.size, 3);
    assert.ok(c.mde !== null && c.mde > 0);
  }
});

test('the test that decides: a change beyond ±min_effect; with no margin, the t test itself', () => {
  const t = pairedLogRatio([100, 100, 100, 100, 100, 100], [103, 104, 103.5, 102.5, 103, 104])!;
  near(pBeyond(t, 0), t.p_value, 1e-12, 'no margin: the two-sided t test');
  assert.ok(pBeyond(t, 0.02) > t.p_value && pBeyond(t, 0.02) < 0.05, `3.3% beyond 2%: p ${pBeyond(t, 0.02)}`);
  assert.is(pBeyond(t, 0.05), 1, 'inside the margin: nothing to reject');
});

test('outcomes: significant, negligible, and inconclusive are told apart, each with its MDE', () => {
  const base = [1000, 1010, 990, 1005, 995, 1002, 998, 1003];
  const wobble = (f: number, s: number) => base.map((x, i) => x * f * (1 + (i % 2 === 0 ? s : -s)));
  const slow = compare('g', 'throughput_ops_s', 'higher', base, wobble(0.85, 0.01), DEFAULT_GATE, true);
  assert.is(slow.outcome, 'regressed');
  const tiny = compare('g', 'throughput_ops_s', 'higher', base, wobble(0.99, 0.001), DEFAULT_GATE, true);
  assert.is(tiny.outcome, 'no_change', 'significant but below min_effect');
  const flat = compare('g', 'throughput_ops_s', 'higher', base, wobble(1, 0.005), DEFAULT_GATE, true);
  assert.is(flat.outcome, 'no_change');
  assert.ok(flat.mde! > DEFAULT_GATE.min_effect && flat.mde! < 0.03, `a quiet pair of arms sees a change just beyond the 2% that counts: MDE ${flat.mde}`);
  // A change counts only when its interval clears ±2%: 3% measured tightly does, 3% measured loosely does not.
  const tight = compare('g', 'throughput_ops_s', 'higher', base, wobble(1 / 1.03, 0.002), DEFAULT_GATE, true);
  assert.is(tight.outcome, 'regressed', `${tight.ci!.upper}`);
  const loose = compare('g', 'throughput_ops_s', 'higher', base, wobble(1 / 1.03, 0.02), DEFAULT_GATE, true);
  assert.ok(loose.test!.p_value < 0.05 && loose.ci!.upper > -0.02, 'significant, but its interval reaches inside ±2%');
  assert.is.not(loose.outcome, 'regressed');
  const noisy = compare('g', 'throughput_ops_s', 'higher', base, wobble(1, 0.3), DEFAULT_GATE, true);
  assert.is(noisy.outcome, 'inconclusive');
  assert.is(noisy.inconclusive_reason, 'mde_above_threshold');
  assert.ok(noisy.mde! > DEFAULT_GATE.max_mde);
  const one = compare('g', 'throughput_ops_s', 'higher', [1000], [400], DEFAULT_GATE, true);
  assert.equal([one.outcome, one.inconclusive_reason, one.mde], ['inconclusive', 'too_few_rounds', null]);
});

test("the issue's 4-vs-4 compare: a 61% loss is a regression now, and the rank test is shown to be blind", () => {
  // commutative-inserts, memory, c4, 4 rounds of 1 s; the second run with M6.delay_ns=20000 (issue 14).
  const a = [46146, 44980, 47310, 45620];
  const b = [17836, 18410, 17290, 18105];
  const fam = ['throughput_ops_s', 'p50', 'p99'].map((m) => measure('c4', m, 'higher', true, a, b, false));
  judgeFamily('run', fam, DEFAULT_GATE);
  const t = fam[0]!;
  assert.is(t.outcome, 'regressed');
  near(t.relative_diff, -0.61, 0.01, 'change');
  near(t.rank_test.p_value, 2 / 70, 1e-12, 'Mann-Whitney p = 0.029 as before');
  assert.ok(t.rank_test.min_p_value >= t.alpha_used, 'which can never pass Holm over three metrics');
});

test.run();
