// The first screen a run prints: what a person came for, in one screen. The
// verdict per switchable class with its reason and the smallest change it
// could have seen; every engine and mode side by side; the cells that failed
// or diverged; where the full tables and reports are. Per-cell, per-field
// tables stay in summary.txt (printed too with --verbose).

import type { Comparison } from '../gate/comparison.ts';
import type { GateReports } from './gate-reports.ts';
import type { CellRecord, RunRecord } from '../results/record.ts';
import { roundsRan, trimmed } from '../results/rounds.ts';
import type { EngineComparison } from '../results/summary.ts';

/** Lines of the failed-or-diverged list before the rest is left to summary.txt. */
const MAX_PROBLEM_LINES = 10;

export interface ScreenInput {
  run: RunRecord;
  runDir: string;
  gate: GateReports;
  engineComparison: readonly EngineComparison[];
  /** Characters a line may take before it is cut (a terminal's width). */
  width?: number;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function duration(run: RunRecord): string {
  const s = Math.round((Date.parse(run.ended_at) - Date.parse(run.started_at)) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

function cut(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

function align(rows: readonly string[][], rightFrom: number): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map(
    (r) =>
      `  ${r
        .map((c, i) => (i >= rightFrom ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd()}`,
  );
}

/** How small a change the class's comparisons could have detected. */
export function detectable(comparisons: readonly Comparison[]): string {
  const deciding = comparisons.filter((c) => c.deciding);
  if (deciding.length === 0) return 'not measured (no performance comparison)';
  if (deciding.some((c) => c.mde === null)) return 'none: some deciding comparison could not see a change of any size (too few rounds)';
  const mdes = deciding.map((c) => c.mde!);
  const lo = Math.min(...mdes);
  const hi = Math.max(...mdes);
  return lo === hi ? pct(lo) : `${pct(lo)} to ${pct(hi)}, by metric (gate.md lists each)`;
}

function verdictLines(i: ScreenInput, width: number): string[] {
  const out = ['May the new primitives be promoted? (the gate; every reason and statistic: gate.html)'];
  if (i.gate.report === null) return [...out, `  not judged: ${i.gate.problems.join('; ')}`];
  for (const v of i.gate.report.verdicts) {
    const reasons = v.reasons.map((r) => r.replace(/^hold: /, ''));
    const more = reasons.length > 1 ? ` (+${reasons.length - 1} more)` : '';
    const head = `  ${v.metadata_class.padEnd(4)} ${v.verdict.toUpperCase().padEnd(9)}`;
    out.push(cut(`${head}${reasons[0] ?? ''}`, width - more.length) + more);
    out.push(`${' '.repeat(head.length)}smallest change it could have seen: ${detectable(v.comparisons)}`);
  }
  const undecided = i.gate.report.verdicts.some((v) => v.comparisons.some((c) => c.deciding && c.inconclusive_reason === 'too_few_rounds'));
  if (undecided) out.push(`  (${i.run.config.rounds} round(s) per cell cannot decide performance: --rounds 12, or --target-mde 0.05)`);
  return out;
}

/** Each mode set or engine a column, each workload, backend and concurrency a row: ops/s, and the reference best / comparator ratios. */
function sideBySide(run: RunRecord, comparisons: readonly EngineComparison[]): string[] {
  const columnOf = (c: CellRecord): string => (c.variant === 'reference' ? c.mode_set : c.variant);
  const groupOf = (c: { workload: string; backend: string; concurrency: number }): string => `${c.workload}\t${c.backend}\tc${c.concurrency}`;
  const columns = [...new Set(run.cells.map(columnOf))];
  const comparators = [...new Set(comparisons.flatMap((e) => e.comparators.map((c) => c.label)))];
  const ratios = new Map(comparisons.map((e) => [groupOf(e), new Map(e.comparators.map((c) => [c.label, c]))]));
  const x = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v.toFixed(2)}x`);
  const suffix = (l: string): string => (comparators.length > 1 ? ` ${l}` : '');
  const rows = [['workload', 'backend', 'c', ...columns, ...comparators.flatMap((l) => [`ops/s ratio${suffix(l)}`, `p99 ratio${suffix(l)}`])]];
  const groups = new Map<string, CellRecord[]>();
  for (const c of run.cells) groups.set(groupOf(c), [...(groups.get(groupOf(c)) ?? []), c]);
  for (const [key, cells] of groups) {
    const figure = (col: string): string => {
      const c = cells.find((d) => columnOf(d) === col);
      return c === undefined ? '' : c.status === 'ok' ? c.throughput_ops_s.toFixed(0) : 'FAILED';
    };
    rows.push([
      ...key.split('\t'),
      ...columns.map(figure),
      ...comparators.flatMap((l) => [x(ratios.get(key)?.get(l)?.throughput_ratio), x(ratios.get(key)?.get(l)?.p99_ratio)]),
    ]);
  }
  const title =
    comparators.length === 0
      ? ['Throughput, ops/s, by mode set (latency per cell: summary.txt)']
      : [
          'Engines side by side, ops/s (latency per cell: summary.txt)',
          `  ratios: the reference engine's best mode / ${comparators.join(', ')}; ops/s above 1 and p99 below 1 favour it`,
        ];
  return [...title, ...align(rows, 3)];
}

/** Failed cells, state mismatches, zero-tolerance counts, fired fallbacks: one line each. */
function problemLines(i: ScreenInput, width: number): string[] {
  const lines: string[] = [];
  const id = (c: CellRecord): string => c.id.replace(/^reference\./, '');
  for (const c of i.run.cells) {
    for (const f of c.failures.slice(0, 1)) lines.push(`${id(c)}  failed: ${f}`);
    for (const m of c.correctness.slice(0, 1)) lines.push(`${id(c)}  final state differs: ${m}`);
    for (const g of c.gaps.slice(0, 1)) lines.push(`${id(c)}  observability gap: ${g}`);
    for (const e of c.fallback_events.filter((f) => f.action === 'force_legacy'))
      lines.push(`${id(c)}  fallback: ${e.metadata_class} forced to legacy by ${e.trigger} in round ${e.round}`);
  }
  for (const v of i.gate.report?.verdicts ?? []) {
    for (const z of v.zero_contracts.filter((n) => n.count > 0))
      lines.push(`${z.counter} = ${z.count} (must be 0) in ${z.cells.map((c) => c.replace(/^reference\./, '')).join(', ')}`);
  }
  if (lines.length === 0) return ['Failed or diverged: none (every cell ran; no divergence, fallback or state mismatch)'];
  const shown = lines.length > MAX_PROBLEM_LINES ? MAX_PROBLEM_LINES - 1 : lines.length;
  return [
    `Failed or diverged (${lines.length}):`,
    ...lines.slice(0, shown).map((l) => cut(`  ${l}`, width)),
    ...(shown < lines.length ? [`  … ${lines.length - shown} more: summary.txt, gate.md`] : []),
  ];
}

/** How many rounds the cells ran: the asked number, or the range a target or a time budget made of it. */
function roundsText(run: RunRecord): string {
  const r = roundsRan(run);
  if (run.config.target_mde != null && r.most > r.asked) return `${r.asked}-${r.most} rounds until ${Math.round(run.config.target_mde * 100)}% could be seen`;
  if (trimmed(r)) return `${r.least}-${r.most} of ${r.asked} rounds (trimmed to the ${Math.round(r.max_time_ms! / 1000)} s budget)`;
  return `${r.asked} rounds each`;
}

export function firstScreen(i: ScreenInput): string {
  const width = Math.max(80, i.width ?? 120);
  const { run } = i;
  const failed = run.cells.filter((c) => c.status === 'failed' || c.correctness.length > 0).length;
  const variants = run.config.variants ?? ['reference'];
  const rounds = roundsText(run);
  const out = [
    `shadowbench run ${run.run_id}: ${run.totals.cells} cells (${variants.join(', ')}), ${rounds}, ${duration(run)}; ${failed === 0 ? 'every cell ran' : `${failed} cell(s) failed or disagreed`}`,
  ];
  if (run.schedule_note !== null) out.push(run.schedule_note);
  if (run.engine?.fault_injection_active === true) out.push(`FAULT INJECTION ON: ${JSON.stringify(run.engine.faults)}`);
  out.push('', ...verdictLines(i, width), '', ...sideBySide(run, i.engineComparison), '', ...problemLines(i, width), '');
  const html = i.gate.written.find((f) => f.endsWith('/gate.html'));
  out.push(
    `Every cell and card field: ${i.runDir}/summary.txt (--verbose prints it)`,
    `Gate report: ${html === undefined ? 'not written' : `${html} (and gate.md, gate.json)`}`,
  );
  for (const p of i.gate.report === null ? [] : i.gate.problems) out.push(`  ${p}`);
  return `${out.join('\n')}\n`;
}
