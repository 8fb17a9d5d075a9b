// The file backend's durable layer: a database file plus a WAL. Pages are
// served from the shared multi-version store; the files make commits durable
// and survive crashes. Recovery replays the WAL's complete, checksum-valid
// transactions; checkpoint copies the committed pages back and starts a new
// WAL generation with fresh salts.

import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import type { DatabaseConfig } from '../config.ts';
import { EngineError } from '../errors.ts';
import { WALX, type SharedDatabase } from '../shared/layout.ts';
import type { PageStore } from './page-store.ts';
import {
  DB_HEADER_SIZE,
  FRAME_HEADER_SIZE,
  WAL_HEADER_SIZE,
  decodeDbHeader,
  decodeFrameHeader,
  decodeWalHeader,
  encodeDbHeader,
  encodeFrame,
  encodeWalHeader,
  verifyFrame,
  type DbHeader,
  type FrameHeader,
} from './wal-format.ts';

export const walPath = (dbPath: string): string => `${dbPath}-wal`;

export interface RecoveryReport {
  /** Frames present in the WAL when it was opened. */
  wal_frames_found: number;
  wal_frames_applied: number;
  commits_recovered: number;
  /** Index of the first frame that failed its checksum or salts, or null. */
  rejected_at_frame: number | null;
  reject_reason: string | null;
  /** Valid frames after the last commit frame: a transaction that never completed. */
  incomplete_frames_discarded: number;
  commit_seq: number;
}

/** A committed state as the files know it. */
export interface DurableState {
  commit_seq: number;
  db_size: number;
  schema_cookie: number;
  schema_generation: number;
  checkpoint_seq: number;
}

export interface WalIndex {
  /** The index seqlock value this copy was taken at. */
  seq: number;
  mx_frame: number;
  checkpoint_seq: number;
  salt1: number;
  salt2: number;
  cksum1: number;
  cksum2: number;
}

export interface FrameToWrite {
  pgno: number;
  data: Uint8Array;
}

function readAll(fd: number, size: number, position: number): Uint8Array {
  const buf = new Uint8Array(size);
  let done = 0;
  while (done < size) {
    const n = readSync(fd, buf, done, size - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

/** Runs a file operation, turning an OS error (ENOSPC, EIO, …) into a typed one naming the file. */
function io<T>(file: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof EngineError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new EngineError('io', `${file}: ${what} failed: ${e.code ?? ''} ${e.message}`.trim(), { file, errno: e.code ?? null });
  }
}

function writeAll(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.byteLength) done += writeSync(fd, buf, done, buf.byteLength - done, position + done);
}

const newSalt = (): number => randomInt(1, 0x7fffffff);

/** Per-connection file handles onto one database's files. */
export class FileStore {
  readonly frameSize: number;
  private readonly idx: Int32Array;
  private dbFd = -1;
  private walFd = -1;

  constructor(
    shared: SharedDatabase,
    readonly config: DatabaseConfig,
  ) {
    this.frameSize = FRAME_HEADER_SIZE + config.pageSize;
    this.idx = new Int32Array(shared.wal);
  }

  private get path(): string {
    return this.config.path!;
  }

  private wal(): number {
    if (this.walFd < 0) this.walFd = openSync(walPath(this.path), 'r+');
    return this.walFd;
  }

  private db(): number {
    if (this.dbFd < 0) this.dbFd = openSync(this.path, 'r+');
    return this.dbFd;
  }

  /**
   * A coherent copy of the shared WAL index. Writers change it under the
   * writer lock inside a seqlock; readers (handle refreshes) copy it without
   * locks and retry while a change is in flight.
   */
  index(): WalIndex {
    for (;;) {
      const seq = Atomics.load(this.idx, WALX.SEQ);
      if ((seq & 1) === 0) {
        const copy = this.indexWords(seq);
        if (Atomics.load(this.idx, WALX.SEQ) === seq) return copy;
      } else {
        Atomics.wait(this.idx, WALX.SEQ, seq, 1);
      }
    }
  }

  /** The index seqlock's current value: a reader that saw it unchanged saw no index change or WAL restart. */
  indexSeq(): number {
    return Atomics.load(this.idx, WALX.SEQ);
  }

  private beginIndexChange(): void {
    Atomics.add(this.idx, WALX.SEQ, 1);
  }

  private endIndexChange(): void {
    Atomics.add(this.idx, WALX.SEQ, 1);
    Atomics.notify(this.idx, WALX.SEQ);
  }

  private indexWords(seq: number): WalIndex {
    return {
      seq,
      mx_frame: Atomics.load(this.idx, WALX.MX_FRAME),
      checkpoint_seq: Atomics.load(this.idx, WALX.CHECKPOINT_SEQ),
      salt1: Atomics.load(this.idx, WALX.SALT1) >>> 0,
      salt2: Atomics.load(this.idx, WALX.SALT2) >>> 0,
      cksum1: Atomics.load(this.idx, WALX.CKSUM1) >>> 0,
      cksum2: Atomics.load(this.idx, WALX.CKSUM2) >>> 0,
    };
  }

  /** Reads a frame header straight from the WAL file. */
  readFrameHeader(frame: number): FrameHeader {
    const buf = readAll(this.wal(), FRAME_HEADER_SIZE, WAL_HEADER_SIZE + frame * this.frameSize);
    if (buf.byteLength < FRAME_HEADER_SIZE) throw new EngineError('corrupt', `${walPath(this.path)}: frame ${frame} is past the end of the WAL`, { frame });
    return decodeFrameHeader(buf, 0);
  }

  /**
   * Appends one transaction's frames at `startFrame`, chained from (s1, s2),
   * with a single write; fsyncs under the `full` policy; then advances the
   * shared index. Caller holds the writer lock. Returns the new checksum.
   */
  append(startFrame: number, s1: number, s2: number, frames: FrameToWrite[], commit: DurableState): [number, number] {
    const { salt1, salt2 } = this.index();
    const buf = new Uint8Array(frames.length * this.frameSize);
    let sum: [number, number] = [s1, s2];
    frames.forEach((f, i) => {
      const last = i === frames.length - 1;
      sum = encodeFrame(
        buf,
        i * this.frameSize,
        {
          pgno: f.pgno,
          commit_seq: commit.commit_seq,
          db_size: last ? commit.db_size : 0,
          schema_cookie: commit.schema_cookie,
          schema_generation: commit.schema_generation,
          salt1,
          salt2,
        },
        f.data,
        sum[0],
        sum[1],
      );
    });
    io(walPath(this.path), 'append', () => {
      writeAll(this.wal(), buf, WAL_HEADER_SIZE + startFrame * this.frameSize);
      if (this.config.fsync === 'full') fsyncSync(this.wal());
    });
    for (const f of frames) Atomics.or(this.idx, WALX.DIRTY + (f.pgno >>> 5), 1 << (f.pgno & 31));
    this.beginIndexChange();
    Atomics.store(this.idx, WALX.CKSUM1, sum[0] | 0);
    Atomics.store(this.idx, WALX.CKSUM2, sum[1] | 0);
    Atomics.store(this.idx, WALX.MX_FRAME, startFrame + frames.length);
    this.endIndexChange();
    return sum;
  }

  /**
   * Copies every page the WAL touched back into the database file, makes it
   * durable, then starts a new WAL generation. Caller holds the writer lock,
   * so `pages` cannot change underneath. Returns the frames checkpointed.
   */
  checkpoint(pages: PageStore, state: DurableState): number {
    return io(this.path, 'checkpoint', () => this.checkpointUnchecked(pages, state));
  }

  private checkpointUnchecked(pages: PageStore, state: DurableState): number {
    const frames = Atomics.load(this.idx, WALX.MX_FRAME);
    const dirty = new Int32Array(this.idx.buffer, WALX.DIRTY * 4, this.idx.length - WALX.DIRTY);
    const db = this.db();
    for (let word = 0; word < dirty.length; word++) {
      let bits = Atomics.exchange(dirty, word, 0);
      while (bits !== 0) {
        const bit = 31 - Math.clz32(bits);
        bits &= ~(1 << bit);
        const pgno = word * 32 + bit;
        const slot = pages.visibleSlot(pgno, state.commit_seq);
        if (slot >= 0) writeAll(db, pages.view(slot), DB_HEADER_SIZE + pgno * this.config.pageSize);
      }
    }
    const nextCheckpoint = state.checkpoint_seq + 1;
    writeAll(db, encodeDbHeader({ ...state, pageSize: this.config.pageSize, pageCount: this.config.pageCount, checkpoint_seq: nextCheckpoint }), 0);
    if (this.config.fsync !== 'off') fsyncSync(db);
    this.restartWal(nextCheckpoint);
    return frames;
  }

  /**
   * New salts, header rewritten, old frames cut off. Frames left by a crash
   * in between fail the salt check. The file change and the index change sit
   * in one seqlock window, so no handle sees the new file with the old index;
   * the fsync comes after it (the writer lock still holds off commits).
   */
  private restartWal(checkpointSeq: number): void {
    const { bytes, header } = encodeWalHeader(this.config.pageSize, checkpointSeq, newSalt(), newSalt());
    this.beginIndexChange();
    try {
      writeAll(this.wal(), bytes, 0);
      ftruncateSync(this.wal(), WAL_HEADER_SIZE);
      this.resetIndex(checkpointSeq, header);
    } finally {
      this.endIndexChange();
    }
    if (this.config.fsync !== 'off') fsyncSync(this.wal());
  }

  private resetIndex(checkpointSeq: number, header: { salt1: number; salt2: number; cksum1: number; cksum2: number }): void {
    Atomics.store(this.idx, WALX.SALT1, header.salt1 | 0);
    Atomics.store(this.idx, WALX.SALT2, header.salt2 | 0);
    Atomics.store(this.idx, WALX.CKSUM1, header.cksum1 | 0);
    Atomics.store(this.idx, WALX.CKSUM2, header.cksum2 | 0);
    Atomics.store(this.idx, WALX.MX_FRAME, 0);
    Atomics.store(this.idx, WALX.CHECKPOINT_SEQ, checkpointSeq);
  }

  close(): void {
    if (this.dbFd >= 0) closeSync(this.dbFd);
    if (this.walFd >= 0) closeSync(this.walFd);
    this.dbFd = this.walFd = -1;
  }

  /**
   * Opens (or creates) the files and loads the newest committed state into
   * `pages`: the database file, then every complete, valid transaction of the
   * WAL. Ends with a checkpoint, so the WAL starts empty in a new generation.
   */
  recover(pages: PageStore, initialPage0: Uint8Array): { state: DurableState; report: RecoveryReport } {
    const { pageSize, pageCount } = this.config;
    const path = this.path;
    if (!existsSync(path)) {
      // Built beside and renamed into place: a crash never leaves half a database file.
      io(path, 'create', () => {
        const fd = openSync(`${path}.init`, 'w');
        const header: DbHeader = { pageSize, pageCount, commit_seq: 0, db_size: 1, schema_cookie: 1, schema_generation: 1, checkpoint_seq: 0 };
        writeAll(fd, encodeDbHeader(header), 0);
        writeAll(fd, initialPage0, DB_HEADER_SIZE);
        fsyncSync(fd);
        closeSync(fd);
        renameSync(`${path}.init`, path);
      });
    }
    if (!existsSync(walPath(path))) closeSync(openSync(walPath(path), 'w'));
    const db = this.db();
    const header = decodeDbHeader(readAll(db, DB_HEADER_SIZE, 0));
    if (typeof header === 'string') throw new EngineError('corrupt', `${path}: ${header}`, { file: path });
    if (header.pageSize !== pageSize)
      throw new EngineError('config', `${path}: file has pageSize ${header.pageSize}, config asks ${pageSize}`, { file: path, field: 'pageSize' });
    if (header.pageCount !== pageCount)
      throw new EngineError('config', `${path}: file has pageCount ${header.pageCount}, config asks ${pageCount}`, { file: path, field: 'pageCount' });
    const body = readAll(db, pageSize * pageCount, DB_HEADER_SIZE);
    for (let p = 0; p < pageCount; p++) {
      const off = p * pageSize;
      pages.loadInitial(p, header.commit_seq, off < body.byteLength ? body.subarray(off, Math.min(off + pageSize, body.byteLength)) : null);
    }
    const state: DurableState = { ...header };
    const report = this.replayWal(pages, state);
    // Start clean: replayed pages go back to the database file and the WAL
    // (including any rejected tail) is cut off behind a new generation.
    this.checkpoint(pages, state);
    state.checkpoint_seq += 1;
    return { state, report };
  }

  private replayWal(pages: PageStore, state: DurableState): RecoveryReport {
    const wal = this.wal();
    const size = fstatSync(wal).size;
    const report: RecoveryReport = {
      wal_frames_found: Math.max(0, Math.floor((size - WAL_HEADER_SIZE) / this.frameSize)),
      wal_frames_applied: 0,
      commits_recovered: 0,
      rejected_at_frame: null,
      reject_reason: null,
      incomplete_frames_discarded: 0,
      commit_seq: state.commit_seq,
    };
    const bytes = readAll(wal, size, 0);
    const header = decodeWalHeader(bytes);
    if (header === null) {
      if (size > 0) {
        report.rejected_at_frame = 0;
        report.reject_reason = 'WAL header invalid';
      }
      return report;
    }
    let sum: [number, number] = [header.cksum1, header.cksum2];
    let pending: { pgno: number; off: number }[] = [];
    for (let i = 0; i < report.wal_frames_found; i++) {
      const off = WAL_HEADER_SIZE + i * this.frameSize;
      const h = decodeFrameHeader(bytes, off);
      let why: string | null = null;
      if (h.salt1 !== header.salt1 || h.salt2 !== header.salt2) why = 'salt mismatch (frame of an earlier WAL generation)';
      else if (h.pgno >= this.config.pageCount) why = `page number ${h.pgno} out of range`;
      else if (h.commit_seq <= state.commit_seq && pending.length === 0) why = `commit sequence ${h.commit_seq} does not advance`;
      const next = why === null ? verifyFrame(bytes, off, this.config.pageSize, sum[0], sum[1]) : null;
      if (why === null && next === null) why = 'checksum mismatch';
      if (why !== null || next === null) {
        report.rejected_at_frame = i;
        report.reject_reason = why;
        break;
      }
      sum = next;
      pending.push({ pgno: h.pgno, off: off + FRAME_HEADER_SIZE });
      if (h.db_size !== 0) {
        for (const f of pending) {
          pages.loadInitial(f.pgno, h.commit_seq, bytes.subarray(f.off, f.off + this.config.pageSize));
          this.markDirty(f.pgno);
        }
        report.wal_frames_applied += pending.length;
        report.commits_recovered++;
        pending = [];
        Object.assign(state, { commit_seq: h.commit_seq, db_size: h.db_size, schema_cookie: h.schema_cookie, schema_generation: h.schema_generation });
      }
    }
    report.incomplete_frames_discarded = pending.length;
    report.commit_seq = state.commit_seq;
    return report;
  }

  private markDirty(pgno: number): void {
    Atomics.or(this.idx, WALX.DIRTY + (pgno >>> 5), 1 << (pgno & 31));
  }
}
