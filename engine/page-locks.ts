// The CAS page-lock table (M11's ownership primitive, unchanged in every
// mode): one word per page holding the owning session id, or 0 when free.

import type { SharedDatabase } from './shared/layout.ts';

export class PageLockTable {
  private readonly w: Int32Array;
  constructor(shared: SharedDatabase) {
    this.w = new Int32Array(shared.pageLocks);
  }

  /** Takes the page for `sessionId`; true if it is now (or already was) the owner. */
  tryAcquire(pgno: number, sessionId: number): boolean {
    const prev = Atomics.compareExchange(this.w, pgno, 0, sessionId);
    return prev === 0 || prev === sessionId;
  }

  /** Releases the page if `sessionId` owns it; false otherwise (nothing changes). */
  release(pgno: number, sessionId: number): boolean {
    return Atomics.compareExchange(this.w, pgno, sessionId, 0) === sessionId;
  }

  holder(pgno: number): number {
    return Atomics.load(this.w, pgno);
  }
}
