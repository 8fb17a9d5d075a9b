// The write path under the writer lock: validate a transaction against the
// committed state, make it durable (file backend), install its page versions
// and publish the new state through M6 and M1. Checkpoint shares the lock
// and the publication. Nothing here is connection-local state.

import type { DatabaseConfig } from './config.ts';
import { EngineError } from './errors.ts';
import { encodeSchema } from './schema.ts';
import type { Schema } from './sql/compile.ts';
import type { PageStore } from './store/page-store.ts';
import type { FileStore, FrameToWrite } from './store/file-store.ts';
import type { M1PublishedPagerState } from './classes/m1-published-pager-state.ts';
import type { CommittedState, M6CommittedState } from './classes/m6-committed-state.ts';
import type { M7WalFrameState } from './classes/m7-wal-frame-state.ts';
import type { M8WalGeneration } from './classes/m8-wal-generation.ts';
import type { M11SessionRegistry, Session } from './classes/m11-session-registry.ts';

/** The WAL handle of a file-backed connection: its per-handle M7 and M8 state. */
export interface WalHandle {
  file: FileStore;
  m7: M7WalFrameState;
  m8: M8WalGeneration;
}

export interface PendingCommit {
  /** The committed state the transaction read from. */
  snapshot: CommittedState;
  session: Session;
  writes: ReadonlyMap<number, { bytes: Uint8Array }>;
  ddl: Schema | null;
}

export class CommitPath {
  constructor(
    private readonly config: DatabaseConfig,
    private readonly pages: PageStore,
    private readonly m1: M1PublishedPagerState,
    private readonly m6: M6CommittedState,
    private readonly m11: M11SessionRegistry,
    private readonly wal: WalHandle | null,
  ) {}

  /** Commits `t`; the caller holds the writer lock. Throws a typed error and changes nothing on failure. */
  commit(t: PendingCommit): CommittedState {
    if (!this.m11.lookup(t.session)) {
      throw new EngineError('session_not_found', `session ${t.session.session_id} not found on its shard`, { session_id: t.session.session_id });
    }
    const cur = this.m6.committed();
    if (cur.schema_cookie !== t.snapshot.schema_cookie) {
      throw new EngineError('schema_changed', `schema changed (cookie ${t.snapshot.schema_cookie} -> ${cur.schema_cookie}) since this transaction began`, {});
    }
    for (const pgno of t.writes.keys()) {
      const latest = this.pages.latestSeq(pgno, cur.commit_seq);
      if (latest > t.snapshot.commit_seq) {
        throw new EngineError('write_conflict', `page ${pgno} was committed at ${latest}, after this transaction's snapshot ${t.snapshot.commit_seq}`, {
          pgno,
        });
      }
    }
    const frames: FrameToWrite[] = [];
    let dbSize = cur.db_size;
    for (const [pgno, page] of t.writes) {
      frames.push({ pgno, data: page.bytes });
      if (pgno + 1 > dbSize) dbSize = pgno + 1;
    }
    const next = { ...cur, commit_seq: cur.commit_seq + 1, db_size: dbSize, freelist_count: this.config.pageCount - dbSize };
    if (t.ddl !== null) {
      frames.push({ pgno: 0, data: encodeSchema(t.ddl, this.config.pageSize) });
      next.schema_cookie = cur.schema_cookie + 1;
      next.schema_generation = cur.schema_generation + 1;
    }
    frames.sort((a, b) => a.pgno - b.pgno);
    const minHorizon = this.pages.minHorizon(this.m6.bindableFloor(cur.commit_seq));
    const victims = frames.map((f) => this.pages.victim(f.pgno, minHorizon, cur.commit_seq));
    const full = victims.indexOf(-1);
    if (full >= 0) {
      throw new EngineError('busy', `page ${frames[full]!.pgno}: every version is still visible to a reader (versionsPerPage=${this.config.versionsPerPage})`, {
        pgno: frames[full]!.pgno,
      });
    }
    let checkpointSeq = 0;
    if (this.wal !== null) {
      this.wal.m7.refresh(this.wal.m8.compare());
      checkpointSeq = this.wal.file.index().checkpoint_seq;
      this.wal.m7.append(frames, { ...next, checkpoint_seq: checkpointSeq });
    }
    frames.forEach((f, i) => this.pages.install(victims[i]!, next.commit_seq, f.data));
    this.m6.commit(next);
    this.m1.publish({ sequence_value: next.commit_seq, db_size: next.db_size, schema_cookie: next.schema_cookie, checkpoint_seq: checkpointSeq });
    return { ...next, generation: cur.generation + 1 };
  }

  /** Whether the WAL has grown to the auto-checkpoint size. */
  wantsCheckpoint(): boolean {
    return this.wal !== null && this.config.autoCheckpointFrames > 0 && this.wal.file.index().mx_frame >= this.config.autoCheckpointFrames;
  }

  /** Checkpoints the WAL (file backend) and publishes the new generation; the caller holds the writer lock. */
  checkpoint(): number {
    if (this.wal === null) return 0;
    const { file, m7, m8 } = this.wal;
    m7.refresh(m8.compare());
    const c = this.m6.committed();
    const frames = file.checkpoint(this.pages, { ...c, checkpoint_seq: file.index().checkpoint_seq });
    this.m1.publish({ sequence_value: c.commit_seq, db_size: c.db_size, schema_cookie: c.schema_cookie, checkpoint_seq: file.index().checkpoint_seq });
    return frames;
  }
}
