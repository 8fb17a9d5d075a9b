// The nightly report as people read it: canonical JSON for machines, and
// Markdown for a CI job summary or a chat message — the verdict first, then
// what failed it with the numbers behind each line, then what a user muted or
// acknowledged, with their reasons.

import { stableJson } from '../shared/json.ts';
import { mdeText } from '../gate/comparison.ts';
import type { MetricFinding, NightlyReport } from './judge.ts';
import { trimmed, type RoundsRan } from '../results/rounds.ts';

export const nightlyJson = (r: NightlyReport): string => `${stableJson(r)}\n`;

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const num = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));
const esc = (s: string): string => s.replace(/\|/g, '\\|');

function findingRow(f: MetricFinding): string {
  const c = f.comparison;
  return (
    `| \`${esc(f.key)}\` | ${num(c.baseline_median)} → ${num(c.candidate_median)} | ${pct(c.relative_diff)} | ${c.ci === null ? '–' : `[${pct(c.ci.lower)}, ${pct(c.ci.upper)}]`} | ` +
    `${c.test === null ? '–' : `p=${c.test.p_value.toFixed(4)} (Holm-adjusted ${c.p_adjusted!.toFixed(4)})`} | ${mdeText(f.mde)} | ${c.effect_size.value.toFixed(2)} | ${esc(f.note ?? '')} |`
  );
}

function roundsText(x: RoundsRan): string {
  const ran = x.least === x.most ? `${x.most}` : `${x.least}-${x.most}`;
  return `${ran} of ${x.asked} measured rounds per cell${trimmed(x) ? ` (trimmed to hold the run's ${Math.round(x.max_time_ms! / 1000)} s budget)` : ''}`;
}

export function nightlyMarkdown(r: NightlyReport): string {
  const out: string[] = [];
  const head =
    r.outcome === 'regression'
      ? '❌ regression'
      : r.outcome === 'inconclusive'
        ? `⚠️ inconclusive${r.exit_code === 0 ? ' (accepted)' : ''}`
        : '✅ no regression';
  out.push(`## shadowbench nightly — ${head}`, '');
  out.push(
    `Run \`${r.run_id}\`${r.git_commit === null ? '' : ` at commit \`${r.git_commit.slice(0, 12)}\``}, hardware signature \`${r.hardware_signature}\`, ${r.history.nights} night(s) of history; ${roundsText(r.run.rounds)}.`,
  );
  out.push(
    r.baseline.run_id === null || !r.baseline.comparable
      ? `Baseline \`${r.baseline.name}\`: ${r.baseline.why_not ?? 'none'}.`
      : `Baseline \`${r.baseline.name}\`: run \`${r.baseline.run_id}\` — ${r.comparisons.total} comparisons (${r.comparisons.deciding} deciding): ${r.comparisons.no_change} no change, ` +
          `${r.comparisons.inconclusive} inconclusive, ${r.comparisons.moved} moved; median MDE of the deciding ones ${mdeText(r.comparisons.median_deciding_mde)}.`,
  );
  const f = r.families;
  out.push(
    '',
    `Families: median latency decides; throughput and tails are reported. Night alpha ${f.night_alpha}: the gate's deciding comparisons at ${f.gate_alpha} (Holm), ` +
      `the baseline's ${f.baseline_deciding} at ${f.baseline_alpha} (Holm; night-to-night noise test at ${f.night_noise_alpha === null ? 'off' : f.night_noise_alpha.toPrecision(2)} each); ` +
      `change points at ${f.change_point_alpha} over ${f.change_point_series} series (Bonferroni). A comparison that could miss a change larger than ${(f.max_mde * 100).toFixed(0)}% (its MDE, 80% power) is inconclusive.`,
  );
  out.push('');
  if (r.reasons.length > 0) {
    out.push('### Why it failed', '');
    for (const x of r.reasons) out.push(`- ${x}`);
    out.push('');
  }
  if (r.inconclusive.length > 0) {
    out.push(`### Could not see (inconclusive${r.exit_code === 0 ? ', accepted' : ': exit 3'})`, '');
    for (const x of r.inconclusive) out.push(`- ${x}`);
    out.push('');
  }
  const table = (title: string, rows: MetricFinding[]): void => {
    if (rows.length === 0) return;
    out.push(
      `### ${title}`,
      '',
      "| metric | median (baseline → tonight) | change | 95% t interval | Welch t on log values | MDE | Cliff's δ | note |",
      '|---|---|---|---|---|---|---|---|',
    );
    for (const f of rows) out.push(findingRow(f));
    if (rows.some((f) => f.comparison.speed === 'yardstick'))
      out.push(
        '',
        "Baseline and tonight at the baseline's machine speed: each round scaled by the yardstick read beside it (the twin arm, or the frozen unit).",
      );
    out.push('');
  };
  table(
    'Regressions against the baseline',
    r.findings.filter((f) => f.status === 'regressed'),
  );
  table(
    "Suspect (significant against the baseline's rounds, but not beyond the night-to-night noise)",
    r.findings.filter((f) => f.status === 'suspect'),
  );
  table(
    'Tail latency regressions (reported, not failed)',
    r.findings.filter((f) => f.status === 'tail'),
  );
  if (r.change_points.length > 0) {
    out.push(
      '### Change points in the history',
      '',
      '| metric | kind | since night | change | test | p | status | acknowledge with |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const c of r.change_points) {
      out.push(
        `| \`${esc(c.key)}\` | ${c.kind} | \`${c.at_run}\` | ${pct(c.relative_change)} (${c.direction}) | ${c.test} (${c.statistic.toFixed(2)}) | ${c.p_value.toFixed(4)} | ${c.status} | \`${esc(c.acknowledge)}\` |`,
      );
    }
    out.push('');
  }
  if (r.gate.length > 0) {
    out.push('### Gate verdicts', '', '| class | verdict | largest MDE | at the baseline | first reason |', '|---|---|---|---|---|');
    for (const g of r.gate)
      out.push(
        `| ${g.metadata_class} | ${g.verdict}${g.inconclusive ? ' (inconclusive)' : ''} | ${mdeText(g.largest_mde)} | ${g.baseline_verdict ?? '–'} | ${esc(g.reasons[0] ?? '')} |`,
      );
    out.push('');
  }
  if (r.known.length > 0) {
    out.push('### Known (already at the baseline, not failed)', '');
    for (const k of r.known) out.push(`- ${k}`);
    out.push('');
  }
  table(
    'Improvements',
    r.findings.filter((f) => f.status === 'improved'),
  );
  if (r.muted.length > 0 || r.acknowledged.length > 0) {
    out.push('### Muted and acknowledged', '');
    for (const m of r.muted) out.push(`- muted \`${m.metric}\` (${m.applies_to.length} metric(s)) by ${m.created_by} on ${m.created_at}: ${m.reason}`);
    for (const a of r.acknowledged) out.push(`- acknowledged \`${a.metric}\` from night \`${a.at_run}\` by ${a.created_by} on ${a.created_at}: ${a.reason}`);
    const mutedFindings = r.findings.filter((f) => f.status === 'muted');
    if (mutedFindings.length > 0)
      out.push(`- muted metrics that moved tonight: ${mutedFindings.map((f) => `\`${f.key}\` ${pct(f.comparison.relative_diff)}`).join(', ')}`);
    out.push('');
  }
  out.push(`<sub>trace_correlation ${r.trace_correlation}</sub>`, '');
  return out.join('\n');
}
