// Multi-version page storage in shared memory. Every page has a fixed number
// of version slots, each stamped with the commit sequence that wrote it. A
// reader at snapshot S sees, per page, the version with the largest sequence
// <= S. A writer may only overwrite a version that no active reader can still
// see, which is decided from the published read horizons.

import { EMPTY_VERSION, NO_HORIZON, horizonIndex, type SharedDatabase } from '../shared/layout.ts';

export class PageStore {
  readonly pageSize: number;
  readonly pageCount: number;
  readonly versionsPerPage: number;
  private readonly seqs: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly f64: Float64Array;
  private readonly ctl: Int32Array;
  private readonly horizonBase: number;
  private readonly maxConnections: number;

  constructor(shared: SharedDatabase) {
    const c = shared.config;
    this.pageSize = c.pageSize;
    this.pageCount = c.pageCount;
    this.versionsPerPage = c.versionsPerPage;
    this.seqs = new Int32Array(shared.versions);
    this.bytes = new Uint8Array(shared.pages);
    this.f64 = new Float64Array(shared.pages);
    this.ctl = new Int32Array(shared.ctl);
    this.horizonBase = horizonIndex(c, 0);
    this.maxConnections = c.maxConnections;
  }

  /** The version slot of `pgno` visible at `snapshotSeq`, or -1 if the page was never written. */
  visibleSlot(pgno: number, snapshotSeq: number): number {
    const base = pgno * this.versionsPerPage;
    let best = -1;
    let bestSeq = -1;
    for (let v = 0; v < this.versionsPerPage; v++) {
      const s = Atomics.load(this.seqs, base + v);
      if (s !== EMPTY_VERSION && s <= snapshotSeq && s > bestSeq) {
        bestSeq = s;
        best = base + v;
      }
    }
    return best;
  }

  /** The sequence of the newest committed version of `pgno` (at most `committedSeq`), or -1. */
  latestSeq(pgno: number, committedSeq: number): number {
    const base = pgno * this.versionsPerPage;
    let bestSeq = -1;
    for (let v = 0; v < this.versionsPerPage; v++) {
      const s = Atomics.load(this.seqs, base + v);
      if (s !== EMPTY_VERSION && s <= committedSeq && s > bestSeq) bestSeq = s;
    }
    return bestSeq;
  }

  /** A view of a version slot's bytes. Valid while the reader's horizon protects it. */
  view(slot: number): Uint8Array {
    const off = slot * this.pageSize;
    return this.bytes.subarray(off, off + this.pageSize);
  }

  /** The 8-byte column value at `offset` of a version slot, without copying the page. */
  numberAt(slot: number, offset: number): number {
    return this.f64[(slot * this.pageSize + offset) >>> 3]!;
  }

  /** Copies the page visible at `snapshotSeq` into `into` (zeros if never written). */
  read(pgno: number, snapshotSeq: number, into: Uint8Array): Uint8Array {
    const slot = this.visibleSlot(pgno, snapshotSeq);
    if (slot < 0) into.fill(0);
    else into.set(this.view(slot));
    return into;
  }

  /** The lowest sequence any active reader may still read, bounded by the given floor. */
  minHorizon(floor: number): number {
    let min = floor;
    for (let i = 0; i < this.maxConnections; i++) {
      const h = Atomics.load(this.ctl, this.horizonBase + i);
      if (h !== NO_HORIZON && h < min) min = h;
    }
    return min;
  }

  /**
   * Picks a slot of `pgno` that a commit at `newSeq` may overwrite: an empty
   * one, a leftover above `committedSeq` (never published), or one superseded
   * for every reader at or above `minHorizon`. Returns -1 when every version
   * is still visible to someone.
   */
  victim(pgno: number, minHorizon: number, committedSeq: number): number {
    const base = pgno * this.versionsPerPage;
    let keepSeq = -1; // the version readers at minHorizon see; everything older is dead
    for (let v = 0; v < this.versionsPerPage; v++) {
      const s = Atomics.load(this.seqs, base + v);
      if (s === EMPTY_VERSION || s > committedSeq) return base + v;
      if (s <= minHorizon && s > keepSeq) keepSeq = s;
    }
    let victim = -1;
    let victimSeq = Infinity;
    for (let v = 0; v < this.versionsPerPage; v++) {
      const s = Atomics.load(this.seqs, base + v);
      if (s < keepSeq && s < victimSeq) {
        victimSeq = s;
        victim = base + v;
      }
    }
    return victim;
  }

  /**
   * Writes a new version into `slot`. The sequence is stamped first: it is
   * above every published snapshot, so no reader looks at the slot until the
   * commit is published, by which time the bytes are in place.
   */
  install(slot: number, seq: number, data: Uint8Array): void {
    Atomics.store(this.seqs, slot, seq);
    this.bytes.set(data.subarray(0, this.pageSize), slot * this.pageSize);
  }

  /** Recovery and initial load: page `pgno` holds exactly one version. */
  loadInitial(pgno: number, seq: number, data: Uint8Array | null): void {
    const base = pgno * this.versionsPerPage;
    for (let v = 0; v < this.versionsPerPage; v++) this.seqs[base + v] = EMPTY_VERSION;
    this.seqs[base] = seq;
    const off = base * this.pageSize;
    if (data === null) this.bytes.fill(0, off, off + this.pageSize);
    else this.bytes.set(data.subarray(0, this.pageSize), off);
  }

  setHorizon(slot: number, seq: number): void {
    Atomics.store(this.ctl, this.horizonBase + slot, seq);
  }

  clearHorizon(slot: number): void {
    Atomics.store(this.ctl, this.horizonBase + slot, NO_HORIZON);
  }
}
