// The nightly verdict, as a pure function of what the store and the run hold:
// tonight's run against the accepted baseline of the same hardware signature
// (per-round statistics: Mann-Whitney with Holm, bootstrap interval, Cliff's
// delta) and every metric's history of nights (change points). A metric a
// user muted is shown and not judged; an acknowledged change point restarts
// that metric's history at the acknowledged night. A regression against the
// baseline that lies within the night-to-night noise of the history is
// `suspect`, not a regression: one noisy night does not fail a build. Until
// the history holds `min_noise_nights` nights, that noise is unknown and a
// regression against the baseline is `suspect` too (measured here: two A/A
// nights of the quick suite differ by up to 60% in whole workloads).

import { createHash } from 'node:crypto';
import { median } from 'simple-statistics';
import type { Comparison, GateOptions } from '../gate/gate.ts';
import { DEFAULT_GATE } from '../gate/gate.ts';
import { compareRuns } from '../gate/compare.ts';
import { metricsOf } from '../gate/series.ts';
import type { GateReport } from '../gate/report.ts';
import type { RunRecord } from '../output/write.ts';
import { stableJson } from '../cli/verb.ts';
import { DEFAULT_NOISE_NIGHTS } from './shape.ts';
import { DEFAULT_CHANGE_POINT, detectChange, outsideNightNoise, type ChangePoint, type ChangePointOptions } from './changepoint.ts';

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
  baseline: RunRecord | null;
  /** Earlier nights of the same baseline name and hardware signature, oldest first. */
  history: readonly RunRecord[];
  annotations: readonly Annotation[];
  gate: GateReport;
  /** The gate's verdicts on the baseline run, by class: a rollback already there is known, not new. */
  baseline_verdicts?: Readonly<Record<string, string>>;
  options?: { gate?: GateOptions; change_point?: ChangePointOptions; min_noise_nights?: number };
}

/** `tail`: a tail-latency regression, reported and not failed (tails swing night to night far more than medians). */
export type MetricStatus = 'regressed' | 'suspect' | 'tail' | 'improved' | 'muted';

export interface MetricFinding {
  key: string;
  cell: string;
  metric: string;
  status: MetricStatus;
  comparison: Comparison;
  /** Tonight against the previous nights' medians; null with too short a history. */
  night_noise: { nights: number; median: number; mad: number; outside: boolean } | null;
  note: string | null;
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
  exit_code: 0 | 1;
  outcome: 'no_regression' | 'regression';
  reasons: string[];
  run: { exit_code: number; cells: number; failed: number; correctness_failures: number };
  gate: { metadata_class: string; verdict: string; baseline_verdict: string | null; reasons: string[] }[];
  /** Standing conditions the baseline already had (reported, not failed). */
  known: string[];
  /** Comparisons with the baseline that moved (every other one is no_change, noisy or too short). */
  findings: MetricFinding[];
  comparisons: { total: number; no_change: number; noisy: number; insufficient_rounds: number };
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

/**
 * The night is judged on throughput and median latencies, the steadiest
 * figures: fewer series, fewer false alarms. Tail percentiles are reported.
 */
export const JUDGED_METRIC = (metric: string): boolean => metric === 'throughput_ops_s' || metric.endsWith('.latency_p50_ns');

/** A night's value of a metric: the median of its rounds. */
const nightValue = (values: readonly number[]): number | null => (values.length === 0 ? null : median([...values]));

export function judgeNight(input: NightlyInput): NightlyReport {
  const { tonight, annotations } = input;
  const gateOptions = input.options?.gate ?? DEFAULT_GATE;
  const cpOptions = input.options?.change_point ?? DEFAULT_CHANGE_POINT;
  const minNoiseNights = input.options?.min_noise_nights ?? DEFAULT_NOISE_NIGHTS;
  const nights = [...input.history, tonight];
  const nightIds = nights.map((r) => r.run_id);
  const reasons: string[] = [];

  // Per metric, its value on each night (null where the cell or metric was absent).
  const series = new Map<string, { cell: string; metric: string; better: 'higher' | 'lower'; values: (number | null)[] }>();
  nights.forEach((run, i) => {
    for (const cell of run.cells) {
      if (!cell.usable_for_gate) continue;
      for (const [metric, s] of metricsOf(cell)) {
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
  const counts = { total: 0, no_change: 0, noisy: 0, insufficient_rounds: 0 };
  let baselineComparable = false;
  let whyNot: string | null = input.baseline === null ? `no accepted baseline '${input.baseline_name}' for hardware signature ${tonight.environment.hardware_signature} (accept one with --accept)` : null;
  if (input.baseline !== null) {
    const cmp = compareRuns(input.baseline, tonight, gateOptions);
    baselineComparable = cmp.comparable;
    whyNot = cmp.why_not;
    counts.total = cmp.comparisons.length;
    for (const c of cmp.comparisons) {
      if (c.outcome === 'no_change' || c.outcome === 'noisy' || c.outcome === 'insufficient_rounds') {
        counts[c.outcome]++;
        continue;
      }
      const key = `${c.cell_group}:${c.metric}`;
      const mute = muteOf(annotations, key);
      const past = judgedHistory(key).values.slice(0, -1);
      const tonightValue = series.get(key)?.values.at(-1) ?? null;
      const noise = past.length >= Math.max(1, minNoiseNights) && tonightValue !== null ? { nights: past.length, ...outsideNightNoise(past, tonightValue) } : null;
      let status: MetricStatus = c.outcome === 'improved' ? 'improved' : 'regressed';
      let note: string | null = null;
      if (mute !== null) {
        status = 'muted';
        note = `muted by ${mute.created_by} on ${mute.created_at}: ${mute.reason}`;
      } else if (status === 'regressed' && !JUDGED_METRIC(c.metric)) {
        status = 'tail';
      } else if (status === 'regressed' && noise !== null && !noise.outside) {
        status = 'suspect';
        note = `within the night-to-night noise of the last ${noise.nights} nights (median ${noise.median.toFixed(1)}, MAD ${noise.mad.toFixed(1)}): watch, not failed`;
      } else if (status === 'regressed' && noise === null && minNoiseNights > 0) {
        // Runs on one machine differ by far more than rounds within a run; until the history shows by how much, a change is not a verdict.
        status = 'suspect';
        note = `calibrating: ${past.length} of ${minNoiseNights} nights of history needed to know the night-to-night noise; watch, not failed`;
      }
      findings.push({ key, cell: c.cell_group, metric: c.metric, status, comparison: c, night_noise: noise, note });
    }
  }

  // Every metric's history.
  const change_points: ChangeFinding[] = [];
  for (const [key, e] of series) {
    if (!JUDGED_METRIC(e.metric) || e.values.at(-1) === null) continue;
    const h = judgedHistory(key);
    const cp = detectChange(h.values, cpOptions);
    if (cp === null) continue;
    const worse = e.better === 'higher' ? cp.relative_change < 0 : cp.relative_change > 0;
    const at_run = h.runs[cp.at]!;
    change_points.push({
      ...cp, key, cell: e.cell, metric: e.metric, at_run, direction: worse ? 'regressed' : 'improved',
      status: muteOf(annotations, key) === null ? 'new' : 'muted', nights: h.values.length,
      acknowledge: `shadowbench nightly ack '${key}' --at ${at_run} --reason '…'`,
    });
  }
  change_points.sort((a, b) => a.key.localeCompare(b.key));

  // The verdict.
  if (input.run_exit_code !== 0) reasons.push(`the run failed: ${tonight.totals.failed} failed cell(s), ${tonight.totals.correctness_failures} final-state mismatch(es)`);
  const known: string[] = [];
  for (const v of input.gate.verdicts.filter((x) => x.verdict === 'rollback')) {
    if (input.baseline_verdicts?.[v.metadata_class] === 'rollback') known.push(`${v.metadata_class} rollback, as at the baseline: ${v.reasons[0] ?? ''}`);
    else reasons.push(`gate: ${v.metadata_class} rollback: ${v.reasons[0] ?? ''}`);
  }
  for (const f of findings.filter((x) => x.status === 'regressed')) {
    reasons.push(`regression against baseline ${input.baseline?.run_id ?? ''}: ${f.key} ${(f.comparison.relative_diff * 100).toFixed(1)}% (p=${f.comparison.rank_test.p_value.toFixed(4)}, CI [${(f.comparison.ci.lower * 100).toFixed(1)}%, ${(f.comparison.ci.upper * 100).toFixed(1)}%])`);
  }
  for (const c of change_points.filter((x) => x.direction === 'regressed' && x.status === 'new')) {
    reasons.push(`${c.kind} in the history of ${c.key} at ${c.at_run}: ${(c.relative_change * 100).toFixed(1)}% (${c.test}, p=${c.p_value.toFixed(4)}, ${c.nights} nights)`);
  }
  const used = (a: Annotation): string[] => [...series.keys()].filter((k) => matches(a.metric, k));
  const body: Omit<NightlyReport, 'trace_correlation'> = {
    format: 'shadowbench-nightly', version: 1, run_id: tonight.run_id, hardware_signature: tonight.environment.hardware_signature,
    git_commit: tonight.environment.git_commit,
    baseline: { name: input.baseline_name, run_id: input.baseline?.run_id ?? null, comparable: baselineComparable, why_not: whyNot },
    exit_code: reasons.length > 0 ? 1 : 0, outcome: reasons.length > 0 ? 'regression' : 'no_regression', reasons,
    run: { exit_code: input.run_exit_code, cells: tonight.totals.cells, failed: tonight.totals.failed, correctness_failures: tonight.totals.correctness_failures },
    gate: input.gate.verdicts.map((v) => ({ metadata_class: v.metadata_class, verdict: v.verdict, baseline_verdict: input.baseline_verdicts?.[v.metadata_class] ?? null, reasons: v.reasons })),
    known, findings, comparisons: counts, change_points,
    acknowledged: annotations.filter((a) => a.kind === 'acknowledge').map((a) => ({ ...a, applies_to: used(a) })).filter((a) => a.applies_to.length > 0),
    muted: [...new Set(annotations.filter((a) => a.kind !== 'acknowledge').map((a) => a.metric))]
      .map((pattern) => annotations.filter((a) => a.kind !== 'acknowledge' && a.metric === pattern).at(-1)!)
      .filter((a) => a.kind === 'mute').map((a) => ({ ...a, applies_to: used(a) })),
    history: { nights: nights.length, runs: nightIds },
    series: [...new Set([...findings.map((f) => f.key), ...change_points.map((c) => c.key)])].sort()
      .map((key) => ({ key, better: series.get(key)?.better ?? 'lower', values: series.get(key)?.values ?? [] })),
  };
  return { ...body, trace_correlation: createHash('sha256').update(stableJson(body, 0)).digest('hex') };
}
