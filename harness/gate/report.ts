// Gate reports: canonical JSON (sorted keys, no timestamps, so the same run
// gives byte-identical output) carrying `trace_correlation` = SHA-256 over
// that canonical form, and Markdown for a pull-request comment.

import { createHash } from 'node:crypto';
import { stableJson } from '../shared/json.ts';
import { compareEngines } from '../results/versus.ts';
import { readRunResults, type RunResults } from '../results/folder.ts';
import type { CellRecord } from '../results/record.ts';
import type { EngineComparison } from '../results/summary.ts';
import { mdeText, P_COLUMN, pct, type Comparison } from './comparison.ts';
import { gate, type GateInput, type Verdict } from './gate.ts';
import { DEFAULT_GATE, type GateOptions } from './options.ts';
import { formatNs } from '../shared/format.ts';

export interface GateReport {
  format: 'shadowbench-gate';
  version: 1;
  run_id: string;
  hardware_signature: string;
  git_commit: string | null;
  fault_injection: boolean;
  options: GateOptions;
  verdicts: Verdict[];
  /** Keep-local classes have nothing to promote; their cards' alerts are listed. */
  keep_local_alerts: { metadata_class: string; trigger: string; cell: string; detail: string }[];
  /** Cells whose figures the gate could not use, and why. */
  unusable_cells: { id: string; why: string[] }[];
  /** Reference modes beside comparator engines (SQLite, external) on the same workload; empty when one variant ran. */
  engine_comparison: EngineComparison[];
  trace_correlation: string;
}

/** What the gate judges, from a run in memory. */
export function gateInputOf({ run, summary }: RunResults): GateInput {
  return { run, counters: new Map(summary.cells.map((c) => [c.id, c.counters])), summaries: summary.cells };
}

/** The gate's input from a run folder; a folder that cannot be read throws RunFolderError naming the file. */
export const loadGateInput = (runDir: string): GateInput => gateInputOf(readRunResults(runDir));

function unusable(c: CellRecord): string[] {
  return [...c.failures.map((f) => `failed: ${f}`), ...c.gaps.map((g) => `observability gap: ${g}`), ...c.correctness.map((m) => `correctness: ${m}`)];
}

export function buildReport(input: GateInput, options: GateOptions = DEFAULT_GATE): GateReport {
  const { run } = input;
  const body: Omit<GateReport, 'trace_correlation'> = {
    format: 'shadowbench-gate',
    version: 1,
    run_id: run.run_id,
    hardware_signature: run.environment.hardware_signature,
    git_commit: run.environment.git_commit,
    fault_injection: run.engine?.fault_injection_active === true,
    options,
    verdicts: gate(input, options),
    keep_local_alerts: run.cells.flatMap((c) =>
      (c.fallback_events ?? [])
        .filter((e) => e.action === 'alert')
        .map((e) => ({ metadata_class: e.metadata_class, trigger: e.trigger, cell: c.id, detail: e.observation.detail })),
    ),
    unusable_cells: run.cells.filter((c) => unusable(c).length > 0).map((c) => ({ id: c.id, why: unusable(c) })),
    engine_comparison: compareEngines(run.cells, input.summaries ?? []),
  };
  return { ...body, trace_correlation: createHash('sha256').update(stableJson(body, 0)).digest('hex') };
}

export const reportJson = (r: GateReport): string => `${stableJson(r)}\n`;

const ICON: Record<Verdict['verdict'], string> = { promote: 'PROMOTE', hold: 'HOLD', rollback: 'ROLLBACK' };

const fixed = (x: number | null, digits: number): string => (x === null ? '–' : x.toFixed(digits));
const interval = (ci: Comparison['ci']): string => (ci === null ? '–' : `[${(ci.lower * 100).toFixed(1)}%, ${(ci.upper * 100).toFixed(1)}%]`);

/** Every comparison with its test, its Holm-adjusted p and the change it could have missed (MDE at 80% power). */
export function comparisonTable(cs: readonly Comparison[]): string[] {
  const rows = [
    `| cells | metric | decides | baseline | candidate | change | 95% CI | ${P_COLUMN} | MDE | rank test p (smallest possible) | Cliff δ | outcome |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of cs) {
    const outcome = c.inconclusive_reason === null ? c.outcome : `${c.outcome} (${c.inconclusive_reason.replace(/_/g, ' ')})`;
    rows.push(
      `| ${c.cell_group} | ${c.metric} | ${c.deciding ? 'yes' : 'no (tail)'} | ${c.baseline_median.toFixed(0)} | ${c.candidate_median.toFixed(0)} | ${(c.relative_diff * 100).toFixed(1)}% | ${interval(c.ci)} | ` +
        `${fixed(c.test?.p_value ?? null, 4)} (${fixed(c.p_adjusted, 4)}) | ${mdeText(c.mde)} | ${c.rank_test.p_value.toFixed(3)} (${c.rank_test.min_p_value.toPrecision(2)}) | ${c.effect_size.value.toFixed(2)} | ${outcome} |`,
    );
  }
  return rows;
}

export function reportMarkdown(r: GateReport): string {
  const out = [
    `## shadowbench gate — run \`${r.run_id}\``,
    '',
    `hardware \`${r.hardware_signature}\`, commit \`${r.git_commit ?? 'unknown'}\`${r.fault_injection ? ', **fault injection on**' : ''}`,
    '',
  ];
  out.push(
    `Deciding metric: median latency, one Holm family over the run at alpha ${r.options.alpha}; throughput and tails are reported, never deciding. ` +
      `Paired within the run, a change counts when it lies beyond ±${pct(r.options.min_effect)} with confidence (the test of |change| ≤ ${pct(r.options.min_effect)}). ` +
      `MDE: the smallest change each comparison could detect that way with ${Math.round(r.options.power * 100)}% power; no change that counts with an MDE above ${(r.options.max_mde * 100).toFixed(0)}% is inconclusive.`,
    '',
  );
  out.push('| class | verdict | selected primitive |', '|---|---|---|');
  for (const v of r.verdicts)
    out.push(`| ${v.metadata_class} | **${ICON[v.verdict]}**${v.inconclusive ? ' (inconclusive)' : ''} | ${v.card.selected_primitive} |`);
  for (const v of r.verdicts) {
    out.push('', `### ${v.metadata_class}: ${ICON[v.verdict]}`, '');
    for (const reason of v.reasons) out.push(`- ${reason}`);
    if (v.comparisons.length > 0) out.push('', ...comparisonTable(v.comparisons));
    const zeros = v.zero_contracts.map((z) => `\`${z.counter}\` = ${z.count}`).join(', ');
    if (zeros !== '') out.push('', `Zero-tolerance counts: ${zeros}`);
    for (const n of v.not_run) out.push(`- not run: ${n}`);
  }
  if (r.keep_local_alerts.length > 0) {
    out.push('', '### Keep-local alerts', '');
    for (const a of r.keep_local_alerts) out.push(`- ${a.metadata_class} \`${a.trigger}\` in ${a.cell}: ${a.detail}`);
  }
  if (r.unusable_cells.length > 0) {
    out.push('', '### Cells not usable for the gate', '');
    for (const c of r.unusable_cells) out.push(`- ${c.id}: ${c.why.join('; ')}`);
  }
  if (r.engine_comparison.length > 0) {
    out.push(
      '',
      '### Engines side by side',
      '',
      "Ratios: the reference engine's best mode / the comparator (throughput above 1 and p99 below 1 favour the reference engine).",
      '',
    );
    out.push(
      '| workload | backend | c | reference best | ops/s | p99 | comparator | ops/s | p99 | ops/s ratio | p99 ratio |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const e of r.engine_comparison) {
      const p99 = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : formatNs(v));
      const x = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
      for (const c of e.comparators) {
        out.push(
          `| ${e.workload} | ${e.backend} | ${e.concurrency} | ${e.best?.label ?? 'none usable'} | ${e.best?.throughput_ops_s.toFixed(0) ?? '-'} | ${p99(e.best?.p99_ns)} | ${c.label}${c.status === 'ok' ? '' : ' (failed)'} | ${c.throughput_ops_s.toFixed(0)} | ${p99(c.p99_ns)} | ${x(c.throughput_ratio)} | ${x(c.p99_ratio)} |`,
        );
      }
    }
  }
  out.push('', `<sub>trace_correlation ${r.trace_correlation}</sub>`, '');
  return out.join('\n');
}
