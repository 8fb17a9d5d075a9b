// Fixture databases: every cell starts from a fresh copy of its workload's
// fixture, whose logical state is pinned by SHA-256. File cells copy the
// fixture files; memory cells rebuild it and must reach the same hash.

import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, type Backend, type Database, type DatabaseOptions } from '../../engine/index.ts';
import type { EngineModule } from './build.ts';
import type { WorkloadSpec } from '../spec/schema.ts';

export class FixtureError extends Error {
  override readonly name = 'FixtureError';
}

export interface Fixture {
  /** The fixture database file (file backend copies it). */
  path: string;
  sha256: string;
}

const ROWS_PER_TXN = 256;

export function engineOptions(spec: WorkloadSpec): DatabaseOptions {
  return {
    pageSize: spec.engine.pageSize,
    pageCount: spec.engine.pageCount,
    fsync: spec.engine.fsync,
    versionsPerPage: spec.engine.versionsPerPage,
    columns: ['balance'],
  };
}

function load(db: Database, spec: WorkloadSpec): string {
  const c = db.connect();
  try {
    for (let first = 1; first <= spec.fixture.rows; first += ROWS_PER_TXN) {
      c.begin('write');
      for (let p = first; p < Math.min(first + ROWS_PER_TXN, spec.fixture.rows + 1); p++) c.exec('UPDATE ? SET balance = ?', [p, spec.fixture.initial_balance]);
      c.commit();
    }
    c.checkpoint();
    return c.stateHash();
  } finally {
    c.close();
  }
}

function checkPin(spec: WorkloadSpec, sha256: string, file: string): void {
  if (spec.fixture.sha256 !== undefined && spec.fixture.sha256 !== sha256) {
    throw new FixtureError(`${file}: fixture.sha256 is ${spec.fixture.sha256} but the fixture built from this spec hashes to ${sha256}`);
  }
}

/** Builds (once per run) the fixture of a workload into `dir`. */
export function buildFixture(spec: WorkloadSpec, specFile: string, dir: string): Fixture {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${spec.name}.db`);
  if (existsSync(path)) throw new FixtureError(`${path}: fixture already exists`);
  const db = openDatabase({ ...engineOptions(spec), backend: 'file', path, maxConnections: 2 });
  const sha256 = load(db, spec);
  checkPin(spec, sha256, specFile);
  return { path, sha256 };
}

export interface CellDatabaseOptions extends DatabaseOptions {
  backend: Backend;
}

/** A fresh database for one round of one cell, at the fixture's state, made by `engine` (this checkout's, or a frozen build's). */
export function openCellDatabase(engine: EngineModule, spec: WorkloadSpec, fixture: Fixture, options: CellDatabaseOptions, dir: string): Database {
  const base = { ...engineOptions(spec), ...options };
  if (options.backend === 'file') {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'cell.db');
    copyFileSync(fixture.path, path);
    copyFileSync(`${fixture.path}-wal`, `${path}-wal`);
    return engine.openDatabase({ ...base, path });
  }
  // The spec's page count, even where the fixture uses fewer pages: the pinned hash covers the
  // freelist count it implies, and pages no version was written to are never resident anyway.
  // Loaded without the cell's faults (they are the experiment, not the starting state), then armed.
  const db = engine.openDatabase({ ...base, path: null, faults: {} });
  const sha256 = load(db, spec);
  if (sha256 !== fixture.sha256) throw new FixtureError(`${spec.name}: the memory fixture hashes to ${sha256}, the file fixture to ${fixture.sha256}`);
  db.armFaults(options.faults ?? {});
  return db;
}
