// The nightly verdict, as a pure function of what the store and the run hold:
// tonight's run against the accepted baseline of the same hardware signature
// and every metric's history of nights (change points). The night's
// families are explicit: median latency decides (throughput and tails are
// reported), the gate's deciding comparisons form one Holm family and the
// baseline's another, and the histories' change points a third, their
// alphas adding up to the night's (shape.ts). A
// regression against the baseline's rounds must also stand outside the
// night-to-night noise of the history (a t prediction interval held to the
// family's alpha over its size, noise.ts); until the history holds
// `min_noise_nights` nights that noise is unknown and such a regression is
// `suspect`. A comparison that could have missed a change larger than
// max_mde (its MDE, or the history's, above it) is inconclusive, and so is
// the night, which fails closed (exit 3) unless inconclusive is accepted. A
// metric a user muted is shown and not judged; an acknowledged change point
// restarts that metric's history at the acknowledged night.

import { createHash } from 'node:crypto';
import { median } from 'simple-statistics';
import { compareRuns, sameYardstick } from '../gate/compare.ts';
import { mdeText, pct, type Comparison } from '../gate/comparison.ts';
import type { GateOptions } from '../gate/options.ts';
import { isDeciding, metricsAtSpeed, metricsOf, yardstickLevel } from '../gate/series.ts';
import type { GateReport } from '../gate/report.ts';
import { gateComparisons } from '../gate/gate.ts';
import { standingRegression } from './standing-regression.ts';
import type { RunFigures, RunRecord } from '../results/record.ts';
import { roundsRan, type RoundsRan } from '../results/rounds.ts';
import { stableJson } from '../shared/json.ts';
import { DEFAULT_NOISE_NIGHTS, NIGHT_ALPHA, NIGHT_CHANGE_POINT, NIGHT_GATE } from './shape.ts';
import { MIN_NIGHTS, detectChange, type ChangePoint, type ChangePointOptions } from './changepoint.ts';
import { nightNoise, type NightNoise } from './noise.ts';

/** A user's word on a metric, as the store keeps it (oldest first). */
export interface Annotation {
  kind: 'acknowledge' | 'mute' | 'unmute';
  /** `<cell_id>:<metric>`, or a prefix ending in `*`. */
  metric: string;
  at_run: string | null;
  reason: string;
  created_by: string;
  created_at: string;
}

export interface NightlyInput {
  tonight: RunRecord;
  /** The run exit code (1: a cell failed or modes disagreed on the final state). */
  run_exit_code: number;
  baseline_name: string;
  /** The accepted baseline run for this hardware signature, if any. */
  baseline: RunFigures | null;
  /** Earlier nights of the same baseline name and hardware signature, oldest first. */
  history: readonly RunFigures[];
  annotations: readonly Annotation[];
  gate: GateReport;
  /** The gate's verdicts on the baseline run, by class: a rollback already there is known, not new. */
  baseline_verdicts?: Readonly<Record<string, string>>;
  options?: {
    /** The baseline family's options (default NIGHT_GATE: half the night's alpha). */
    gate?: GateOptions;
    change_point?: ChangePointOptions;
    min_noise_nights?: number;
    /** Exit 0 instead of 3 on an inconclusive night (the report still says inconclusive). */
    accept_inconclusive?: boolean;
  };
}

/** `tail`: a tail-latency regression, reported and not failed (tails swing night to night far more than medians). */
export type MetricStatus = 'regressed' | 'suspect' | 'tail' | 'improved' | 'muted';

export interface MetricFinding {
  key: string;
  cell: string;
  metric: string;
  status: MetricStatus;
  comparison: Comparison;
  /** Tonight against the previous nights' values; null when not judged (too short a history, or min_noise_nights 0). */
  night_noise: NightNoise | null;
  /** What this night could see of the metric: the larger of the rounds' MDE and the history's; null: infinite. */
  mde: number | null;
  note: string | null;
}

/** Every comparison with the baseline, in brief: what it found and what it could have missed. */
export interface BaselineRow {
  key: string;
  deciding: boolean;
  change: number;
  p_adjusted: number | null;
  /** MDE of the rounds' test (null: infinite). */
  mde: number | null;
  /** MDE of the night-noise test (null: infinite or not judged; see night_noise_judged). */
  night_mde: number | null;
  night_noise_judged: boolean;
  outcome: Comparison['outcome'];
  /** The night's reading: a finding's status, or no_change / inconclusive. */
  status: MetricStatus | 'no_change' | 'inconclusive';
  /** A deciding metric, not a regression, whose change up to max_mde could have gone unseen (rounds' or history's MDE): it makes the night inconclusive. */
  blind: boolean;
}

export interface ChangeFinding extends ChangePoint {
  key: string;
  cell: string;
  metric: string;
  /** The first night at the new level (step) or of the trend (drift). */
  at_run: string;
  direction: 'regressed' | 'improved';
  status: 'new' | 'muted';
  nights: number;
  /** The command that acknowledges this change point. */
  acknowledge: string;
}

export interface NightlyReport {
  format: 'shadowbench-nightly';
  version: 1;
  run_id: string;
  hardware_signature: string;
  git_commit: string | null;
  baseline: { name: string; run_id: string | null; comparable: boolean; why_not: string | null };
  /** 0 no regression, 1 regression, 3 inconclusive (0 when accepted). */
  exit_code: 0 | 1 | 3;
  outcome: 'no_regression' | 'regression' | 'inconclusive';
  reasons: string[];
  /** Why the night is inconclusive: what it could not see (empty when it could see everything it judges). */
  inconclusive: string[];
  /** The night's families and the alphas they were held to. */
  families: {
    night_alpha: number;
    gate_alpha: number;
    baseline_alpha: number;
    baseline_deciding: number;
    night_noise_alpha: number | null;
    change_point_alpha: number;
    change_point_series: number;
    max_mde: number;
  };
  run: {
    exit_code: number;
    cells: number;
    failed: number;
    correctness_failures: number;
    /** Measured rounds: those asked (--rounds), the fewest and most a cell ran, and the time budget that trimmed them (null: none). */
    rounds: RoundsRan;
  };
  gate: { metadata_class: string; verdict: string; inconclusive: boolean; largest_mde: number | null; baseline_verdict: string | null; reasons: string[] }[];
  /** Standing conditions the baseline already had (reported, not failed). */
  known: string[];
  /** Comparisons with the baseline that moved (every other one is no_change or inconclusive). */
  findings: MetricFinding[];
  comparisons: { total: number; deciding: number; no_change: number; inconclusive: number; moved: number; median_deciding_mde: number | null };
  /** Every comparison with the baseline, with its MDE. */
  baseline_comparisons: BaselineRow[];
  change_points: ChangeFinding[];
  acknowledged: (Annotation & { applies_to: string[] })[];
  muted: (Annotation & { applies_to: string[] })[];
  history: { nights: number; runs: string[] };
  /** Night by night values (null: not measured that night) of every metric with a finding or a change point. */
  series: { key: string; better: 'higher' | 'lower'; values: (number | null)[] }[];
  trace_correlation: string;
}

const matches = (pattern: string, key: string): boolean => (pattern.endsWith('*') ? key.startsWith(pattern.slice(0, -1)) : key === pattern);

/** Whether `key` is muted: the latest mute/unmute whose pattern matches decides. */
function muteOf(annotations: readonly Annotation[], key: string): Annotation | null {
  const last = annotations.filter((a) => a.kind !== 'acknowledge' && matches(a.metric, key)).at(-1);
  return last?.kind === 'mute' ? last : null;
}

/** The latest acknowledgement of `key` that names a night of this history. */
function ackOf(annotations: readonly Annotation[], key: string, nights: readonly string[]): Annotation | null {
  return annotations.filter((a) => a.kind === 'acknowledge' && matches(a.metric, key) && a.at_run !== null && nights.includes(a.at_run)).at(-1) ?? null;
}

/** A night's value of a metric: the median of its rounds. */
const nightValue = (values: readonly number[]): number | null => (values.length === 0 ? null : median([...values]));

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** What a row could see: the larger of its MDEs (Infinity when either is infinite). */
const seen = (r: BaselineRow): number => (r.mde === null || (r.night_noise_judged && r.night_mde === null) ? Infinity : Math.max(r.mde, r.night_mde ?? 0));

export function judgeNight(input: NightlyInput): NightlyReport {
  const { tonight, annotations } = input;
  const gateOptions = input.options?.gate ?? NIGHT_GATE;
  const cpOptions = input.options?.change_point ?? NIGHT_CHANGE_POINT;
  const minNoiseNights = input.options?.min_noise_nights ?? DEFAULT_NOISE_NIGHTS;
  const nights = [...input.history, tonight];
  const nightIds = nights.map((r) => r.run_id);
  const reasons: string[] = [];

  // Per metric, its value on each night (null where the cell or metric was absent): at tonight's machine speed when
  // tonight's cell carries readings of a named yardstick (runtime/yardstick.ts), else as measured. A night that cannot
  // be put at that speed (timed with another yardstick, or without readings) is left out of the cell's history rather
  // than turning the whole series back to as measured: after a new yardstick the history restarts at its first night
  // (the noise test calibrates again for min_noise_nights) instead of going blind until the old nights age out.
  const series = new Map<string, { cell: string; metric: string; better: 'higher' | 'lower'; values: (number | null)[] }>();
  const speedRef = new Map(tonight.cells.map((c) => [c.id, tonight.config.yardstick === undefined ? null : yardstickLevel(c)]));
  nights.forEach((run, i) => {
    for (const cell of run.cells) {
      if (!cell.usable_for_gate) continue;
      const ref = speedRef.get(cell.id) ?? null;
      const figures = ref === null ? metricsOf(cell) : sameYardstick(run, tonight) ? metricsAtSpeed(cell, ref) : null;
      if (figures === null) continue;
      for (const [metric, s] of figures) {
        const key = `${cell.id}:${metric}`;
        let e = series.get(key);
        if (e === undefined) series.set(key, (e = { cell: cell.id, metric, better: s.better, values: new Array<number | null>(nights.length).fill(null) }));
        e.values[i] = nightValue(s.values);
      }
    }
  });
  /** A metric's judged history: from its acknowledged night on, nights it was measured. */
  const judgedHistory = (key: string): { values: number[]; runs: string[] } => {
    const e = series.get(key);
    if (e === undefined) return { values: [], runs: [] };
    const ack = ackOf(annotations, key, nightIds);
    const from = ack === null ? 0 : nightIds.indexOf(ack.at_run!);
    const values: number[] = [];
    const runs: string[] = [];
    e.values.forEach((v, i) => {
      if (i >= from && v !== null) {
        values.push(v);
        runs.push(nightIds[i]!);
      }
    });
    return { values, runs };
  };

  // Tonight against the baseline.
  const findings: MetricFinding[] = [];
  const rows: BaselineRow[] = [];
  let baselineComparable = false;
  let deciding = 0;
  let whyNot: string | null =
    input.baseline === null
      ? `no accepted baseline '${input.baseline_name}' for hardware signature ${tonight.environment.hardware_signature} (accept one with --accept)`
      : null;
  if (input.baseline !== null) {
    const cmp = compareRuns(input.baseline, tonight, gateOptions);
    baselineComparable = cmp.comparable;
    whyNot = cmp.why_not;
    deciding = cmp.comparisons.filter((c) => c.deciding && c.test !== null).length;
    // The history test is one per deciding comparison: Bonferroni keeps the family within its alpha.
    const noiseAlpha = gateOptions.alpha / Math.max(1, deciding);
    for (const c of cmp.comparisons) {
      const key = `${c.cell_group}:${c.metric}`;
      const mute = muteOf(annotations, key);
      const past = judgedHistory(key).values.slice(0, -1);
      const tonightValue = series.get(key)?.values.at(-1) ?? null;
      const judgeNoise = c.deciding && minNoiseNights > 0;
      const noise = judgeNoise && tonightValue !== null && past.length >= minNoiseNights ? nightNoise(past, tonightValue, noiseAlpha, gateOptions.power) : null;
      const moved = c.outcome === 'regressed' || c.outcome === 'improved';
      let status: BaselineRow['status'] = c.outcome === 'improved' ? 'improved' : c.outcome === 'regressed' ? 'regressed' : 'no_change';
      let note: string | null = null;
      if (mute !== null) {
        status = 'muted';
        note = `muted by ${mute.created_by} on ${mute.created_at}: ${mute.reason}`;
      } else if (status === 'regressed' && !c.deciding) {
        status = 'tail';
      } else if (status === 'regressed' && judgeNoise && noise === null) {
        // Runs on one machine differ by far more than rounds within a run; until the history shows by how much, a change is not a verdict.
        status = 'suspect';
        note = `calibrating: ${past.length} of ${minNoiseNights} nights of history needed to know the night-to-night noise; watch, not failed`;
      } else if (status === 'regressed' && noise !== null && !noise.outside) {
        status = 'suspect';
        note = `within the night-to-night noise of the last ${noise.nights} nights (level ${noise.level.toFixed(1)}, sd ${pct(noise.sd_log)}, p=${noise.p_value.toFixed(4)} against ${noise.alpha.toPrecision(2)}); watch, not failed`;
      }
      const row: BaselineRow = {
        key,
        deciding: c.deciding,
        change: c.relative_diff,
        p_adjusted: c.p_adjusted,
        mde: c.mde,
        night_mde: noise?.mde ?? null,
        night_noise_judged: judgeNoise,
        outcome: c.outcome,
        status,
        blind: false,
      };
      // Not a regression, yet a change larger than max_mde could have gone unseen: the night cannot vouch for this metric.
      row.blind = c.deciding && (status === 'no_change' || status === 'suspect') && seen(row) > gateOptions.max_mde;
      if (row.blind && status === 'no_change') row.status = 'inconclusive';
      rows.push(row);
      if (moved)
        findings.push({
          key,
          cell: c.cell_group,
          metric: c.metric,
          status: status as MetricStatus,
          comparison: c,
          night_noise: noise,
          mde: finite(seen(row)),
          note,
        });
    }
  }

  // Every metric's history.
  const change_points: ChangeFinding[] = [];
  // The deciding series long enough to judge form one family: each is held to its alpha over their number.
  const histories = [...series]
    .filter(([, e]) => isDeciding(e.metric) && e.values.at(-1) !== null)
    .map(([key, e]) => ({ key, e, h: judgedHistory(key) }))
    .filter((x) => x.h.values.length >= MIN_NIGHTS);
  const perSeries = { ...cpOptions, alpha: cpOptions.alpha / Math.max(1, histories.length) };
  for (const { key, e, h } of histories) {
    const cp = detectChange(h.values, perSeries);
    if (cp === null) continue;
    const worse = e.better === 'higher' ? cp.relative_change < 0 : cp.relative_change > 0;
    const at_run = h.runs[cp.at]!;
    change_points.push({
      ...cp,
      key,
      cell: e.cell,
      metric: e.metric,
      at_run,
      direction: worse ? 'regressed' : 'improved',
      status: muteOf(annotations, key) === null ? 'new' : 'muted',
      nights: h.values.length,
      acknowledge: `shadowbench nightly ack '${key}' --at ${at_run} --reason '…'`,
    });
  }
  change_points.sort((a, b) => a.key.localeCompare(b.key));

  // The verdict.
  if (input.run_exit_code !== 0)
    reasons.push(`the run failed: ${tonight.totals.failed} failed cell(s), ${tonight.totals.correctness_failures} final-state mismatch(es)`);
  const known: string[] = [];
  const rollbacks = input.gate.verdicts.filter((x) => x.verdict === 'rollback');
  // The baseline's comparisons, measured again only when a rollback asks whether it had the same regression.
  const baselineGate = input.baseline === null || rollbacks.length === 0 ? null : gateComparisons(input.baseline);
  for (const v of rollbacks) {
    if (input.baseline_verdicts?.[v.metadata_class] === 'rollback') {
      known.push(`${v.metadata_class} rollback, as at the baseline: ${v.reasons[0] ?? ''}`);
      continue;
    }
    const standing = standingRegression(v, baselineGate?.get(v.metadata_class), input.gate.options.alpha);
    if (standing !== null) known.push(`${v.metadata_class} rollback on a regression the baseline had too, not significantly larger tonight: ${standing}`);
    else reasons.push(`gate: ${v.metadata_class} rollback: ${v.reasons[0] ?? ''}`);
  }
  for (const f of findings.filter((x) => x.status === 'regressed')) {
    const c = f.comparison;
    reasons.push(
      `regression against baseline ${input.baseline?.run_id ?? ''}: ${f.key} ${pct(c.relative_diff)} (p=${c.test!.p_value.toFixed(4)}, Holm-adjusted ${c.p_adjusted!.toFixed(4)}, CI [${pct(c.ci!.lower)}, ${pct(c.ci!.upper)}], MDE ${mdeText(f.mde)})`,
    );
  }
  for (const c of change_points.filter((x) => x.direction === 'regressed' && x.status === 'new')) {
    reasons.push(
      `${c.kind} in the history of ${c.key} at ${c.at_run}: ${(c.relative_change * 100).toFixed(1)}% (${c.test}, p=${c.p_value.toFixed(4)}, ${c.nights} nights)`,
    );
  }
  const inconclusive: string[] = [];
  const blind = rows.filter((r) => r.blind);
  if (blind.length > 0) {
    const widest = [...blind].sort((a, b) => seen(b) - seen(a))[0]!;
    inconclusive.push(
      `${blind.length} of ${rows.filter((r) => r.deciding).length} deciding comparisons with the baseline could have missed a change larger than ${pct(gateOptions.max_mde)}; widest: ${widest.key} (MDE ${mdeText(finite(seen(widest)))}${widest.night_noise_judged && widest.night_mde === null ? `, night-to-night noise not yet known: ${minNoiseNights} nights needed` : ''})`,
    );
  }
  for (const v of input.gate.verdicts.filter((x) => x.inconclusive))
    inconclusive.push(`gate: ${v.metadata_class} inconclusive: ${v.reasons.find((r) => r.startsWith('hold: inconclusive')) ?? ''}`);
  const exit: NightlyReport['exit_code'] = reasons.length > 0 ? 1 : inconclusive.length > 0 && input.options?.accept_inconclusive !== true ? 3 : 0;
  const decidingMdes = rows
    .filter((r) => r.deciding)
    .map(seen)
    .filter(Number.isFinite);
  const used = (a: Annotation): string[] => [...series.keys()].filter((k) => matches(a.metric, k));
  const body: Omit<NightlyReport, 'trace_correlation'> = {
    format: 'shadowbench-nightly',
    version: 1,
    run_id: tonight.run_id,
    hardware_signature: tonight.environment.hardware_signature,
    git_commit: tonight.environment.git_commit,
    baseline: { name: input.baseline_name, run_id: input.baseline?.run_id ?? null, comparable: baselineComparable, why_not: whyNot },
    exit_code: exit,
    outcome: reasons.length > 0 ? 'regression' : inconclusive.length > 0 ? 'inconclusive' : 'no_regression',
    reasons,
    inconclusive,
    families: {
      night_alpha: NIGHT_ALPHA,
      gate_alpha: input.gate.options.alpha,
      baseline_alpha: gateOptions.alpha,
      baseline_deciding: deciding,
      night_noise_alpha: minNoiseNights > 0 && deciding > 0 ? gateOptions.alpha / deciding : null,
      change_point_alpha: cpOptions.alpha,
      change_point_series: histories.length,
      max_mde: gateOptions.max_mde,
    },
    run: {
      exit_code: input.run_exit_code,
      cells: tonight.totals.cells,
      failed: tonight.totals.failed,
      correctness_failures: tonight.totals.correctness_failures,
      rounds: roundsRan(tonight),
    },
    gate: input.gate.verdicts.map((v) => ({
      metadata_class: v.metadata_class,
      verdict: v.verdict,
      inconclusive: v.inconclusive,
      largest_mde: v.largest_mde,
      baseline_verdict: input.baseline_verdicts?.[v.metadata_class] ?? null,
      reasons: v.reasons,
    })),
    known,
    findings,
    change_points,
    baseline_comparisons: rows,
    comparisons: {
      total: rows.length,
      deciding: rows.filter((r) => r.deciding).length,
      no_change: rows.filter((r) => r.status === 'no_change').length,
      inconclusive: rows.filter((r) => r.blind).length,
      moved: findings.length,
      median_deciding_mde: decidingMdes.length === 0 ? null : median(decidingMdes),
    },
    acknowledged: annotations
      .filter((a) => a.kind === 'acknowledge')
      .map((a) => ({ ...a, applies_to: used(a) }))
      .filter((a) => a.applies_to.length > 0),
    muted: [...new Set(annotations.filter((a) => a.kind !== 'acknowledge').map((a) => a.metric))]
      .map((pattern) => annotations.filter((a) => a.kind !== 'acknowledge' && a.metric === pattern).at(-1)!)
      .filter((a) => a.kind === 'mute')
      .map((a) => ({ ...a, applies_to: used(a) })),
    history: { nights: nights.length, runs: nightIds },
    series: [...new Set([...findings.map((f) => f.key), ...change_points.map((c) => c.key)])]
      .sort()
      .map((key) => ({ key, better: series.get(key)?.better ?? 'lower', values: series.get(key)?.values ?? [] })),
  };
  return { ...body, trace_correlation: createHash('sha256').update(stableJson(body, 0)).digest('hex') };
}
