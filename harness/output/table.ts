// The summary table a person reads: one line per cell (throughput, operation
// latency percentiles, what the scheduler saw, errors), engines side by side
// when several ran, then per cell the card fields' percentiles.

import type { CellRecord, RoundRecord, RunRecord } from '../results/record.ts';
import type { CellSummary, EngineComparison } from '../results/summary.ts';
import { parseKey } from '../record/keys.ts';
import { headline } from '../results/versus.ts';
import { formatNs } from '../shared/format.ts';
import { formatTable } from '../shared/table.ts';

/** First column left, numbers right. */
const align = (rows: string[][]): string => formatTable(rows, { rightFrom: 1 });

/** Reference modes and comparators per workload, backend and concurrency, with reference-best / comparator ratios. */
function versusTable(comparisons: readonly EngineComparison[]): string {
  const rows: string[][] = [['workload', 'engine', 'ops/s', 'p99', 'best/this ops/s', 'best/this p99']];
  const p99 = (v: number | null): string => (v === null ? '-' : formatNs(v));
  const x = (v: number | null): string => (v === null ? '-' : `${v.toFixed(2)}x`);
  for (const c of comparisons) {
    const where = `${c.workload}.${c.backend}.c${c.concurrency}`;
    for (const r of c.reference)
      rows.push([
        where,
        `${r.label}${r.label === c.best?.label ? ' *' : ''}${r.status === 'ok' ? '' : ' FAILED'}`,
        r.throughput_ops_s.toFixed(0),
        p99(r.p99_ns),
        '',
        '',
      ]);
    for (const r of c.comparators)
      rows.push([
        where,
        `${r.label}${r.status === 'ok' ? '' : ' FAILED'}`,
        r.throughput_ops_s.toFixed(0),
        p99(r.p99_ns),
        x(r.throughput_ratio),
        x(r.p99_ratio),
      ]);
  }
  return align(rows);
}

/** The median of a cell's rounds' figure, or null where no round has it. */
function medianOf(rounds: readonly RoundRecord[], figure: (r: RoundRecord) => number | null | undefined): number | null {
  const xs = rounds
    .map(figure)
    .filter((x): x is number => typeof x === 'number')
    .sort((a, b) => a - b);
  return xs.length === 0 ? null : xs[xs.length >> 1]!;
}

/** What the scheduler saw of a cell: median CPU per operation and run-queue share, and the rounds marked contended. */
function machineColumns(c: CellRecord): string[] {
  const cpu = medianOf(c.rounds, (r) => r.cpu_ns_per_op);
  const runq = medianOf(c.rounds, (r) => r.runq_share);
  const contended = c.rounds.filter((r) => r.contended === true).map((r) => r.round);
  return [cpu === null ? '-' : formatNs(cpu), runq === null ? '-' : `${(runq * 100).toFixed(1)}%`, contended.length === 0 ? '-' : contended.join(',')];
}

export function summaryTable(run: RunRecord, summaries: CellSummary[], comparisons: readonly EngineComparison[] = []): string {
  const byId = new Map(summaries.map((s) => [s.id, s]));
  const rows: string[][] = [['cell', 'status', 'ops/s', 'p50', 'p90', 'p99', 'p99.9', 'max', 'cpu/op', 'runq', 'contended', 'errors', 'notes']];
  for (const c of run.cells) {
    const h = headline(byId.get(c.id)!);
    const errors = Object.entries(c.errors).reduce((n, [, v]) => n + v, 0);
    const notes = [
      c.failures.length > 0 ? 'FAILED' : '',
      c.gaps.length > 0 ? `${c.gaps.length} gap(s)` : '',
      c.correctness.length > 0 ? 'STATE MISMATCH' : '',
      c.notes.length > 0 ? 'state not compared' : '',
      ...c.fallback_events.map((e) =>
        e.action === 'force_legacy' ? `FALLBACK ${e.metadata_class}` : e.action === 'alert' ? `alert ${e.trigger}` : `${e.trigger} (legacy)`,
      ),
    ]
      .filter((x) => x !== '')
      .join(', ');
    rows.push([
      c.id.replace(/^reference\./, ''),
      c.status,
      c.throughput_ops_s.toFixed(0),
      ...(h === null ? ['-', '-', '-', '-', '-'] : [h.p50, h.p90, h.p99, h.p999, h.max].map((v) => formatNs(v))),
      ...machineColumns(c),
      String(errors),
      notes,
    ]);
  }
  const out = [`run ${run.run_id}  seed ${run.config.seed}  rounds ${run.config.rounds}  schedule ${run.config.schedule}`];
  if (run.schedule_note !== null) out.push(run.schedule_note);
  if (run.engine?.fault_injection_active === true) out.push(`FAULT INJECTION ON: ${JSON.stringify(run.engine.faults)}`);
  out.push('', align(rows), '');
  out.push(
    "cpu/op and runq: the median round's on-CPU time per operation and share of wall time spent waiting for a CPU (/proc/thread-self/schedstat; - where unreadable); contended: rounds whose share was over 3x the cell's median and 5%",
    '',
  );
  if (comparisons.length > 0) {
    out.push(
      "engines side by side (* the reference engine's best mode; ratios: that mode / this engine; p99 of the busiest operation kind)",
      '',
      versusTable(comparisons),
      '',
    );
  }
  for (const c of run.cells) {
    const s = byId.get(c.id)!;
    const fields = Object.entries(s.histograms).filter(([name]) => parseKey(name).kind === 'field');
    if (fields.length === 0 && c.failures.length === 0 && (c.not_reported ?? []).length === 0) continue;
    out.push(`${c.id}`);
    const frows = [['  field', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max']];
    for (const [name, h] of fields) {
      const fmt = (v: number): string => (name.endsWith('_ns') ? formatNs(v) : String(v));
      frows.push([`  ${name}`, String(h.count), ...[h.p50, h.p90, h.p99, h.p999, h.max].map(fmt)]);
    }
    if (fields.length > 0) out.push(align(frows), '');
    const unreported = (c.not_reported ?? []).map((n) => n.split(' ')[0]);
    if (unreported.length > 0) out.push(`  not reported by this engine: ${unreported.join(', ')} (their card fields: run.json)`);
    for (const g of c.gaps) out.push(`  observability gap: ${g}`);
    for (const f of c.failures) out.push(`  failure: ${f}`);
    for (const m of c.correctness) out.push(`  correctness: ${m}`);
    for (const n of c.notes) out.push(`  note: ${n}`);
    for (const e of c.fallback_events) out.push(`  trigger ${e.trigger} (round ${e.round}, ${e.action}): ${e.wording}; ${e.observation.detail}`);
  }
  return `${out.join('\n')}\n`;
}
