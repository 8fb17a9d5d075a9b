// M2 — BoundPagerPublication: at statement entry a file-backed or memory
// statement binds a fresh local copy of M1's summary. Kept exactly local:
// one bind per statement, never reused across statements.

import { COL, kindOf } from '../records/columns.ts';
import { injectDelay, type ClassContext } from './context.ts';
import type { M1PublishedPagerState, PagerSummary } from './m1-published-pager-state.ts';
import { emptySummary } from './m1-published-pager-state.ts';

const C = COL.M2;
const BIND = kindOf('M2', 'bind');

export class M2BoundPagerPublication {
  private readonly scratch: PagerSummary = emptySummary();
  private statements = 0;
  constructor(
    private readonly ctx: ClassContext,
    private readonly m1: M1PublishedPagerState,
    private readonly isMemory: boolean,
  ) {}

  /** Binds a new statement: a fresh copy each time, with its own statement id. Returns the bound sequence. */
  bind(): number {
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start();
    injectDelay(this.ctx, 'M2');
    const s = this.m1.read(this.scratch);
    const statementId = ++this.statements;
    if (sink !== null) {
      const o = sink.open(BIND, t0);
      const r = sink.rows;
      r[o + C.visible_commit_seq] = s.sequence_value;
      r[o + C.read_retry_count] = this.m1.lastRetries;
      r[o + C.statement_id] = statementId;
      r[o + C.is_memory] = this.isMemory ? 1 : 0;
      sink.done();
    }
    return s.sequence_value;
  }

  get statementCount(): number {
    return this.statements;
  }
}
