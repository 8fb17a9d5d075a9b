// The reference adapter: this repository's engine, exactly as the harness
// drove it before adapters existed (fixture pinned by the spec's SHA-256,
// control modes, faults, shadow sampling, live fallback on `shared`), or a
// frozen build of it (build.ts), which opens, copies and connects with its
// own code and starts from the same fixture.

import * as Engine from '../../engine/index.ts';
import { loadBuild, type EngineBuild, type EngineModule } from './build.ts';
import { buildFixture, FixtureError, openCellDatabase } from './fixture.ts';
import type { CellDatabase, EngineAdapter } from './adapter.ts';

function referenceAdapterOf(engine: EngineModule, build: EngineBuild | null): EngineAdapter {
  /** The engine database behind each cell database this adapter made (what cloneCell copies). */
  const databases = new WeakMap<CellDatabase, Engine.Database>();
  const cellOf = (db: Engine.Database): CellDatabase => {
    const cell: CellDatabase = {
      handle: build === null ? { variant: 'reference', shared: db.shared } : { variant: 'reference', shared: db.shared, build: build.file },
      shared: db.shared,
      reported: engine.METADATA_CLASSES,
      async stateHash() {
        const c = db.connect();
        try {
          return c.stateHash();
        } finally {
          c.close();
        }
      },
      describe: () => db.describe(),
      close: async () => {},
    };
    databases.set(cell, db);
    return cell;
  };
  return {
    variant: 'reference',
    buildFixture: async (spec, specFile, dir) => buildFixture(spec, specFile, dir),
    async openCell(spec, fixture, o, dir): Promise<CellDatabase> {
      if (fixture.path === null || fixture.sha256 === null) throw new FixtureError(`${spec.name}: the reference engine needs a fixture file`);
      const db = openCellDatabase(
        engine,
        spec,
        { path: fixture.path, sha256: fixture.sha256 },
        {
          backend: o.backend,
          modes: o.modes,
          faults: o.faults,
          seed: o.seed,
          maxConnections: o.concurrency + 2,
          registryShards: 8,
          shadowSampleRatio: o.shadowSampleRatio,
          shadowAllowedDifferences: o.shadowAllowedDifferences,
        },
        dir,
      );
      return cellOf(db);
    },
    cloneCell(template, o): CellDatabase | null {
      const db = databases.get(template);
      if (db === undefined || db.config.backend !== 'memory') return null;
      return cellOf(
        engine.cloneDatabase(db, {
          modes: o.modes,
          faults: o.faults,
          seed: o.seed,
          shadowSampleRatio: o.shadowSampleRatio,
          shadowAllowedDifferences: o.shadowAllowedDifferences,
        }),
      );
    },
  };
}

export const referenceAdapter: EngineAdapter = referenceAdapterOf(Engine, null);

const builds = new Map<string, Promise<EngineAdapter>>();

/** The reference adapter of a frozen build (one per build file). */
export function buildAdapter(build: EngineBuild): Promise<EngineAdapter> {
  let a = builds.get(build.file);
  if (a === undefined) {
    a = loadBuild(build.file).then((engine) => referenceAdapterOf(engine, build));
    builds.set(build.file, a);
  }
  return a;
}
