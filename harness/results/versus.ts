// Engines side by side: for each workload, backend and concurrency that more
// than one engine variant ran, every reference mode's throughput and p99 next
// to each comparator's, with the ratio reference-best-mode / comparator.

import { latencyOpOf } from '../record/keys.ts';
import type { CellFigures } from './record.ts';
import type { CellSummary, EngineComparison, EngineFigures, HistogramSummary } from './summary.ts';

/** The busiest operation kind's latency: the cell's headline. */
export function headline(s: CellSummary | undefined): HistogramSummary | null {
  let best: HistogramSummary | null = null;
  for (const [name, h] of Object.entries(s?.histograms ?? {})) {
    if (latencyOpOf(name) !== null && (best === null || h.count > best.count)) best = h;
  }
  return best;
}

const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null || b === 0 ? null : Math.round((a / b) * 1000) / 1000);

export function compareEngines(cells: readonly CellFigures[], summaries: readonly CellSummary[]): EngineComparison[] {
  const byId = new Map(summaries.map((s) => [s.id, s]));
  const groups = new Map<string, CellFigures[]>();
  for (const c of cells) {
    const key = `${c.workload}.${c.backend}.c${c.concurrency}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const out: EngineComparison[] = [];
  for (const group of groups.values()) {
    if (new Set(group.map((c) => c.variant)).size < 2) continue;
    const figures = (c: CellFigures, label: string): EngineFigures => ({ label, throughput_ops_s: c.throughput_ops_s, p99_ns: headline(byId.get(c.id))?.p99 ?? null, status: c.status });
    const reference = group.filter((c) => c.variant === 'reference').map((c) => figures(c, `reference/${c.mode_set}`));
    const usable = reference.filter((r) => r.status === 'ok');
    const best = usable.length === 0 ? null : usable.reduce((a, b) => (b.throughput_ops_s > a.throughput_ops_s ? b : a));
    const first = group[0]!;
    out.push({
      workload: first.workload, backend: first.backend, concurrency: first.concurrency, reference, best,
      comparators: group.filter((c) => c.variant !== 'reference').map((c) => {
        const f = figures(c, c.variant);
        return { ...f, throughput_ratio: ratio(best?.throughput_ops_s ?? null, f.throughput_ops_s), p99_ratio: ratio(best?.p99_ns ?? null, f.p99_ns) };
      }),
    });
  }
  return out;
}
