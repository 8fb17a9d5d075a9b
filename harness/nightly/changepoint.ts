// Change points in a metric's nightly history (one value per night, oldest
// first): a step (the level moved and stayed) or a drift (a monotonic trend
// over many nights). Both tests are rank-based, so one wild night moves a
// statistic by one rank at most, and a step needs MIN_SEGMENT nights on each
// side: a single noisy night, last or not, is never a change point.
//
// Step: the standardized Mann–Whitney statistic of every admissible split
// (Pettitt's), its maximum judged by a permutation test, which accounts for
// having tried every split. Drift: Mann–Kendall's S with its normal
// approximation and Sen's slope for the size. A change must also be larger
// than min_effect and than 3 scaled MADs of the nights around it, which keeps
// false alarms far below alpha per series (a nightly judges many series).
// When both fire, the model with the smaller squared error names the change.

import { errorFunction, median } from 'simple-statistics';
import { Xorshift32 } from '../shared/random.ts';

export const MIN_SEGMENT = 3;
/** Fewer nights than this and the history is not judged. */
export const MIN_NIGHTS = 2 * MIN_SEGMENT;

export interface ChangePointOptions {
  /** Two-sided level of one series' tests (a night divides its family's alpha by the series it judges). */
  alpha: number;
  /** Smallest relative change of the level that counts. */
  min_effect: number;
  permutations: number;
}

/**
 * alpha 0.01 per series with a 3% floor: on synthetic flat histories (±3%
 * uniform noise, 14–30 nights) about 0.1–0.5% of series raise a false change
 * point; a 10% step is confirmed about five nights after it. A night judges
 * about a hundred series, so the nightly holds the family to this alpha
 * (Bonferroni: alpha / series per series; judge.ts).
 */
export const DEFAULT_CHANGE_POINT: ChangePointOptions = { alpha: 0.01, min_effect: 0.03, permutations: 999 };

export type ChangeKind = 'step' | 'drift';

export interface ChangePoint {
  kind: ChangeKind;
  /** Index of the first night at the new level (step), or of the first night of the trend (drift). */
  at: number;
  /** Relative change of the level: median after vs before (step), or the fitted trend over the nights (drift). */
  relative_change: number;
  p_value: number;
  /** Pettitt's standardized U (step) or Mann–Kendall's z (drift). */
  statistic: number;
  test: 'pettitt_permutation' | 'mann_kendall';
}

/** A change must exceed this many scaled MADs of the nights around it. */
const NOISE_MULTIPLE = 3;

/** Scaled median absolute deviation of each group from its own median, pooled. */
function pooledMad(groups: readonly (readonly number[])[]): number {
  const dev = groups.flatMap((g) => {
    const m = median([...g]);
    return g.map((x) => Math.abs(x - m));
  });
  return 1.4826 * median(dev);
}

/** Ranks 1..n, ties sharing their mean rank. */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => ({ x, i })).sort((a, b) => a.x - b.x);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]!.x === order[i]!.x) j++;
    for (let k = i; k <= j; k++) r[order[k]!.i] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** The split with the largest standardized rank-sum difference, and that statistic. */
function bestSplit(r: readonly number[]): { at: number; z: number } {
  const n = r.length;
  const mid = (n + 1) / 2;
  let best = { at: -1, z: 0 };
  let cum = 0;
  for (let k = 1; k < n; k++) {
    cum += r[k - 1]! - mid;
    if (k < MIN_SEGMENT || n - k < MIN_SEGMENT) continue;
    const z = Math.abs(cum) / Math.sqrt((k * (n - k) * (n + 1)) / 12);
    if (z > best.z) best = { at: k, z };
  }
  return best;
}

function step(xs: readonly number[], o: ChangePointOptions): ChangePoint | null {
  const r = ranks(xs);
  const observed = bestSplit(r);
  if (observed.at < 0) return null;
  const left = xs.slice(0, observed.at);
  const right = xs.slice(observed.at);
  const before = median(left);
  const after = median(right);
  // The shift must also stand clear of the night-to-night noise inside each level.
  if (Math.abs(after - before) <= NOISE_MULTIPLE * pooledMad([left, right])) return null;
  // Enough permutations for p to reach alpha (a night judges many series, each at a small alpha);
  // a series stops as soon as it can no longer get there, so only real steps pay for them all.
  const total = Math.max(o.permutations, Math.ceil(3 / o.alpha));
  // Seeded by the values: the same history always gives the same p-value (and report).
  const rng = new Xorshift32(xs.reduce((h, x) => (Math.imul(h, 31) + Math.round(x * 1000)) | 0, 17) || 1);
  const perm = [...r];
  let extreme = 0;
  for (let p = 0; p < total; p++) {
    for (let i = perm.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    if (bestSplit(perm).z >= observed.z - 1e-12 && ++extreme + 1 >= o.alpha * (total + 1)) return null;
  }
  return {
    kind: 'step',
    at: observed.at,
    relative_change: before === 0 ? 0 : (after - before) / Math.abs(before),
    p_value: (extreme + 1) / (total + 1),
    statistic: observed.z,
    test: 'pettitt_permutation',
  };
}

/** Mann–Kendall trend test (two-sided, normal approximation with continuity correction; ties ignored in the variance). */
function drift(xs: readonly number[]): ChangePoint {
  const n = xs.length;
  let s = 0;
  const slopes: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      s += Math.sign(xs[j]! - xs[i]!);
      slopes.push((xs[j]! - xs[i]!) / (j - i));
    }
  }
  const variance = (n * (n - 1) * (2 * n + 5)) / 18;
  const z = s === 0 ? 0 : (s - Math.sign(s)) / Math.sqrt(variance);
  const level = median([...xs]);
  const sen = median(slopes);
  const intercept = median(xs.map((x, i) => x - sen * i));
  const trend = Math.abs(sen * (n - 1)) > NOISE_MULTIPLE * pooledMad([xs.map((x, i) => x - (intercept + sen * i))]);
  return {
    kind: 'drift',
    at: 0,
    relative_change: level === 0 ? 0 : (sen * (n - 1)) / Math.abs(level),
    p_value: trend ? Math.min(1, 1 - errorFunction(Math.abs(z) / Math.SQRT2)) : 1,
    statistic: z,
    test: 'mann_kendall',
  };
}

/** Squared error of a two-level fit split at `at`. */
function sse(xs: readonly number[], at: number): number {
  const mean = (a: readonly number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
  const err = (a: readonly number[]): number => {
    const m = mean(a);
    return a.reduce((s, x) => s + (x - m) ** 2, 0);
  };
  return err(xs.slice(0, at)) + err(xs.slice(at));
}

/** Squared error of a least-squares line. */
function lineSse(xs: readonly number[]): number {
  const n = xs.length;
  const mx = (n - 1) / 2;
  const my = xs.reduce((s, x) => s + x, 0) / n;
  let sxy = 0;
  let sxx = 0;
  xs.forEach((y, x) => {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  });
  const b = sxx === 0 ? 0 : sxy / sxx;
  return xs.reduce((s, y, x) => s + (y - (my + b * (x - mx))) ** 2, 0);
}

/** The change point of a history, or null when there is none worth naming. */
export function detectChange(xs: readonly number[], o: ChangePointOptions = DEFAULT_CHANGE_POINT): ChangePoint | null {
  if (xs.length < MIN_NIGHTS) return null;
  const found = [step(xs, o), drift(xs)].filter((c): c is ChangePoint => c !== null && c.p_value < o.alpha && Math.abs(c.relative_change) >= o.min_effect);
  if (found.length === 0) return null;
  if (found.length === 1) return found[0]!;
  const [s, d] = found as [ChangePoint, ChangePoint];
  return sse(xs, s.at) <= lineSse(xs) ? s : d;
}
