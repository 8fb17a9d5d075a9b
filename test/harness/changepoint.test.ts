// Change-point detection over nightly histories: steps and slow drifts are
// found; flat noise and a single wild night (anywhere, last included) are not.
// Histories are synthetic with seeded noise, so every case is repeatable, and
// each noise case is tried over many seeds.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Xorshift32 } from '../../harness/shared/random.ts';
import { detectChange, MIN_NIGHTS } from '../../harness/nightly/changepoint.ts';

/** `n` nights around `level` with ±`noise` relative uniform noise; `shape` adds a change. */
function history(seed: number, n: number, noise: number, shape: (i: number) => number = () => 0, level = 1000): number[] {
  const rng = new Xorshift32(seed);
  return Array.from({ length: n }, (_, i) => level * (1 + shape(i) + (rng.next() * 2 - 1) * noise));
}

test('flat noisy histories have no change point (40 seeds)', () => {
  const found = Array.from({ length: 40 }, (_, s) => detectChange(history(s + 1, 20, 0.03))).filter((c) => c !== null);
  assert.ok(found.length <= 1, `${found.length} of 40 flat histories flagged: ${JSON.stringify(found[0])}`);
});

test('a single wild night, in the middle or last, is not a change point', () => {
  for (let s = 1; s <= 20; s++) {
    for (const at of [10, 19]) {
      const xs = history(s, 20, 0.02);
      xs[at] = xs[at]! * 1.4;
      assert.is(detectChange(xs), null, `seed ${s}, wild night ${at}`);
    }
  }
});

test('a 10% step is found at its night, with its size', () => {
  for (let s = 1; s <= 10; s++) {
    const c = detectChange(history(s, 20, 0.02, (i) => (i >= 12 ? 0.1 : 0)));
    assert.ok(c !== null, `seed ${s}`);
    assert.is(c.kind, 'step');
    assert.ok(Math.abs(c.at - 12) <= 1, `at ${c.at}`);
    assert.ok(c.relative_change > 0.07 && c.relative_change < 0.13, `change ${c.relative_change}`);
    assert.ok(c.p_value < 0.01);
    assert.is(c.test, 'pettitt_permutation');
  }
});

test('a step five nights from the end is found; two nights from the end is not yet', () => {
  const five = detectChange(history(3, 16, 0.01, (i) => (i >= 11 ? -0.15 : 0)));
  assert.ok(five !== null && five.kind === 'step' && five.at === 11, JSON.stringify(five));
  assert.ok(five.relative_change < -0.1);
  assert.is(detectChange(history(3, 16, 0.01, (i) => (i >= 14 ? -0.15 : 0))), null);
});

test('a slow drift of 1% a night over 20 nights is a drift', () => {
  for (let s = 1; s <= 10; s++) {
    const c = detectChange(history(s, 20, 0.02, (i) => 0.01 * i));
    assert.ok(c !== null, `seed ${s}`);
    assert.is(c.kind, 'drift', `seed ${s}: ${JSON.stringify(c)}`);
    assert.is(c.test, 'mann_kendall');
    assert.ok(c.relative_change > 0.12 && c.relative_change < 0.26, `change ${c.relative_change}`);
  }
});

test('too short a history, or a change smaller than min_effect, is not judged', () => {
  assert.is(detectChange(history(1, MIN_NIGHTS - 1, 0.001, (i) => (i >= 3 ? 0.5 : 0))), null);
  assert.is(detectChange(history(1, 20, 0.001, (i) => (i >= 10 ? 0.01 : 0))), null, 'a clear 1% step is below the default 3% min_effect');
  assert.ok(
    detectChange(
      history(1, 20, 0.001, (i) => (i >= 10 ? 0.01 : 0)),
      { alpha: 0.01, min_effect: 0.005, permutations: 499 },
    ) !== null,
  );
});

test('the same history gives the same answer (seeded permutations)', () => {
  const xs = history(9, 18, 0.03, (i) => (i >= 9 ? 0.06 : 0));
  assert.equal(detectChange(xs), detectChange([...xs]));
});

test.run();
