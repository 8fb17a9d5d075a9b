// The self-contained HTML gate report: verdicts first, then charts drawn as
// inline SVG (no scripts, no network): latency percentile curves per mode,
// throughput by concurrency, M1 retry and spin distributions, and the
// fallbacks on a time line; comparator engines beside the reference modes.

import type { RunRecord } from '../results/record.ts';
import type { CellSummary } from '../results/summary.ts';
import type { HistogramSummary } from '../record/aggregate.ts';
import { latencyOpOf } from '../record/keys.ts';
import { mdeText, P_COLUMN, pct } from './comparison.ts';
import type { GateReport } from './report.ts';
import { formatNs } from '../shared/format.ts';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const W = 560;
const H = 240;
const PAD = { l: 64, r: 16, t: 16, b: 40 };

/** A series is a reference mode set, or a comparator engine (whose one mode set is `n/a`). */
const seriesOf = (c: RunRecord['cells'][number]): string => (c.variant === 'reference' ? c.mode_set : c.variant);

export const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Chart axes and cells: one digit less than tables. */
export const fmtNs = (v: number): string => formatNs(v, true);

/** Legend entries laid out left to right, each as wide as its label (about 6.5 px per character). */
function legend(labels: string[]): string[] {
  let x = PAD.l;
  return labels.map((l, k) => {
    const item = `<text x="${x}" y="${H - 6}" font-size="11" fill="${COLORS[k % COLORS.length]}">■ ${esc(l)}</text>`;
    x += 24 + l.length * 6.5;
    return item;
  });
}

export interface Series {
  label: string;
  points: [number, number][];
}

/** A line chart; `logY` for latencies spanning decades. */
export function lineChart(title: string, xLabels: string[], series: Series[], fmt: (v: number) => string, logY: boolean): string {
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v > 0);
  if (ys.length === 0) return '';
  const lo = logY ? Math.log10(Math.min(...ys)) : 0;
  const hi = logY ? Math.log10(Math.max(...ys)) : Math.max(...ys);
  const span = hi - lo || 1;
  const x = (i: number): number => PAD.l + (i * (W - PAD.l - PAD.r)) / Math.max(1, xLabels.length - 1);
  const y = (v: number): number => H - PAD.b - (((logY ? Math.log10(Math.max(v, 1e-9)) : v) - lo) / span) * (H - PAD.t - PAD.b);
  const ticks = [0, 0.5, 1].map((f) => lo + f * span).map((t) => (logY ? 10 ** t : t));
  const parts = [
    `<svg class="chart" role="img" aria-label="${esc(title)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">`,
    `<line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}" stroke="#999"/>`,
    `<line x1="${PAD.l}" y1="${PAD.t}" x2="${PAD.l}" y2="${H - PAD.b}" stroke="#999"/>`,
    ...ticks.map((t) => `<text x="${PAD.l - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${esc(fmt(t))}</text>`),
    ...xLabels.map((l, i) => `<text x="${x(i)}" y="${H - PAD.b + 16}" text-anchor="middle" font-size="11">${esc(l)}</text>`),
    ...series.map((s, k) => {
      const c = COLORS[k % COLORS.length]!;
      const d = s.points.map(([i, v], j) => `${j === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      return `<path d="${d}" fill="none" stroke="${c}" stroke-width="2"/>${s.points.map(([i, v]) => `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${c}"><title>${esc(`${s.label}: ${fmt(v)}`)}</title></circle>`).join('')}`;
    }),
    ...legend(series.map((s) => s.label)),
    '</svg>',
  ];
  return `<figure><figcaption>${esc(title)}</figcaption>${parts.join('')}</figure>`;
}

const PERCENTILES: [string, keyof HistogramSummary][] = [
  ['p50', 'p50'],
  ['p90', 'p90'],
  ['p99', 'p99'],
  ['p99.9', 'p999'],
  ['max', 'max'],
];

function latencyCurves(run: RunRecord, byId: Map<string, CellSummary>): string {
  const groups = new Map<string, RunRecord['cells']>();
  for (const c of run.cells)
    groups.set(`${c.workload} · ${c.backend} · c${c.concurrency}`, [...(groups.get(`${c.workload} · ${c.backend} · c${c.concurrency}`) ?? []), c]);
  const charts: string[] = [];
  for (const [group, cells] of groups) {
    const hist = (c: RunRecord['cells'][number]): [string, HistogramSummary] | undefined =>
      Object.entries(byId.get(c.id)?.histograms ?? {})
        .filter(([n]) => latencyOpOf(n) !== null)
        .sort((a, b) => b[1].count - a[1].count)[0];
    const series = cells.flatMap((c) => {
      const h = hist(c);
      return h === undefined ? [] : [{ label: `${seriesOf(c)} (${latencyOpOf(h[0])})`, points: PERCENTILES.map(([, k], i): [number, number] => [i, h[1][k]]) }];
    });
    charts.push(
      lineChart(
        `Latency percentiles — ${group}`,
        PERCENTILES.map(([l]) => l),
        series,
        fmtNs,
        true,
      ),
    );
  }
  return charts.join('');
}

function throughputByConcurrency(run: RunRecord): string {
  const charts: string[] = [];
  const keys = [...new Set(run.cells.map((c) => `${c.workload} · ${c.backend}`))];
  for (const key of keys) {
    const cells = run.cells.filter((c) => `${c.workload} · ${c.backend}` === key);
    const levels = [...new Set(cells.map((c) => c.concurrency))].sort((a, b) => a - b);
    if (levels.length < 1) continue;
    const modes = [...new Set(cells.map(seriesOf))];
    const series = modes.map((m) => ({
      label: m,
      points: levels.flatMap((lv, i): [number, number][] => {
        const c = cells.find((x) => seriesOf(x) === m && x.concurrency === lv);
        return c === undefined ? [] : [[i, c.throughput_ops_s]];
      }),
    }));
    charts.push(
      lineChart(
        `Throughput (ops/s) by concurrency — ${key}`,
        levels.map((l) => `c${l}`),
        series,
        (v) => v.toFixed(0),
        false,
      ),
    );
  }
  return charts.join('');
}

function spinAndRetry(run: RunRecord, byId: Map<string, CellSummary>): string {
  const out: string[] = [];
  for (const field of ['M1.read_retry_count', 'M1.poll_spins']) {
    const series = run.cells
      .flatMap((c) => {
        const h = byId.get(c.id)?.histograms[field];
        return h === undefined || h.count === 0
          ? []
          : [
              {
                label: `${c.workload.split('-')[0]} c${c.concurrency} ${c.mode_set}`,
                points: PERCENTILES.map(([, k], i): [number, number] => [i, Math.max(h[k], 0.5)]),
              },
            ];
      })
      .slice(0, 6);
    if (series.length > 0)
      out.push(
        lineChart(
          `${field} distribution (percentiles)`,
          PERCENTILES.map(([l]) => l),
          series,
          (v) => (v < 1 ? '0' : v.toFixed(0)),
          true,
        ),
      );
  }
  return out.join('');
}

function timeline(run: RunRecord): string {
  const events = run.cells.flatMap((c) => c.fallback_events ?? []);
  if (events.length === 0) return '<p>No fallback trigger fired during the run.</p>';
  const t0 = Date.parse(run.started_at);
  const t1 = Math.max(Date.parse(run.ended_at), ...events.map((e) => Date.parse(e.time)));
  const x = (t: number): number => PAD.l + ((t - t0) / Math.max(1, t1 - t0)) * (W - PAD.l - PAD.r);
  const rows = [...new Set(events.map((e) => e.metadata_class))];
  const h = PAD.t + rows.length * 28 + PAD.b;
  const marks = events.map((e) => {
    const row = rows.indexOf(e.metadata_class);
    const color = e.action === 'force_legacy' ? '#d62728' : '#ff7f0e';
    return `<circle cx="${x(Date.parse(e.time)).toFixed(1)}" cy="${PAD.t + row * 28 + 10}" r="6" fill="${color}"><title>${esc(`${e.trigger} (${e.action}) in ${e.cell}, round ${e.round}: ${e.observation.detail}`)}</title></circle>`;
  });
  return (
    `<figure><figcaption>Fallbacks on the run's time line (${((t1 - t0) / 1000).toFixed(0)} s)</figcaption><svg class="chart" role="img" aria-label="fallback timeline" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}">` +
    rows
      .map(
        (r, i) =>
          `<text x="${PAD.l - 8}" y="${PAD.t + i * 28 + 14}" text-anchor="end" font-size="12">${esc(r)}</text><line x1="${PAD.l}" y1="${PAD.t + i * 28 + 10}" x2="${W - PAD.r}" y2="${PAD.t + i * 28 + 10}" stroke="#ddd"/>`,
      )
      .join('') +
    marks.join('') +
    '</svg></figure>'
  );
}

function engines(r: GateReport): string {
  if (r.engine_comparison.length === 0) return '';
  const p99 = (v: number | null): string => (v === null ? '-' : fmtNs(v));
  const x = (v: number | null): string => (v === null ? '-' : `${v.toFixed(2)}×`);
  const rows = r.engine_comparison.flatMap((e) =>
    e.comparators.map(
      (c) =>
        `<tr><td>${esc(e.workload)} · ${esc(e.backend)} · c${e.concurrency}</td><td>${esc(e.best?.label ?? 'none usable')}</td><td>${e.best?.throughput_ops_s.toFixed(0) ?? '-'}</td><td>${p99(e.best?.p99_ns ?? null)}</td><td>${esc(c.label)}${c.status === 'ok' ? '' : ' (failed)'}</td><td>${c.throughput_ops_s.toFixed(0)}</td><td>${p99(c.p99_ns)}</td><td>${x(c.throughput_ratio)}</td><td>${x(c.p99_ratio)}</td></tr>`,
    ),
  );
  return `<h2>Engines side by side</h2><p>Ratios: the reference engine's best mode / the comparator.</p><table><tr><th>cells</th><th>reference best</th><th>ops/s</th><th>p99</th><th>comparator</th><th>ops/s</th><th>p99</th><th>ops/s ratio</th><th>p99 ratio</th></tr>${rows.join('')}</table>`;
}

/** Every comparison behind the verdicts, with the change each could have missed (MDE). */
function comparisons(r: GateReport): string {
  // A comparison serving several classes is one object: list it once.
  const rows = [...new Set(r.verdicts.flatMap((v) => v.comparisons))].map(
    (c) =>
      `<tr class="${c.outcome}"><td>${esc(c.cell_group)}</td><td>${esc(c.metric)}</td><td>${c.deciding ? 'yes' : 'no (tail)'}</td><td>${(c.relative_diff * 100).toFixed(1)}%</td>` +
      `<td>${c.ci === null ? '–' : `[${(c.ci.lower * 100).toFixed(1)}%, ${(c.ci.upper * 100).toFixed(1)}%]`}</td><td>${c.p_adjusted === null ? '–' : c.p_adjusted.toFixed(4)}</td>` +
      `<td>${esc(mdeText(c.mde))}</td><td>${c.outcome}${c.inconclusive_reason === null ? '' : ` (${c.inconclusive_reason.replace(/_/g, ' ')})`}</td></tr>`,
  );
  if (rows.length === 0) return '';
  return (
    `<h2>Comparisons</h2><p>Median latency decides (one Holm family at alpha ${r.options.alpha}); throughput and tails are reported. Paired within the run, a change counts beyond ±${pct(r.options.min_effect)} with confidence. MDE: the smallest change the comparison could detect that way with ${Math.round(r.options.power * 100)}% power.</p>` +
    `<table><tr><th>cells</th><th>metric</th><th>decides</th><th>change</th><th>95% CI</th><th>${P_COLUMN}</th><th>MDE</th><th>outcome</th></tr>${rows.join('')}</table>`
  );
}

export function reportHtml(r: GateReport, run: RunRecord, summaries: readonly CellSummary[]): string {
  const byId = new Map(summaries.map((s) => [s.id, s]));
  const verdictRows = r.verdicts
    .map(
      (v) =>
        `<tr class="${v.verdict}"><td>${v.metadata_class}</td><td><strong>${v.verdict}</strong>${v.inconclusive ? ' (inconclusive)' : ''}<br><small>largest MDE ${esc(mdeText(v.largest_mde))}</small></td><td><ul>${v.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>${v.not_run.length > 0 ? `<p class="notrun">Not run: ${v.not_run.map(esc).join('; ')}</p>` : ''}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shadowbench gate — ${esc(r.run_id)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:6px 8px;text-align:left;vertical-align:top}
tr.regressed td:last-child{color:#d62728}tr.inconclusive td:last-child{color:#b8860b}tr.promote td:nth-child(2){color:#2ca02c}tr.hold td:nth-child(2){color:#b8860b}tr.rollback td:nth-child(2){color:#d62728}
.grid{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0}figcaption{font-weight:600;margin:8px 0 4px}.notrun{color:#777}
</style></head><body>
<h1>shadowbench gate</h1>
<p>run <code>${esc(r.run_id)}</code> · hardware <code>${esc(r.hardware_signature)}</code> · commit <code>${esc(r.git_commit ?? 'unknown')}</code>${r.fault_injection ? ' · <strong>fault injection on</strong>' : ''}</p>
<h2>Verdicts</h2><table><tr><th>class</th><th>verdict</th><th>reasons</th></tr>${verdictRows}</table>
${comparisons(r)}
${engines(r)}
<h2>Latency percentile curves per mode</h2><div class="grid">${latencyCurves(run, byId)}</div>
<h2>Throughput by concurrency</h2><div class="grid">${throughputByConcurrency(run)}</div>
<h2>Retries and spins</h2><div class="grid">${spinAndRetry(run, byId) || '<p>No M1 retry or spin data in this run.</p>'}</div>
<h2>Fallbacks</h2>${timeline(run)}
<p><small>trace_correlation ${esc(r.trace_correlation)}</small></p>
</body></html>
`;
}
