// What a run needs, checked: the cells planned, the engines and their
// adapters, faults, triggers and telemetry. harness/cli/run-args.ts makes it
// from a command line; harness/run/execute.ts runs it.

import type { Backend, FaultConfig } from '../../engine/index.ts';
import type { TriggerConfig } from '../cards/evaluator.ts';
import type { EngineBuild } from '../engines/build.ts';
import type { EngineAdapters, EngineVariant } from '../engines/index.ts';
import type { Group } from '../plan/matrix.ts';
import type { ModeSet } from '../plan/modes.ts';
import type { LoadedSpec } from '../spec/load.ts';
import type { TargetMde } from './target.ts';
import type { RoundBudget } from './budget.ts';

/** Everything a run needs, checked. */
export interface RunSettings {
  /** Run-wide faults; faults scoped to one mode set (`@SET`) are on that set. */
  faults: FaultConfig;
  variants: EngineVariant[];
  engines: EngineAdapters;
  triggers: TriggerConfig;
  sampleRatio: number;
  shadowSampleRatio: number;
  backends: Backend[] | undefined;
  concurrency: number[] | undefined;
  seed: number;
  metricsPort: number;
  pushUrl: URL | null;
  otlp: string | null;
  duration_ms: number | undefined;
  /** The slice length operation counts are calibrated to (ms). */
  sliceMs: number;
  /** --target-mde / --max-time, or null. */
  target: TargetMde | null;
  /** --max-time without --target-mde (or the nightly's default): rounds trimmed to the budget, or null. */
  budget: RoundBudget | null;
  quick: boolean;
  rounds: number;
  warmupRounds: number;
  modeSets: ModeSet[];
  workloads: LoadedSpec[];
  groups: Group[];
  /** The frozen build a twin arm runs beside each reference group, its speed reading (run/twin.ts), or null. */
  twin: EngineBuild | null;
}
