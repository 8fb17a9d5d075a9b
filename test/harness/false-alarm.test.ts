// The night's false-alarm rate, measured on synthetic A/A nights shaped like
// real ones (36 cells, every operation kind, heavy-tailed noise, stalls,
// machine drift within a night and level shifts between nights; see
// test/support/synthetic-night.ts): 200 nights of unchanged code, each judged
// by the gate and against the baseline and the history as `nightly` does,
// must fail at most at the night's designed rate (alpha 0.05). A real 10%
// slowdown must be found within a run where the design can see it, and a
// night that cannot see it must say inconclusive, never pass.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildReport } from '../../harness/gate/report.ts';
import { judgeNight, type NightlyReport } from '../../harness/nightly/judge.ts';
import { NIGHT_ALPHA, NIGHT_GATE } from '../../harness/nightly/shape.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import { QUICK, syntheticNight, type NightShape, type Slowdown } from '../support/synthetic-night.ts';

const judge = (tonight: RunRecord, baseline: RunRecord | null, history: RunRecord[]): NightlyReport =>
  judgeNight({
    tonight,
    run_exit_code: 0,
    baseline_name: 'nightly',
    baseline,
    history,
    annotations: [],
    gate: buildReport({ run: tonight, counters: new Map() }, NIGHT_GATE),
    baseline_verdicts: {},
  });

test('200 A/A nights: at most the designed rate of failing nights, and never a pass that could not see', () => {
  const nights: RunRecord[] = [];
  let failed = 0;
  let passed = 0;
  for (let i = 0; i < 200; i++) {
    const tonight = syntheticNight(`n${String(i).padStart(3, '0')}`, 1000 + i, QUICK);
    const r = judge(tonight, nights[0] ?? null, nights.slice(-29));
    nights.push(tonight);
    if (r.exit_code === 1) failed++;
    if (r.exit_code === 0) passed++;
    // A night passes only if every deciding comparison could see a change of max_mde.
    if (r.exit_code === 0) assert.is(r.comparisons.inconclusive, 0);
  }
  assert.ok(failed <= NIGHT_ALPHA * 200, `${failed} of 200 A/A nights failed (designed: at most ${NIGHT_ALPHA * 200})`);
  assert.is(passed, 0, "at the quick suite's noise no night can vouch for a 10% change: inconclusive (exit 3), not passed");
});

function gateFinds(shape: NightShape, slow: Slowdown, seeds: number[]) {
  return seeds.map((seed) => {
    const m6 = buildReport({ run: syntheticNight(`s${seed}`, seed, shape, slow), counters: new Map() }, NIGHT_GATE).verdicts.find(
      (v) => v.metadata_class === 'M6',
    )!;
    return { found: m6.verdict === 'rollback' && m6.reasons.some((r) => r.includes('commutative-inserts')), verdict: m6 };
  });
}

test('a real 10% slowdown of one arm is found within the run where its MDE allows, and never passed where it does not', () => {
  const seeds = Array.from({ length: 20 }, (_, i) => 5000 + i);
  // Twenty paired rounds at half the quick suite's noise (what paired slices aim for): median c1 MDE about 7%.
  const sensitive = gateFinds({ ...QUICK, rounds: 20, sigma: 0.035 }, { size: 0.1, workload: 'commutative-inserts' }, seeds);
  const found = sensitive.filter((x) => x.found).length;
  assert.ok(found >= 18, `found in ${found} of 20 nights`);
  // The quick suite's shape: a 10% change is often beyond what six rounds can see; those verdicts say so.
  for (const { found: f, verdict } of gateFinds(QUICK, { size: 0.1, workload: 'commutative-inserts' }, seeds)) {
    if (!f) assert.ok(verdict.verdict === 'rollback' || verdict.inconclusive, verdict.reasons.join('\n'));
  }
});

test('across nights: a 10% slowdown of every cell fails a night whose history can see it, and is inconclusive where it cannot', () => {
  const quiet: NightShape = { ...QUICK, rounds: 20, sigma: 0.035, drift: 0.01, night_sigma: 0.01 };
  const history = Array.from({ length: 15 }, (_, i) => syntheticNight(`q${i}`, 7000 + i, quiet));
  const slow = judge(syntheticNight('q-slow', 7100, quiet, { size: 0.1 }), history[0]!, history);
  assert.is(slow.exit_code, 1, slow.inconclusive.join('\n'));
  assert.ok(slow.findings.filter((f) => f.status === 'regressed').length > 10, `${slow.findings.filter((f) => f.status === 'regressed').length} regressions`);
  const noisy = Array.from({ length: 15 }, (_, i) => syntheticNight(`w${i}`, 8000 + i, QUICK));
  const unseen = judge(syntheticNight('w-slow', 8100, QUICK, { size: 0.1 }), noisy[0]!, noisy);
  assert.ok(unseen.exit_code !== 0, 'never passed');
  if (unseen.exit_code === 3) assert.ok(unseen.comparisons.median_deciding_mde! > 0.1, `median MDE ${unseen.comparisons.median_deciding_mde}`);
});

test.run();
