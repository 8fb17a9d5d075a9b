// Trigger rules as executable data. Each reads window counters (see
// harness/record/recorder.ts for the counter names) and says whether the
// card's fallback trigger is observed, with the numbers behind it.

import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import type { Evidence, KillSwitchProfile, Observation, TriggerRule } from './types.ts';

const LATCH: KillSwitchProfile = { kind: 'latch' };

export const get = (m: ReadonlyMap<string, number>, key: string): number => m.get(key) ?? 0;

function sumWhere(m: ReadonlyMap<string, number>, test: (k: string) => boolean): number {
  let n = 0;
  for (const [k, v] of m) if (test(k)) n += v;
  return n;
}

/** Fires when a window counter is above the threshold (zero-tolerance contracts use 0). */
export function countAbove(id: string, wording: string, key: string, threshold = 0, profile = LATCH): TriggerRule {
  return {
    id,
    wording,
    threshold,
    profile,
    observe(e: Evidence, t: number): Observation {
      const value = get(e.window, key);
      return { fired: value > t, value, threshold: t, detail: `${key} = ${value} in this window (allowed: ${t})` };
    },
  };
}

/** One-sided level a ratio's lower bound is taken at (99.9%): every window is another look. */
const RATIO_LEVEL = 0.999;
/** Rounds needed before a ratio's spread can be estimated. */
const RATIO_MIN_ROUNDS = 3;

type Sum = (m: ReadonlyMap<string, number>) => number;

/** Running sums of one ratio's rounds: count, Σa, Σw, Σa², Σaw, Σw² (a = part, w = whole, both scaled). */
const MOMENTS = ['k', 'a', 'w', 'aa', 'aw', 'ww'] as const;
type Moments = Record<(typeof MOMENTS)[number], number>;

/**
 * Adds one window (part `a`, whole `w`) of round `round` to a ratio's running
 * sums in `memo`. A round's windows (its connections' slices) are summed into
 * one observation: they share a database and a moment of the machine, so
 * they are not independent draws of the ratio. Counted one by one, the four
 * connections of one c4 round of visibility-schema-change's M6 snapshot arm
 * made a 6.9% share a bound of 0.0547 (t with 3 df) and rolled M6 back on an
 * A/A night, where the cell's share over all its rounds was 1.3%. Values are
 * scaled by the first window's whole, so the sums of squares stay near 1.
 */
export function addRatioWindow(memo: Map<string, number>, a: number, w: number, round: number): void {
  if (!memo.has('scale')) memo.set('scale', w > 0 ? w : a > 0 ? a : 1);
  if (memo.has('round') && memo.get('round') !== round) {
    const m = moments(memo);
    for (const k of MOMENTS) memo.set(k, m[k]);
    memo.set('pa', 0);
    memo.set('pw', 0);
  }
  memo.set('round', round);
  memo.set('pa', (memo.get('pa') ?? 0) + a);
  memo.set('pw', (memo.get('pw') ?? 0) + w);
}

/** The sums over the rounds done and the round under way. */
function moments(memo: ReadonlyMap<string, number>): Moments {
  const s = memo.get('scale') ?? 1;
  const m = Object.fromEntries(MOMENTS.map((k) => [k, memo.get(k) ?? 0])) as Moments;
  if (!memo.has('round')) return m;
  const [x, y] = [(memo.get('pa') ?? 0) / s, (memo.get('pw') ?? 0) / s];
  return { k: m.k + 1, a: m.a + x, w: m.w + y, aa: m.aa + x * x, aw: m.aw + x * y, ww: m.ww + y * y };
}

/**
 * The standard error of the ratio estimator R = Σa / Σw over the rounds in
 * `memo` (linearization: Σ(a − R·w)² from the running sums), Infinity with
 * fewer than RATIO_MIN_ROUNDS rounds.
 */
export function ratioStandardError(memo: ReadonlyMap<string, number>, r: number): number {
  const m = moments(memo);
  if (m.k < RATIO_MIN_ROUNDS || m.w <= 0) return Infinity;
  const ss = Math.max(0, m.aa - 2 * r * m.aw + r * r * m.ww);
  return Math.sqrt(ss / (m.k * (m.k - 1))) / (m.w / m.k);
}

/**
 * The ratio's one-sided RATIO_LEVEL lower bound: Student's t with k − 1
 * degrees of freedom (k rounds), since the spread comes from the rounds
 * themselves. A normal quantile (3.09) made it a 95.6% bound at three and 98%
 * at five: an A/A night's M6 snapshot arm fired at an estimate of 5.6% over
 * three rounds (bound 0.0501), where t's quantile is 22.3, not 3.09.
 */
export function ratioLowerBound(memo: ReadonlyMap<string, number>, r: number): number {
  const se = ratioStandardError(memo, r);
  return Number.isFinite(se) ? r - tQuantile(RATIO_LEVEL, moments(memo).k - 1) * se : -Infinity;
}

/**
 * Fires when `part / whole` over the windows so far exceeds the threshold
 * beyond its uncertainty (the ratio's one-sided 99.9% lower bound is above
 * it), once `evidence` (a count of events, by default `whole` itself) reaches
 * `minEvidence`. A point estimate near the threshold fired on some nights and
 * not others with nothing changed; a ratio whose every window agrees (a count
 * ratio of 1.0) has no spread and fires as soon as it has its evidence.
 */
export function ratioAbove(
  id: string,
  wording: string,
  threshold: number,
  minEvidence: number,
  part: Sum,
  whole: Sum,
  what: string,
  evidence: Sum = whole,
  profile: KillSwitchProfile = LATCH,
): TriggerRule {
  return {
    id,
    wording,
    threshold,
    profile,
    observe(e: Evidence, t: number): Observation {
      const w = whole(e.total);
      const n = evidence(e.total);
      const value = w > 0 ? part(e.total) / w : 0;
      addRatioWindow(e.memo, part(e.window), whole(e.window), e.round);
      const lower = ratioLowerBound(e.memo, value);
      const bound = Number.isFinite(lower) ? lower.toFixed(4) : `unknown before ${RATIO_MIN_ROUNDS} rounds`;
      return {
        fired: n >= minEvidence && lower > t,
        value,
        threshold: t,
        detail: `${what} = ${value.toFixed(4)}, lower bound ${bound} (threshold ${t}; ${n} events over ${moments(e.memo).k} rounds, needs ${minEvidence})`,
      };
    },
  };
}

// Shares of time are winsorized sums (`.wsum`: each window's values above its
// p99 counted at it): on two cores a connection preempted while it holds the
// committed-state mutex turns one ~100 ns snapshot allocation into 8 ms, which
// alone made "5% of commit time" in a round's first thousand publishes.

/** Write transactions' service time: the denominator of "share of commit time". */
export const writeServiceNs = (m: ReadonlyMap<string, number>): number =>
  get(m, 'op.write.service_ns.wsum') + get(m, 'op.concurrent_write.service_ns.wsum') + get(m, 'op.ddl.service_ns.wsum');

/**
 * Snapshot allocation plus the time snapshot-mode reads spend binding
 * (refcount traffic). Where binds are timed in a sample of transactions only,
 * their summed time is scaled up to every bind.
 */
export const snapshotChurnNs = (m: ReadonlyMap<string, number>): number => {
  const timed = get(m, 'M6.read.duration_ns.count');
  const binds = get(m, 'M6.control_mode.snapshot') > 0 && timed > 0 ? (get(m, 'M6.read.duration_ns.wsum') * get(m, 'M6.read')) / timed : 0;
  return get(m, 'M6.alloc_ns.wsum') + binds;
};

/** Skew of sessions over shards: the busiest shard's share against an even spread. */
export function shardSkew(id: string, wording: string, threshold: number, minSessions: number): TriggerRule {
  return {
    id,
    wording,
    threshold,
    profile: LATCH,
    observe(e: Evidence, t: number): Observation {
      if (get(e.total, 'M11.control_mode.legacy') > 0 && get(e.total, 'M11.control_mode.sharded') + get(e.total, 'M11.control_mode.shadow_compare') === 0) {
        return { fired: false, value: 0, threshold: t, detail: 'legacy global registry: no shards' };
      }
      const shards = [...e.total].filter(([k]) => k.startsWith('M11.shard_id.')).map(([, v]) => v);
      const total = shards.reduce((a, b) => a + b, 0);
      const max = Math.max(0, ...shards);
      const value = shards.length > 0 && total > 0 ? max / (total / shards.length) : 0;
      return {
        fired: total >= minSessions && value > t,
        value,
        threshold: t,
        detail: `busiest shard received ${max} of ${total} sessions over ${shards.length} shards: ${value.toFixed(2)}x an even share`,
      };
    },
  };
}

export { sumWhere };
