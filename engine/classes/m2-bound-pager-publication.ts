// M2 — BoundPagerPublication: at statement entry a file-backed or memory
// statement binds a fresh local copy of M1's summary. Kept exactly local:
// one bind per statement, never reused across statements.

import type { ClassContext } from './context.ts';
import { emit, injectDelay } from './context.ts';
import type { M1PublishedPagerState, PagerSummary } from './m1-published-pager-state.ts';
import { emptySummary } from './m1-published-pager-state.ts';
import { nowMs } from '../shared/clock.ts';

export interface BoundPublication {
  visible_commit_seq: number;
  read_retry_count: number;
  statement_id: number;
}

export class M2BoundPagerPublication {
  private readonly scratch: PagerSummary = emptySummary();
  private statements = 0;
  constructor(private readonly ctx: ClassContext, private readonly m1: M1PublishedPagerState, private readonly isMemory: boolean) {}

  /** Binds a new statement: a fresh copy each time, with its own statement id. */
  bind(): BoundPublication {
    const t0 = this.ctx.hook === null ? 0 : nowMs();
    injectDelay(this.ctx, 'M2');
    const s = this.m1.read(this.scratch);
    const bound: BoundPublication = { visible_commit_seq: s.sequence_value, read_retry_count: this.m1.lastRetries, statement_id: ++this.statements };
    if (this.ctx.hook !== null) {
      emit<'M2'>(this.ctx, t0, { metadata_class: 'M2', operation: 'bind', ...bound, is_memory: this.isMemory });
    }
    return bound;
  }

  get statementCount(): number {
    return this.statements;
  }
}
