// Night-to-night noise. Rounds of one run share its machine state, so a
// test of tonight's rounds against the baseline's treats as independent what
// is not: two A/A nights of the quick suite differed by up to 60% in whole
// workloads, far beyond what rounds within one run show. Tonight's value is
// therefore also held against the nights before it: a t prediction interval
// on the log of each night's value, whose spread covers the drift between
// nights and each night's own sampling noise. Its MDE is what the history
// lets a night see.

import tCdf from '@stdlib/stats-base-dists-t-cdf';
import { predictionMde, variance } from '../gate/mde.ts';

export interface NightNoise {
  /** Past nights judged. */
  nights: number;
  /** Geometric mean of the past nights' values. */
  level: number;
  /** Standard deviation of their logs. */
  sd_log: number;
  /** Two-sided p of tonight's value under the past nights' spread. */
  p_value: number;
  /** The level it was held to. */
  alpha: number;
  /** Tonight stands outside the night-to-night noise (p below alpha). */
  outside: boolean;
  /** The smallest change a night could show beyond that noise, with the given power; null: none (fewer than two nights). */
  mde: number | null;
}

/** Tonight against `past` nights' values (positive), at two-sided level `alpha`; null with fewer than two past nights. */
export function nightNoise(past: readonly number[], tonight: number, alpha: number, power: number): NightNoise | null {
  const logs = past.filter((x) => x > 0).map(Math.log);
  const h = logs.length;
  if (h < 2 || !(tonight > 0)) return null;
  const mean = logs.reduce((s, x) => s + x, 0) / h;
  const sd = Math.sqrt(variance(logs));
  const se = sd * Math.sqrt(1 + 1 / h);
  const d = Math.log(tonight) - mean;
  const p = se === 0 ? (d === 0 ? 1 : 0) : 2 * (1 - tCdf(Math.abs(d) / se, h - 1));
  const mde = predictionMde(logs, alpha, power);
  return { nights: h, level: Math.exp(mean), sd_log: sd, p_value: p, alpha, outside: p < alpha, mde: Number.isFinite(mde) ? mde : null };
}
