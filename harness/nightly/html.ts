// The nightly report as a self-contained HTML page (inline SVG, no scripts):
// the verdict and its reasons, then one chart per metric that moved or has a
// change point, night by night, with the baseline night and the change point
// marked, so a reader sees a step, a drift or one wild night at a glance.

import { mdeText } from '../gate/comparison.ts';
import { esc, fmtNs, lineChart } from '../gate/html.ts';
import type { NightlyReport } from './judge.ts';

const fmtValue =
  (key: string) =>
  (v: number): string =>
    key.endsWith('_ns') ? fmtNs(v) : v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0);

function chart(r: NightlyReport, s: NightlyReport['series'][number]): string {
  const runs = r.history.runs;
  // Run ids start with their UTC start (20261122T012752Z-…): month, day and time fit under a point.
  const short = (id: string): string => (/^\d{8}T\d{4}/.test(id) ? `${id.slice(4, 6)}-${id.slice(6, 8)} ${id.slice(9, 11)}:${id.slice(11, 13)}` : id);
  const label = (i: number): string => (runs.length <= 8 || i % Math.ceil(runs.length / 8) === 0 ? short(runs[i]!) : '');
  const points = s.values.flatMap((v, i): [number, number][] => (v === null ? [] : [[i, v]]));
  const marks: { label: string; points: [number, number][] }[] = [];
  const base = r.baseline.run_id === null ? -1 : runs.indexOf(r.baseline.run_id);
  if (base >= 0 && s.values[base] != null) marks.push({ label: 'baseline night', points: [[base, s.values[base]!]] });
  const cp = r.change_points.find((c) => c.key === s.key);
  const at = cp === undefined ? -1 : runs.indexOf(cp.at_run);
  if (at >= 0 && s.values[at] != null) marks.push({ label: `${cp!.kind} (${(cp!.relative_change * 100).toFixed(1)}%)`, points: [[at, s.values[at]!]] });
  return lineChart(
    `${s.key} (${s.better} is better)`,
    runs.map((_, i) => label(i)),
    [{ label: 'night median', points }, ...marks],
    fmtValue(s.key),
    false,
  );
}

export function nightlyHtml(r: NightlyReport): string {
  const status = (k: string): string => {
    const f = r.findings.find((x) => x.key === k);
    return f === undefined ? (r.change_points.some((c) => c.key === k) ? 'change point' : '') : `${f.status} (MDE ${mdeText(f.mde)})`;
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shadowbench nightly — ${esc(r.run_id)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#222}
.regression{color:#d62728}.inconclusive{color:#b8860b}.no_regression{color:#2ca02c}.grid{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0}
figcaption{font-weight:600;margin:8px 0 4px;font-size:12px}.muted{color:#777}
</style></head><body>
<h1 class="${r.outcome}">shadowbench nightly — ${r.outcome.replace('_', ' ')}</h1>
<p>run <code>${esc(r.run_id)}</code> · hardware <code>${esc(r.hardware_signature)}</code> · commit <code>${esc(r.git_commit ?? 'unknown')}</code> · baseline <code>${esc(r.baseline.run_id ?? 'none')}</code> · ${r.history.nights} night(s)</p>
${r.reasons.length > 0 ? `<h2>Why it failed</h2><ul>${r.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : ''}
${r.inconclusive.length > 0 ? `<h2>Could not see (inconclusive)</h2><ul>${r.inconclusive.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : ''}
<p>${r.comparisons.total} comparisons with the baseline (${r.comparisons.deciding} deciding): ${r.comparisons.no_change} no change, ${r.comparisons.inconclusive} inconclusive, ${r.comparisons.moved} moved; median MDE of the deciding ones ${esc(mdeText(r.comparisons.median_deciding_mde))}.</p>
${r.known.length > 0 ? `<h2>Known, as at the baseline</h2><ul>${r.known.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : ''}
<h2>Metrics that moved, night by night</h2>
<div class="grid">${r.series.map((s) => `<div><p class="muted">${esc(status(s.key))}</p>${chart(r, s)}</div>`).join('') || '<p>Nothing moved.</p>'}</div>
${
  r.muted.length + r.acknowledged.length > 0
    ? `<h2>Muted and acknowledged</h2><ul>${[
        ...r.muted.map((m) => `<li>muted <code>${esc(m.metric)}</code> by ${esc(m.created_by)} on ${esc(m.created_at)}: ${esc(m.reason)}</li>`),
        ...r.acknowledged.map(
          (a) => `<li>acknowledged <code>${esc(a.metric)}</code> from night <code>${esc(a.at_run ?? '')}</code> by ${esc(a.created_by)}: ${esc(a.reason)}</li>`,
        ),
      ].join('')}</ul>`
    : ''
}
<p><small>trace_correlation ${esc(r.trace_correlation)}</small></p>
</body></html>
`;
}
