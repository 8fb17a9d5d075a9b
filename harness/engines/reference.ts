// The reference adapter: this repository's engine, exactly as the harness
// drove it before adapters existed (fixture pinned by the spec's SHA-256,
// control modes, faults, shadow sampling, live fallback on `shared`).

import { cloneDatabase, METADATA_CLASSES, type Database } from '../../engine/index.ts';
import { buildFixture, FixtureError, openCellDatabase } from './fixture.ts';
import type { CellDatabase, EngineAdapter } from './adapter.ts';

/** The engine database behind each cell database this adapter made (what cloneCell copies). */
const databases = new WeakMap<CellDatabase, Database>();

function cellOf(db: Database): CellDatabase {
  const cell: CellDatabase = {
    handle: { variant: 'reference', shared: db.shared },
    shared: db.shared,
    reported: METADATA_CLASSES,
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
}

export const referenceAdapter: EngineAdapter = {
  variant: 'reference',
  buildFixture: async (spec, specFile, dir) => buildFixture(spec, specFile, dir),
  async openCell(spec, fixture, o, dir): Promise<CellDatabase> {
    if (fixture.path === null || fixture.sha256 === null) throw new FixtureError(`${spec.name}: the reference engine needs a fixture file`);
    const db = openCellDatabase(
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
      cloneDatabase(db, {
        modes: o.modes,
        faults: o.faults,
        seed: o.seed,
        shadowSampleRatio: o.shadowSampleRatio,
        shadowAllowedDifferences: o.shadowAllowedDifferences,
      }),
    );
  },
};
