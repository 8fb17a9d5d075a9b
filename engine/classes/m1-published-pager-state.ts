// M1 — PublishedPagerState: a seqlock summary of the pager (commit sequence,
// db size, schema cookie, checkpoint sequence) that readers copy with a
// bounded retry.
// legacy:         waiters sleep on a condvar (Atomics.wait / notify on the
//                 sequence word), woken by every publish.
// polling:        no condvar: publishes wake nobody, waiters poll with bounded
//                 exponential backoff.
// shadow_compare: legacy publication and waits; every read is also taken
//                 under the publish lock and compared with the seqlock copy.

import { faultOf, type ClassFaults, type DatabaseConfig } from '../config.ts';
import { MODE_INDEX, type ModeIndex, type ShadowVerdict } from '../fields.ts';
import { COL, kindOf } from '../records/columns.ts';
import { nowMs } from '../shared/clock.ts';
import { CTL, M1, type SharedDatabase } from '../shared/layout.ts';
import { lock, unlock } from '../shared/mutex.ts';
import { hash32 } from '../shared/random.ts';
import { injectDelay, verdictIndex, type ClassContext } from './context.ts';

// Mode indexes as plain constants: read on every operation.
const { legacy: MODE_LEGACY, shadow_compare: MODE_SHADOW, new: MODE_NEW } = MODE_INDEX;

export interface PagerSummary {
  sequence_value: number;
  db_size: number;
  schema_cookie: number;
  checkpoint_seq: number;
}

const SUMMARY_FIELDS = ['sequence_value', 'db_size', 'schema_cookie', 'checkpoint_seq'] as const satisfies readonly (keyof PagerSummary)[];

export const emptySummary = (): PagerSummary => ({ sequence_value: 0, db_size: 0, schema_cookie: 0, checkpoint_seq: 0 });

const C = COL.M1;
const PUBLISH = kindOf('M1', 'publish');
const READ = kindOf('M1', 'read');
const WAIT = kindOf('M1', 'wait');

const checkWord = (s: PagerSummary): number => hash32(hash32(hash32(hash32(s.sequence_value) ^ s.db_size) ^ s.schema_cookie) ^ s.checkpoint_seq) | 0;

export interface WaitOutcome {
  reached: boolean;
  sequence_value: number;
  wait_ns: number;
  poll_spins: number;
}

export class M1PublishedPagerState {
  private readonly w: Int32Array;
  private readonly ctl: Int32Array;
  private readonly faults: ClassFaults;
  private readonly maxRetries: number;
  private readonly spinBudget: number;
  private readonly maxBackoffMs: number;
  /** A private word to sleep on between polls (nobody notifies it). */
  private readonly nap = new Int32Array(new SharedArrayBuffer(4));
  /** The previous copy this connection read: what a torn read mixes in. */
  private last: PagerSummary = emptySummary();
  /** Retries of the last read, reported by M2 binds. */
  lastRetries = 0;
  private spinSink = 0;
  /** The check word copied alongside the payload by the last read. */
  private checkCopy = 0;
  /** The seqlock word (publication count) the last read's copy belongs to. */
  private copySeq = 0;
  /** Fields the shadow comparison ignores (the card's allowed differences). */
  private readonly allowed: ReadonlySet<string>;

  constructor(
    shared: SharedDatabase,
    private readonly ctx: ClassContext,
    config: DatabaseConfig,
  ) {
    this.w = new Int32Array(shared.m1);
    this.ctl = new Int32Array(shared.ctl);
    this.faults = faultOf(config, 'M1');
    this.allowed = new Set(config.shadowAllowedDifferences.M1 ?? []);
    this.maxRetries = config.maxReadRetries;
    this.spinBudget = config.pollSpinBudget;
    this.maxBackoffMs = config.maxBackoffUs / 1000;
  }

  mode(): ModeIndex {
    return Atomics.load(this.ctl, CTL.MODE_M1) as ModeIndex;
  }

  /** Writer side; the caller holds the writer lock, so publishers never race each other. */
  publish(s: PagerSummary): void {
    const mode = this.mode();
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start();
    injectDelay(this.ctx, 'M1');
    // Every mode publishes under the publish lock (uncontended: commits are
    // already serialized), so the bounded-retry fallback of readers can take
    // it in any mode. What polling removes is the condvar.
    lock(this.w, M1.PUBLISH_LOCK);
    Atomics.add(this.w, M1.SEQ, 1);
    Atomics.store(this.w, M1.SEQUENCE_VALUE, s.sequence_value);
    Atomics.store(this.w, M1.DB_SIZE, s.db_size);
    Atomics.store(this.w, M1.SCHEMA_COOKIE, s.schema_cookie);
    Atomics.store(this.w, M1.CHECKPOINT_SEQ, s.checkpoint_seq);
    Atomics.store(this.w, M1.CHECK, checkWord(s));
    Atomics.add(this.w, M1.SEQ, 1);
    unlock(this.w, M1.PUBLISH_LOCK);
    // Polling mode skips the wake-up, unless condvar waiters from before a
    // mode change are still asleep: they must not wait out their timeout.
    if (mode !== MODE_NEW || Atomics.load(this.w, M1.WAITERS) > 0) Atomics.notify(this.w, M1.SEQ);
    if (sink !== null) {
      const o = sink.open(PUBLISH, t0);
      const r = sink.rows;
      r[o + C.sequence_value] = s.sequence_value;
      r[o + C.read_retry_count] = 0;
      r[o + C.poll_spins] = 0;
      r[o + C.wait_ns] = 0;
      r[o + C.control_mode] = mode;
      r[o + C.shadow_verdict] = 0;
      r[o + C.torn] = 0;
      sink.done();
    }
  }

  /** Copies the summary with the seqlock read contract; in shadow mode also compares it with a locked read. */
  read(out: PagerSummary): PagerSummary {
    const mode = this.mode();
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start();
    injectDelay(this.ctx, 'M1');
    const retries = this.seqlockRead(out);
    let verdict: ShadowVerdict = 'none';
    const torn = checkWord(out) !== this.checkCopy;
    if (mode === MODE_SHADOW && this.ctx.shadowSampled) verdict = this.compareLocked(out);
    this.lastRetries = retries;
    if (sink !== null) {
      const o = sink.open(READ, t0);
      const r = sink.rows;
      r[o + C.sequence_value] = out.sequence_value;
      r[o + C.read_retry_count] = retries;
      r[o + C.poll_spins] = 0;
      r[o + C.wait_ns] = 0;
      r[o + C.control_mode] = mode;
      r[o + C.shadow_verdict] = verdictIndex(verdict);
      r[o + C.torn] = torn ? 1 : 0;
      sink.done();
    }
    return out;
  }

  /** Returns the number of retries. Falls back to the publish lock past the retry bound. */
  private seqlockRead(out: PagerSummary): number {
    let retries = 0;
    for (;;) {
      const s1 = Atomics.load(this.w, M1.SEQ);
      if ((s1 & 1) === 0) {
        out.sequence_value = Atomics.load(this.w, M1.SEQUENCE_VALUE);
        out.db_size = Atomics.load(this.w, M1.DB_SIZE);
        out.schema_cookie = Atomics.load(this.w, M1.SCHEMA_COOKIE);
        out.checkpoint_seq = Atomics.load(this.w, M1.CHECKPOINT_SEQ);
        this.checkCopy = Atomics.load(this.w, M1.CHECK);
        this.copySeq = s1;
        if (this.faults.torn_read !== undefined && this.ctx.rng.chance(this.faults.torn_read)) {
          // Injected tear: skip validation and keep a field of the previous copy.
          out.sequence_value = this.last.sequence_value;
          this.remember(out);
          return retries;
        }
        if (Atomics.load(this.w, M1.SEQ) === s1) {
          this.remember(out);
          return retries;
        }
      }
      if (++retries >= this.maxRetries) {
        lock(this.w, M1.PUBLISH_LOCK);
        this.readPlain(out);
        unlock(this.w, M1.PUBLISH_LOCK);
        this.remember(out);
        return retries;
      }
    }
  }

  private remember(s: PagerSummary): void {
    this.last.sequence_value = s.sequence_value;
    this.last.db_size = s.db_size;
    this.last.schema_cookie = s.schema_cookie;
    this.last.checkpoint_seq = s.checkpoint_seq;
  }

  private readPlain(out: PagerSummary): void {
    out.sequence_value = Atomics.load(this.w, M1.SEQUENCE_VALUE);
    out.db_size = Atomics.load(this.w, M1.DB_SIZE);
    out.schema_cookie = Atomics.load(this.w, M1.SCHEMA_COOKIE);
    out.checkpoint_seq = Atomics.load(this.w, M1.CHECKPOINT_SEQ);
    this.checkCopy = Atomics.load(this.w, M1.CHECK);
    this.copySeq = Atomics.load(this.w, M1.SEQ);
  }

  /** The oracle: a read under the publish lock, compared field by field with the seqlock copy. */
  private compareLocked(candidate: PagerSummary): ShadowVerdict {
    const candidateCheck = this.checkCopy;
    const candidateSeq = this.copySeq;
    const oracle = emptySummary();
    lock(this.w, M1.PUBLISH_LOCK);
    this.readPlain(oracle);
    const oracleSeq = this.copySeq;
    unlock(this.w, M1.PUBLISH_LOCK);
    this.checkCopy = candidateCheck;
    this.copySeq = candidateSeq;
    const same = SUMMARY_FIELDS.every((f) => this.allowed.has(f) || oracle[f] === candidate[f]);
    if (same) return 'match';
    // A publish (a commit, or a checkpoint that republishes the same commit
    // sequence) may legitimately land between the two reads: then the copies
    // belong to different publications and only the candidate's coherence can
    // be judged. A torn candidate is a divergence either way.
    if (oracleSeq !== candidateSeq && checkWord(candidate) === candidateCheck) return 'inconclusive';
    return 'diverged';
  }

  /** Waits until the published sequence reaches `target` or `timeoutMs` passes. */
  waitFor(target: number, timeoutMs: number): WaitOutcome {
    const mode = this.mode();
    const t0 = nowMs();
    const s = emptySummary();
    const out: WaitOutcome = mode === MODE_NEW ? this.pollWait(target, timeoutMs, s, t0) : this.condvarWait(target, timeoutMs, s, t0);
    const t1 = nowMs();
    out.wait_ns = Math.round((t1 - t0) * 1e6);
    let verdict: ShadowVerdict = 'none';
    if (mode === MODE_SHADOW && this.ctx.shadowSampled) {
      this.seqlockRead(s);
      verdict = this.compareLocked(s);
    }
    const sink = this.ctx.sink;
    if (sink !== null) {
      // A wait is always timed: its wait_ns is the card's field.
      const o = sink.open(WAIT, t0, t1);
      const r = sink.rows;
      r[o + C.sequence_value] = out.sequence_value;
      r[o + C.read_retry_count] = this.lastRetries;
      r[o + C.poll_spins] = out.poll_spins;
      r[o + C.wait_ns] = out.wait_ns;
      r[o + C.control_mode] = mode;
      r[o + C.shadow_verdict] = verdictIndex(verdict);
      r[o + C.torn] = 0;
      sink.done();
    }
    return out;
  }

  private condvarWait(target: number, timeoutMs: number, s: PagerSummary, t0: number): WaitOutcome {
    const deadline = t0 + timeoutMs;
    Atomics.add(this.w, M1.WAITERS, 1);
    try {
      for (;;) {
        const seqWord = Atomics.load(this.w, M1.SEQ);
        this.lastRetries = this.seqlockRead(s);
        if (s.sequence_value >= target) return { reached: true, sequence_value: s.sequence_value, wait_ns: 0, poll_spins: 0 };
        const left = deadline - nowMs();
        if (left <= 0) return { reached: false, sequence_value: s.sequence_value, wait_ns: 0, poll_spins: 0 };
        Atomics.wait(this.w, M1.SEQ, seqWord, left);
      }
    } finally {
      Atomics.sub(this.w, M1.WAITERS, 1);
    }
  }

  private pollWait(target: number, timeoutMs: number, s: PagerSummary, t0: number): WaitOutcome {
    const deadline = t0 + timeoutMs;
    let spins = 0;
    let burst = 1;
    let napMs = 0.001;
    for (;;) {
      this.lastRetries = this.seqlockRead(s);
      if (s.sequence_value >= target) return { reached: true, sequence_value: s.sequence_value, wait_ns: 0, poll_spins: spins };
      if (nowMs() >= deadline) return { reached: false, sequence_value: s.sequence_value, wait_ns: 0, poll_spins: spins };
      if (spins < this.spinBudget) {
        // Exponential spin bursts up to the budget…
        for (let i = 0; i < burst; i++) this.spinSink = (this.spinSink + i) | 0;
        spins += burst;
        burst = Math.min(burst * 2, this.spinBudget);
      } else {
        // …then exponentially longer naps, capped, so a starved waiter costs little CPU.
        Atomics.wait(this.nap, 0, 0, Math.min(napMs, Math.max(0, deadline - nowMs())));
        napMs = Math.min(napMs * 2, this.maxBackoffMs);
        spins += 1;
      }
    }
  }
}

/** Publishes the recovered summary into a fresh region. */
export function initSummary(shared: SharedDatabase, s: PagerSummary): void {
  const w = new Int32Array(shared.m1);
  w[M1.SEQUENCE_VALUE] = s.sequence_value;
  w[M1.DB_SIZE] = s.db_size;
  w[M1.SCHEMA_COOKIE] = s.schema_cookie;
  w[M1.CHECKPOINT_SEQ] = s.checkpoint_seq;
  w[M1.CHECK] = checkWord(s);
}

export { checkWord as summaryCheckWord };
