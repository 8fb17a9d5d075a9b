// The promotion gate: for each switchable class, the candidate mode against
// the card's baseline comparator, on the workloads the card names, with the
// numbers behind every reason. Zero-tolerance contracts are exact counts;
// performance is judged per round, paired (comparison.ts). Every deciding
// comparison of the run (the median latency of every class's candidate
// cells; docs/measurement.md says why not throughput) is one Holm family, so the run's chance of any false
// regression is alpha however many cells and classes it holds; tails are a
// family of their own, reported and never deciding. Requirements the run
// could not exercise are listed as not run.

import { NEW_MODE, SWITCHABLE_CLASSES, type SwitchableClass } from '../../engine/index.ts';
import { CARDS } from '../cards/cards.ts';
import { judgedClasses } from '../plan/modes.ts';
import { HAS_CONTROL_MODES, isEngineVariant } from '../engines/variants.ts';
import type { FallbackEvent } from '../cards/evaluator.ts';
import type { CellFigures, CellRecord, RunRecord } from '../results/record.ts';
import type { CellSummary } from '../results/summary.ts';
import { cellGroup, judgeAll, measureSeries } from './compare.ts';
import { describe, mdeText, pct, type Comparison } from './comparison.ts';
import { DEFAULT_GATE, type GateOptions } from './options.ts';
import { busiestKind, metricsOf, type Series } from './series.ts';

export interface Verdict {
  metadata_class: SwitchableClass;
  verdict: 'promote' | 'hold' | 'rollback';
  /** What made it a rollback (empty otherwise): a nightly tells a regression the baseline already had from a new one. */
  rollback_causes: RollbackCause[];
  reasons: string[];
  comparisons: Comparison[];
  /** No rollback, but a deciding comparison could not see a change of max_mde: a blind hold (the CLI fails closed on it). */
  inconclusive: boolean;
  /** The largest MDE of the class's deciding comparisons (null: infinite, or none); a hold says no change larger than this could be seen. */
  largest_mde: number | null;
  zero_contracts: { counter: string; count: number; cells: string[] }[];
  triggers: { trigger: string; cell: string; round: number; action: string; detail: string }[];
  not_run: string[];
  card: { selected_primitive: string; baseline_comparator: string; promotion_criteria: readonly string[] };
}

export type RollbackCause = 'zero_contract' | 'fallback_trigger' | 'state_mismatch' | 'regression';

export interface GateInput {
  run: RunRecord;
  /** summary.json counters per cell id. */
  counters: ReadonlyMap<string, Readonly<Record<string, number>>>;
  /** summary.json cells (histogram summaries), for the charts. */
  summaries?: readonly CellSummary[];
}

/** The classes a cell is a promotion candidate for: it runs the class's new primitive on a workload the class's card names. */
export const candidateClasses = (workload: string, modes: Readonly<Partial<Record<SwitchableClass, string>>>): SwitchableClass[] =>
  judgedClasses(workload).filter((cls) => modes[cls] === NEW_MODE[cls]);

/** The per-round series the gate judges: throughput, and p50/p99 of the cell's busiest operation kind. */
function series(c: CellFigures): Map<string, Series> {
  const busiest = busiestKind(c);
  return new Map([...metricsOf(c)].filter(([m]) => m === 'throughput_ops_s' || (busiest !== undefined && m.startsWith(`${busiest}.latency_`))));
}

/** Cells of an engine without control modes (SQLite, external) have no primitive to promote: the gate leaves them out. */
const hasControlModes = (c: CellFigures): boolean => !isEngineVariant(c.variant) || HAS_CONTROL_MODES[c.variant];

/** What the gate's comparisons read of a cell: a stored run's figures have all of it. */
type GatedCell = CellFigures & Partial<Pick<CellRecord, 'faults'>>;

/** Each class's candidate cells against their all-legacy baseline, every metric measured once (a cell can serve several classes). */
interface Measured {
  comparisons: Map<SwitchableClass, Comparison[]>;
  unusable: Map<SwitchableClass, string[]>;
}

function measureRun(run: { cells: readonly GatedCell[] }): Measured {
  const all = new Map<string, Comparison>();
  const out: Measured = { comparisons: new Map(), unusable: new Map() };
  for (const cls of SWITCHABLE_CLASSES) {
    const mine: Comparison[] = [];
    const unusable: string[] = [];
    for (const cand of run.cells.filter((c) => candidateClasses(c.workload, c.control_modes).includes(cls))) {
      // The baseline comparator is the all-legacy cell, preferring one no fault was scoped to.
      const legacy = run.cells.filter((c) => cellGroup(c) === cellGroup(cand) && Object.values(c.control_modes).every((m) => m === 'legacy'));
      const base = legacy.find((c) => Object.keys(c.faults ?? {}).length === 0) ?? legacy[0];
      if (base === undefined) continue;
      if (!cand.usable_for_gate || !base.usable_for_gate) {
        unusable.push(`${cellGroup(cand)}: not judged (cell unusable: failures, observability gaps or state mismatch)`);
        continue;
      }
      const bs = series(base);
      for (const [metric, cs] of series(cand)) {
        const b = bs.get(metric);
        if (b === undefined) continue;
        const key = `${base.id}>${cand.id}:${metric}`;
        // Cells of one run: their rounds were interleaved, so they pair up round by round.
        if (!all.has(key)) all.set(key, measureSeries(cellGroup(cand), metric, b, cs, true));
        mine.push(all.get(key)!);
      }
    }
    out.comparisons.set(cls, mine);
    out.unusable.set(cls, unusable);
  }
  return out;
}

/** The gate's comparisons of a run by class, measured and not judged: what a nightly holds tonight's against (its baseline's, from the store). */
export const gateComparisons = (run: { cells: readonly GatedCell[] }): ReadonlyMap<SwitchableClass, readonly Comparison[]> =>
  measureRun({ cells: run.cells.filter(hasControlModes) }).comparisons;

export function gate(input: GateInput, o: GateOptions = DEFAULT_GATE): Verdict[] {
  const modal = { ...input, run: { ...input.run, cells: input.run.cells.filter(hasControlModes) } };
  const measured = measureRun(modal.run);
  judgeAll(`gate ${input.run.run_id}`, [...new Set([...measured.comparisons.values()].flat())], o);
  return SWITCHABLE_CLASSES.map((cls) => verdictFor(cls, modal, measured.comparisons.get(cls)!, measured.unusable.get(cls)!, o));
}

function verdictFor(cls: SwitchableClass, { run, counters }: GateInput, comparisons: Comparison[], unusable: string[], o: GateOptions): Verdict {
  const card = CARDS[cls];
  const involved = run.cells.filter((c) => c.control_modes[cls] !== 'legacy');
  const reasons: string[] = [];
  const causes = new Set<RollbackCause>();

  const zero_contracts = card.zero_contracts.map((counter) => {
    const hits = involved.filter((c) => (counters.get(c.id)?.[counter] ?? 0) > 0);
    return { counter, count: hits.reduce((n, c) => n + (counters.get(c.id)?.[counter] ?? 0), 0), cells: hits.map((c) => c.id) };
  });
  for (const z of zero_contracts) {
    if (z.count > 0) {
      causes.add('zero_contract');
      reasons.push(`${z.counter} = ${z.count} (contract: exactly 0) in ${z.cells.join(', ')}`);
    }
  }
  const events: FallbackEvent[] = run.cells.flatMap((c) => c.fallback_events ?? []).filter((e) => e.metadata_class === cls && e.action === 'force_legacy');
  if (events.length > 0) {
    causes.add('fallback_trigger');
    reasons.push(`fallback trigger fired ${events.length} time(s): ${[...new Set(events.map((e) => e.trigger))].join(', ')}`);
  }
  const mismatched = involved.filter((c) => c.correctness.length > 0);
  if (mismatched.length > 0) {
    causes.add('state_mismatch');
    reasons.push(`final state differs from legacy in ${mismatched.map((c) => c.id).join(', ')}`);
  }
  reasons.push(...unusable);

  const deciding = comparisons.filter((c) => c.deciding);
  const regressed = deciding.filter((c) => c.outcome === 'regressed');
  if (regressed.length > 0) {
    causes.add('regression');
    for (const c of regressed) reasons.push(`significant regression: ${describe(c)}`);
  }
  for (const c of comparisons.filter((x) => !x.deciding && x.outcome === 'regressed'))
    reasons.push(`tail latency regression (reported, not deciding): ${describe(c)}`);

  const not_run = card.requirements
    .filter(
      (r) =>
        r.cross_node === true ||
        !run.cells.some(
          (c) =>
            c.workload === r.workload &&
            (r.backend === undefined || c.backend === r.backend) &&
            (r.concurrency === undefined || c.concurrency === r.concurrency) &&
            c.control_modes[cls] === NEW_MODE[cls],
        ),
    )
    .map((r) => (r.cross_node === true ? `${r.line} (cross-node: cannot run on one machine)` : r.line));
  const shadowed = run.cells.some((c) => c.control_modes[cls] === 'shadow_compare' && card.workloads.includes(c.workload));
  const triggers = events.map((e) => ({ trigger: e.trigger, cell: e.cell, round: e.round, action: e.action, detail: e.observation.detail }));
  const cardInfo = { selected_primitive: card.selected_primitive, baseline_comparator: card.baseline_comparator, promotion_criteria: card.promotion_criteria };
  const blind = deciding.filter((c) => c.outcome === 'inconclusive');
  const largest_mde = deciding.length === 0 || deciding.some((c) => c.mde === null) ? null : Math.max(...deciding.map((c) => c.mde!));
  const result = (verdict: Verdict['verdict']): Verdict => ({
    metadata_class: cls,
    verdict,
    rollback_causes: verdict === 'rollback' ? [...causes] : [],
    reasons,
    comparisons,
    inconclusive: verdict !== 'rollback' && blind.length > 0,
    largest_mde,
    zero_contracts,
    triggers,
    not_run,
    card: cardInfo,
  });

  if (causes.size > 0) return result('rollback');
  if (comparisons.length === 0) {
    reasons.push(`hold: not enough evidence — no ${NEW_MODE[cls]} cell with a legacy baseline on ${card.workloads.join(', ')}`);
    return result('hold');
  }
  if (!shadowed) reasons.push(`hold: not enough evidence — no shadow_compare run on ${card.workloads.join(', ')} (the card ships shadow_compare first)`);
  const improved = deciding.filter((c) => c.outcome === 'improved');
  if (blind.length > 0) {
    const worst = [...blind].sort((a, b) => (b.mde ?? Infinity) - (a.mde ?? Infinity))[0]!;
    reasons.push(
      `hold: inconclusive — ${blind.length} of ${deciding.length} deciding comparisons could miss a change larger than ${pct(o.max_mde)} ` +
        `(minimum detectable effect up to ${mdeText(worst.mde)} at ${Math.round(o.power * 100)}% power; more paired rounds or less noise narrow it); widest: ${describe(worst)}`,
    );
  } else if (improved.length === 0) {
    reasons.push(
      `hold: no significant gain over the baseline comparator; no change larger than ${mdeText(largest_mde)} could be seen (largest MDE of ${deciding.length} deciding comparisons)`,
    );
  }
  for (const c of improved) reasons.push(`significant improvement: ${describe(c)}`);
  if (shadowed && improved.length > 0 && reasons.every((r) => !r.startsWith('hold'))) return result('promote');
  return result('hold');
}
