// Turns collected samples into rows, ratios and the text / JSON report.

import { NEW_MODE, isSwitchable } from '../../../engine/index.ts';
import { formatTable } from '../../shared/table.ts';
import type { Measure, Metric } from './plan.ts';
import { median, type Collected, type Settings } from './run.ts';

export interface Row {
  group: string;
  class: string;
  mode: string;
  op: string;
  backend: 'memory' | 'file';
  metric: Metric;
  /** Median over runs, ns per op (or per wait), by thread count; null when not run. */
  ns_per_op: Record<string, number | null>;
  /** Every run's figure, by thread count. */
  runs_ns: Record<string, number[]>;
  /** Retryable errors (and wait timeouts) met in its runs, by code. */
  retries: Record<string, number>;
  errors: string[];
}

export interface Ratio {
  group: string;
  class: string;
  op: string;
  /** e.g. "snapshot/legacy" or "fast/slow". */
  ratio: string;
  by_threads: Record<string, number | null>;
}

export interface Report {
  schema: 'shadowbench.bench.primitives/1';
  settings: Settings & { quick: boolean };
  machine: { cpus: number; node: string; platform: string };
  rows: Row[];
  ratios: Ratio[];
  notes: string[];
}

export function buildRows(collected: Collected, threads: readonly number[]): Row[] {
  const rows: Row[] = [];
  for (const [m, byThreads] of collected) {
    for (const spec of m.rows) {
      const ns: Record<string, number | null> = {};
      const runs: Record<string, number[]> = {};
      const retries: Record<string, number> = {};
      const errors: string[] = [];
      for (const t of threads) {
        const s = byThreads.get(t);
        const vals = s?.values.get(spec.metric) ?? [];
        ns[String(t)] = vals.length === 0 ? null : Math.round(median(vals));
        if (vals.length > 0) runs[String(t)] = vals.map(Math.round);
        for (const [code, n] of Object.entries(s?.retries ?? {})) retries[code] = (retries[code] ?? 0) + n;
        errors.push(...(s?.errors ?? []));
      }
      rows.push({
        group: m.group,
        class: m.cls,
        mode: m.mode,
        op: spec.op,
        backend: m.backend,
        metric: spec.metric,
        ns_per_op: ns,
        runs_ns: runs,
        retries,
        errors,
      });
    }
  }
  return rows;
}

function ratioOf(num: Row | undefined, den: Row | undefined, threads: readonly number[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const t of threads) {
    const a = num?.ns_per_op[String(t)] ?? null;
    const b = den?.ns_per_op[String(t)] ?? null;
    out[String(t)] = a === null || b === null || b === 0 ? null : Math.round((a / b) * 100) / 100;
  }
  return out;
}

export function buildRatios(rows: readonly Row[], measures: readonly Measure[], threads: readonly number[]): Ratio[] {
  const out: Ratio[] = [];
  for (const group of new Set(measures.map((m) => m.group))) {
    const inGroup = rows.filter((r) => r.group === group);
    const cls = inGroup[0]?.class;
    if (cls === undefined) continue;
    if (isSwitchable(cls as 'M1')) {
      const newMode = NEW_MODE[cls as 'M1' | 'M6' | 'M11'];
      for (const op of new Set(inGroup.map((r) => r.op))) {
        const of = (mode: string): Row | undefined => inGroup.find((r) => r.op === op && r.mode === mode);
        out.push({ group, class: cls, op, ratio: `${newMode}/legacy`, by_threads: ratioOf(of(newMode), of('legacy'), threads) });
        out.push({ group, class: cls, op, ratio: 'shadow_compare/legacy', by_threads: ratioOf(of('shadow_compare'), of('legacy'), threads) });
      }
    } else {
      const fast = inGroup.find((r) => r.mode === 'fast');
      const slow = inGroup.find((r) => r.mode === 'slow');
      out.push({ group, class: cls, op: 'fast path vs slow path', ratio: 'fast/slow', by_threads: ratioOf(fast, slow, threads) });
    }
  }
  return out;
}

const fmtNs = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toLocaleString('en-US'));
const fmtRatio = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(2));

export function renderText(report: Report): string {
  const threads = report.settings.threads;
  const head = ['class', 'mode', 'op', ...threads.map((t) => `@${t} thr`)];
  const table: string[][] = [head];
  let lastGroup = '';
  for (const r of report.rows) {
    if (r.group !== lastGroup && lastGroup !== '') table.push(['']);
    lastGroup = r.group;
    table.push([r.class, r.mode, r.op, ...threads.map((t) => fmtNs(r.ns_per_op[String(t)]))]);
  }
  const ratioRows = report.ratios.map((q) => [q.class, q.ratio, q.op, ...threads.map((t) => fmtRatio(q.by_threads[String(t)]))]);
  const retried = (r: Row): string =>
    Object.entries(r.retries)
      .map(([code, n]) => `${n} ${code}`)
      .join(', ');
  const problems = report.rows
    .filter((r, i, all) => all.findIndex((o) => o.group === r.group && o.mode === r.mode) === i) // one line per measure
    .filter((r) => Object.keys(r.retries).length > 0 || r.errors.length > 0)
    .map((r) => `  ${r.class} ${r.mode} ${r.op}: ${retried(r) || 'no retries'}${r.errors.length > 0 ? `; errors: ${[...new Set(r.errors)].join('; ')}` : ''}`);
  const s = report.settings;
  return [
    `Primitives bench: ns per op (median of ${s.runs} runs, ${s.windowMs} ms window, ${s.warmupMs} ms warm-up)${s.quick ? ' [--quick]' : ''}; ${report.machine.cpus} CPUs, Node ${report.machine.node}`,
    '',
    formatTable(table, { rightFrom: 3 }),
    '',
    'Ratios (lower is faster)',
    formatTable([['class', 'ratio', 'op', ...threads.map((t) => `@${t}`)], ...ratioRows], { rightFrom: 3 }),
    ...(problems.length > 0 ? ['', 'Retries / errors:', ...problems] : []),
    '',
    'Notes:',
    ...report.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}
