// The run matrix: engine variant × backend × workload × concurrency × mode
// set. Cells that differ only in their mode set form a group; a group's
// rounds are interleaved (A B C A B C …) so machine drift falls on every
// mode alike. A variant without control modes runs one mode set, `n/a`.

import type { Backend } from '../../engine/index.ts';
import { SpecError, type LoadedSpec } from '../spec/load.ts';
import type { AmountSpec, WorkloadSpec } from '../spec/schema.ts';
import { HAS_CONTROL_MODES, NO_MODES_LABEL, type EngineVariant } from '../engines/variants.ts';
import { runsOn, type ModeSet } from './modes.ts';

export type { EngineVariant } from '../engines/variants.ts';

/** The one mode set of an engine without control modes (its cells record every class as legacy: the only path it has). */
export const NO_MODES: ModeSet = { label: NO_MODES_LABEL, modes: { M1: 0, M6: 0, M11: 0 }, faults: {} };

export interface Cell {
  id: string;
  variant: EngineVariant;
  backend: Backend;
  workload: LoadedSpec;
  concurrency: number;
  modeSet: ModeSet;
  run: AmountSpec;
  warmup: AmountSpec | null;
  /** Whether the final state must be identical across modes (see `isDeterministic`). */
  deterministic: boolean;
}

export interface Group {
  key: string;
  cells: Cell[];
}

export interface PlanOptions {
  workloads: readonly LoadedSpec[];
  modeSets: readonly ModeSet[];
  /** Engine variants, in order (default: the reference engine only). */
  variants?: readonly EngineVariant[];
  backends?: readonly Backend[];
  concurrency?: readonly number[];
  quick?: boolean;
  /** Overrides every workload's measured duration. */
  duration_ms?: number;
}

/**
 * A cell's final state is a function of its operations alone when the
 * operation count is fixed and the operations commute: writes are
 * increments (retried until they land), so only DDL under concurrency, whose
 * column placement depends on interleaving, breaks it.
 */
export function isDeterministic(spec: WorkloadSpec, run: AmountSpec, warmup: AmountSpec | null, concurrency: number): boolean {
  const counted = run.operations !== undefined && (warmup === null || warmup.operations !== undefined);
  return counted && (concurrency === 1 || spec.mix.ddl === 0);
}

export function planMatrix(o: PlanOptions): Group[] {
  const groups: Group[] = [];
  for (const variant of o.variants ?? ['reference']) {
    for (const w of o.workloads) {
      const spec = w.spec;
      const modeSets = HAS_CONTROL_MODES[variant] ? o.modeSets.filter((m) => runsOn(m, spec.name)) : [NO_MODES];
      const backends = o.backends === undefined ? spec.backends : o.backends;
      const levels = o.concurrency ?? (o.quick === true ? spec.quick?.concurrency : undefined) ?? spec.concurrency;
      let run: AmountSpec = (o.quick === true ? spec.quick?.run : undefined) ?? spec.run;
      if (o.duration_ms !== undefined) run = { duration_ms: o.duration_ms };
      const warmup = (o.quick === true ? spec.quick?.warmup : undefined) ?? spec.warmup ?? null;
      for (const backend of backends) {
        for (const c of levels) {
          if (spec.keys.distribution === 'disjoint' && c > spec.fixture.rows) {
            throw new SpecError(w.file, [
              { path: 'keys.distribution', message: `disjoint keys need a row per connection: ${spec.fixture.rows} rows, concurrency ${c}` },
            ]);
          }
          const key = `${variant}.${spec.name}.${backend}.c${c}`;
          const deterministic = isDeterministic(spec, run, warmup, c);
          groups.push({
            key,
            cells: modeSets.map((modeSet) => ({
              id: HAS_CONTROL_MODES[variant] ? `${key}.${modeSet.label.replace(/[^A-Za-z0-9_=+-]/g, '_')}` : key,
              variant,
              backend,
              workload: w,
              concurrency: c,
              modeSet,
              run,
              warmup,
              deterministic,
            })),
          });
        }
      }
    }
  }
  return groups;
}
