// A group's arms' databases, opened together from the fixture and reopened
// fresh every round. A database lives at one place in memory for its whole
// life, and that placement alone made one arm of an A/A run 3.5% faster than
// another, consistently, in one run out of three (paired t ≈ 9): a bias no
// number of pairs averages away. Fresh databases each round turn it into
// noise that pairing measures, and every round starts from the same state.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { controlModes, setControlMode, SWITCHABLE_CLASSES, type FaultConfig } from '../../engine/index.ts';
import type { CellDatabase, EngineAdapter, Fixture } from '../engines/adapter.ts';
import { buildAdapter } from '../engines/reference.ts';
import { CARDS } from '../cards/cards.ts';
import type { Cell } from '../plan/matrix.ts';

export interface ArmOptions {
  engine: EngineAdapter;
  fixture: Fixture;
  seed: number;
  faultsOf: (cell: Cell) => FaultConfig;
  shadowSampleRatio: number;
  workDir: string;
}

/** The cards' allowed-difference policies, handed to the engine's shadow comparisons as they are declared. */
const ALLOWED_DIFFERENCES = Object.fromEntries(SWITCHABLE_CLASSES.map((c) => [c, [...CARDS[c].allowed_differences]]));

export class ArmDatabases {
  /** The current generation's databases, one per arm. */
  dbs: CellDatabase[] = [];
  private generation = 0;
  /**
   * The fixture's state, opened once per engine (this checkout's, a frozen
   * build's) with no mode or fault of its own and never connected to: where
   * an engine can copy a database (the reference engine's memory backend,
   * ~10 ms for 64 MiB, every page touched), every arm of every round is a
   * copy of it, instead of a fixture load (~21 ms).
   */
  private readonly templates = new Map<EngineAdapter, CellDatabase | null>();

  constructor(
    private readonly cells: readonly Cell[],
    private readonly o: ArmOptions,
  ) {}

  /**
   * Opens a fresh database per arm from the fixture, and returns the previous
   * generation for the caller to close once no connection uses it. A class
   * forced back to legacy stays forced: the fallback outlives the database.
   */
  async open(): Promise<CellDatabase[]> {
    const previous = this.dbs;
    const gen = ++this.generation;
    const next: CellDatabase[] = [];
    try {
      for (let i = 0; i < this.cells.length; i++) {
        const c = this.cells[i]!;
        const engine = await this.engineOf(c);
        const template = await this.templateOf(engine);
        const options = {
          backend: c.backend,
          concurrency: c.concurrency,
          modes: c.modeSet.modes,
          faults: this.o.faultsOf(c),
          seed: this.o.seed,
          shadowSampleRatio: this.o.shadowSampleRatio,
          shadowAllowedDifferences: ALLOWED_DIFFERENCES,
        };
        let db = template === null ? null : (engine.cloneCell?.(template, options) ?? null);
        db ??= await engine.openCell(c.workload.spec, this.o.fixture, options, this.dir(i, gen));
        next.push(db);
        const before = previous[i]?.shared;
        if (before != null && db.shared !== null) {
          const was = controlModes(before);
          for (const cls of SWITCHABLE_CLASSES)
            if (was[cls] === 'legacy' && controlModes(db.shared)[cls] !== 'legacy') setControlMode(db.shared, cls, 'legacy');
        }
      }
    } catch (err) {
      await ArmDatabases.close(next);
      throw err;
    }
    this.dbs = next;
    return previous;
  }

  /** Closes a generation's databases and removes their folders. */
  static async close(dbs: readonly CellDatabase[]): Promise<void> {
    for (const db of dbs) await db.close();
  }

  /** Closes the current generation (and the template) and every folder this set made. */
  async closeAll(): Promise<void> {
    await ArmDatabases.close([...this.dbs, ...[...this.templates.values()].filter((t) => t !== null)]);
    this.dbs = [];
    this.templates.clear();
    rmSync(join(this.o.workDir, `${this.cells[0]!.id}.template`), { recursive: true, force: true });
    for (let gen = 1; gen <= this.generation; gen++) for (let i = 0; i < this.cells.length; i++) rmSync(this.dir(i, gen), { recursive: true, force: true });
  }

  /** Removes the folders of a closed generation. */
  removeGeneration(gen: number): void {
    for (let i = 0; i < this.cells.length; i++) rmSync(this.dir(i, gen), { recursive: true, force: true });
  }

  /** The adapter a cell's arm runs on: the group's, or its mode set's frozen build's. */
  private engineOf(c: Cell): Promise<EngineAdapter> | EngineAdapter {
    return c.modeSet.build === undefined ? this.o.engine : buildAdapter(c.modeSet.build);
  }

  private async templateOf(engine: EngineAdapter): Promise<CellDatabase | null> {
    const known = this.templates.get(engine);
    if (known !== undefined) return known;
    const c = this.cells[0]!;
    if (engine.cloneCell === undefined || c.backend !== 'memory') {
      this.templates.set(engine, null);
      return null;
    }
    const template = await engine.openCell(
      c.workload.spec,
      this.o.fixture,
      {
        backend: c.backend,
        concurrency: c.concurrency,
        modes: { M1: 0, M6: 0, M11: 0 },
        faults: {},
        seed: this.o.seed,
        shadowSampleRatio: this.o.shadowSampleRatio,
        shadowAllowedDifferences: ALLOWED_DIFFERENCES,
      },
      join(this.o.workDir, `${c.id}.template`, String(this.templates.size)),
    );
    this.templates.set(engine, template);
    return template;
  }

  get current(): number {
    return this.generation;
  }

  private dir(i: number, gen: number): string {
    return join(this.o.workDir, `${this.cells[i]!.id}.g${gen}`);
  }
}
