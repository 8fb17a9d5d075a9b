// The engine adapter: everything the runner needs of an engine variant, on
// the main thread. A fixture is built once per workload; each round opens a
// fresh cell database from it and hands its handle to the pool's workers,
// which connect with `connectEngine` (connect.ts).

import type { Backend, EngineDescription, FaultConfig, MetadataClass, ModeIndex, SharedDatabase, SwitchableClass } from '../../engine/index.ts';
import type { WorkloadSpec } from '../spec/schema.ts';
import type { EngineHandle } from './connection.ts';
import type { EngineVariant } from './variants.ts';

export interface Fixture {
  /** The fixture database file a cell copies (null: the engine builds its own from the spec). */
  path: string | null;
  /** The state hash the fixture reached (null: the engine does not report one at open). */
  sha256: string | null;
}

export interface CellOptions {
  backend: Backend;
  concurrency: number;
  modes: Record<SwitchableClass, ModeIndex>;
  faults: FaultConfig;
  seed: number;
  shadowSampleRatio: number;
  shadowAllowedDifferences: Record<string, string[]>;
}

/** What a comparator engine says about itself in run.json (the reference engine gives its EngineDescription). */
export interface ComparatorDescription {
  variant: Exclude<EngineVariant, 'reference'>;
  backend: Backend;
  /** Comparators take no fault injection. */
  faults: FaultConfig;
  fault_injection_active: false;
  details: Record<string, string | number | boolean | null>;
}

export type CellEngineDescription = EngineDescription | ComparatorDescription;

export interface CellDatabase {
  readonly handle: EngineHandle;
  /** The reference engine's control words, for live fallback; null for an engine without control modes. */
  readonly shared: SharedDatabase | null;
  /** The card classes whose field records this engine reports; the others are "not reported by this engine". */
  readonly reported: readonly MetadataClass[];
  /** SHA-256 of the logical state, comparable across mode sets of the same variant. */
  stateHash(): Promise<string>;
  describe(): CellEngineDescription;
  close(): Promise<void>;
}

export interface EngineAdapter {
  readonly variant: EngineVariant;
  buildFixture(spec: WorkloadSpec, specFile: string, dir: string): Promise<Fixture>;
  openCell(spec: WorkloadSpec, fixture: Fixture, options: CellOptions, dir: string): Promise<CellDatabase>;
  /**
   * A fresh database holding exactly `template`'s state (a cell database no
   * connection uses), with `options`' modes and faults, in memory of its own;
   * null where this engine cannot copy one (then the runner opens a new cell).
   */
  cloneCell?(template: CellDatabase, options: CellOptions): CellDatabase | null;
}
