// Worker for cards.test.ts: one role per worker (see cards.shared.ts), one
// connection per thread onto a database opened in the main thread; posts a
// single result message.

import { parentPort, workerData } from 'node:worker_threads';
import { connect, isRetryable, shardOf, type FieldRecord, type TxnKind } from '../../engine/index.ts';
import { M1PublishedPagerState, emptySummary } from '../../engine/classes/m1-published-pager-state.ts';
import { M11SessionRegistry } from '../../engine/classes/m11-session-registry.ts';
import { delaysOf, type ClassContext } from '../../engine/classes/context.ts';
import { PageLockTable } from '../../engine/page-locks.ts';
import { Xorshift32 } from '../../engine/index.ts';
import {
  F,
  barrier,
  type CasRaceResult,
  type GrowWriterResult,
  type M11TxnResult,
  type M1ReaderResult,
  type M1WaitResult,
  type M6ReadResult,
  type M6ReaderResult,
  type ShardResult,
  type WorkerInput,
  type WorkerResult,
} from './cards.shared.ts';

const input = workerData as WorkerInput;
const flags = new Int32Array(input.flags);
const shared = input.shared;
const config = shared.config;

function bareContext(slot: number): ClassContext {
  return { sink: null, slot, rng: new Xorshift32(1 + slot), delayNs: delaysOf(config), shadowSampled: true };
}

function started(): void {
  Atomics.add(flags, F.STARTED, 1);
  Atomics.notify(flags, F.STARTED);
}

function writerDone(): boolean {
  return Atomics.load(flags, F.WRITER_DONE) === 1;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function m6Read(): M6ReadResult {
  const modes: string[] = [];
  const conn = connect(shared, {
    hook: (r) => {
      if (r.metadata_class === 'M6') modes.push(`${r.operation}:${r.control_mode}`);
    },
  });
  started();
  conn.begin('read');
  const value = conn.exec('SELECT balance FROM ?', [1]);
  const seq = conn.commit();
  Atomics.add(flags, F.DONE, 1);
  Atomics.notify(flags, F.DONE);
  conn.close();
  return { role: 'm6-read', value, seq, modes };
}

function growWriter(commits: number, parties: number): GrowWriterResult {
  const conn = connect(shared);
  barrier(flags, parties);
  let lastSeq = 0;
  try {
    for (let i = 1; i <= commits; i++) {
      conn.begin('write');
      conn.exec('UPDATE ? SET balance = ?', [i, i]);
      lastSeq = conn.commit();
      if (lastSeq !== i) throw new Error(`commit ${i} returned sequence ${lastSeq}`);
    }
  } finally {
    Atomics.store(flags, F.WRITER_DONE, 1);
    conn.close();
  }
  return { role: 'grow-writer', commits, lastSeq };
}

function m6Reader(parties: number): M6ReaderResult {
  const verdicts: Record<string, number> = {};
  const operations: Record<string, number> = {};
  const conn = connect(shared, {
    hook: (r) => {
      if (r.metadata_class !== 'M6') return;
      bump(operations, `${r.operation}:${r.control_mode}`);
      if (r.operation !== 'publish') bump(verdicts, r.shadow_verdict);
    },
  });
  const violations: string[] = [];
  const violation = (v: string): void => {
    if (violations.length < 20) violations.push(v);
  };
  barrier(flags, parties);
  let txns = 0;
  let maxSeq = 0;
  // One more transaction after the writer is done, so the last one sees the final state.
  for (let last = false; ;) {
    last = writerDone();
    conn.begin('read');
    const s = { ...conn.snapshot };
    if (s.commit_seq < maxSeq) violation(`snapshot went back from ${maxSeq} to ${s.commit_seq}`);
    maxSeq = Math.max(maxSeq, s.commit_seq);
    if (s.db_size !== s.commit_seq + 1) violation(`snapshot ${JSON.stringify(s)}: db_size is not commit_seq + 1`);
    if (s.freelist_count !== config.pageCount - s.db_size) violation(`snapshot ${JSON.stringify(s)}: freelist_count is not pageCount - db_size`);
    if (s.generation !== s.commit_seq) violation(`snapshot ${JSON.stringify(s)}: generation is not commit_seq`);
    if (s.commit_seq > 0) {
      const v = conn.exec('SELECT balance FROM ?', [s.commit_seq]);
      if (v !== s.commit_seq) violation(`at snapshot ${s.commit_seq} page ${s.commit_seq} holds ${v}`);
    }
    if (s.commit_seq + 1 < config.pageCount) {
      const v = conn.exec('SELECT balance FROM ?', [s.commit_seq + 1]);
      if (v !== 0) violation(`at snapshot ${s.commit_seq} page ${s.commit_seq + 1} (written later) holds ${v}`);
    }
    if (JSON.stringify(conn.snapshot) !== JSON.stringify(s)) violation('snapshot changed inside its transaction');
    conn.commit();
    txns++;
    if (last) break;
    // Bind again as soon as the next commit is published (otherwise M4 would
    // reuse the parked snapshot and skip the M6 bind).
    conn.waitForCommit(maxSeq + 1, 20);
  }
  conn.close();
  return { role: 'm6-reader', txns, violations, verdicts, operations, maxSeq };
}

function m1Reader(parties: number): M1ReaderResult {
  const res: M1ReaderResult = { role: 'm1-reader', reads: 0, records: 0, torn: 0, maxRetries: 0, nonMonotone: 0, incoherent: 0, maxSeq: 0, verdicts: {} };
  let lastSeq = -1;
  const onRecord = (r: FieldRecord): void => {
    if (r.metadata_class !== 'M1' || r.operation === 'publish') return;
    res.records++;
    if (r.torn === true) res.torn++;
    res.maxRetries = Math.max(res.maxRetries, r.read_retry_count);
    if (r.sequence_value < lastSeq) res.nonMonotone++;
    lastSeq = Math.max(lastSeq, r.sequence_value);
    bump(res.verdicts, r.shadow_verdict);
  };
  const conn = connect(shared, { hook: onRecord });
  // A bare M1 instance reads the whole summary: its fields must belong to one publication.
  const bare = new M1PublishedPagerState(shared, bareContext(100 + input.index), config);
  const s = emptySummary();
  barrier(flags, parties);
  for (let last = false; !last;) {
    last = writerDone();
    for (let k = 0; k < 16; k++) {
      const seq = conn.visibleCommitSeq();
      res.maxSeq = Math.max(res.maxSeq, seq);
      bare.read(s);
      if (s.db_size !== s.sequence_value + 1 || s.schema_cookie !== 1 || s.checkpoint_seq !== 0) res.incoherent++;
      res.reads += 2;
    }
    conn.begin('read');
    conn.commit();
  }
  conn.close();
  return res;
}

function m1Wait(target: number, timeoutMs: number): M1WaitResult {
  const conn = connect(shared);
  started();
  const t0 = performance.now();
  const reached = conn.waitForCommit(target, timeoutMs);
  const elapsedMs = performance.now() - t0;
  const visibleAfter = conn.visibleCommitSeq();
  conn.close();
  return { role: 'm1-wait', reached, elapsedMs, visibleAfter };
}

function m11Txn(txns: number): M11TxnResult {
  const res: M11TxnResult = {
    role: 'm11-txn',
    begins: 0,
    commits: 0,
    aborts: 0,
    retries: 0,
    checks: 0,
    violations: [],
    shardsSeen: [],
    notFound: 0,
    diverged: 0,
  };
  const violation = (v: string): void => {
    if (res.violations.length < 20) res.violations.push(v);
  };
  const shards = new Set<number>();
  /** The session the connection currently has registered (open or retained by M5). */
  let live: { id: number; shard: number; mode: string } | null = null;
  const onRecord = (r: FieldRecord): void => {
    if (r.metadata_class !== 'M11') return;
    if (r.session_not_found === true) res.notFound++;
    if (r.shadow_verdict === 'diverged') res.diverged++;
    if (r.operation === 'begin') {
      if (live !== null) violation(`session ${r.session_id} began while ${live.id} is still registered`);
      live = { id: r.session_id, shard: r.shard_id, mode: r.control_mode };
      res.begins++;
      if (r.control_mode !== 'legacy') {
        shards.add(r.shard_id);
        if (r.shard_id !== shardOf(r.session_id, config.registryShards)) violation(`session ${r.session_id} routed to shard ${r.shard_id}`);
      }
    } else if (r.operation === 'commit' || r.operation === 'abort') {
      if (live === null || live.id !== r.session_id) violation(`${r.operation} of session ${r.session_id}, which is not the live one`);
      else live = null;
    }
  };
  const reg = new M11SessionRegistry(shared, bareContext(200 + input.index), config);
  const check = (where: string): void => {
    if (live === null) return;
    res.checks++;
    const { id, shard, mode } = live;
    const inGlobal = reg.sessionsIn(0).includes(id);
    if (mode !== 'legacy' && !reg.sessionsIn(1 + shard).includes(id)) violation(`${where}: session ${id} missing from shard ${shard}`);
    if (mode !== 'sharded' && !inGlobal) violation(`${where}: session ${id} missing from the global table`);
    if (mode === 'sharded' && inGlobal) violation(`${where}: sharded session ${id} is in the global table`);
  };
  const conn = connect(shared, { hook: onRecord });
  const own = (i: number): number => 2 + input.index * 4 + (i % 4);
  for (let i = 0; i < txns; i++) {
    const kind: TxnKind = i % 3 === 0 ? 'write' : 'concurrent';
    try {
      conn.begin(kind);
      check('after begin');
      conn.exec('UPDATE ? SET balance = balance + ?', [own(i), 1]);
      if (i % 5 === 0) conn.exec('UPDATE ? SET balance = balance + ?', [1, 1]);
      check('inside the transaction');
      if (i % 4 === 3) {
        conn.rollback();
        res.aborts++;
      } else {
        conn.commit();
        res.commits++;
      }
      check('after the transaction');
    } catch (err) {
      if (!isRetryable(err)) throw err;
      res.retries++;
      if (conn.inTransaction) conn.rollback();
      check('after a retryable failure');
    }
  }
  conn.close();
  if (live !== null) violation(`session ${(live as { id: number }).id} still live after close`);
  res.shardsSeen = [...shards].sort((a, b) => a - b);
  return res;
}

function casRace(rounds: number, page: number, parties: number): CasRaceResult {
  const locks = new PageLockTable(shared);
  const id = 1000 + input.index;
  const violations: string[] = [];
  const violation = (v: string): void => {
    if (violations.length < 20) violations.push(v);
  };
  let wins = 0;
  for (let r = 0; r < rounds; r++) {
    barrier(flags, parties);
    const won = locks.tryAcquire(page, id);
    if (won) {
      wins++;
      Atomics.add(flags, F.WINS + r, 1);
      if (!locks.tryAcquire(page, id)) violation(`round ${r}: owner could not re-acquire`);
    }
    barrier(flags, parties);
    const holder = locks.holder(page);
    if (won && holder !== id) violation(`round ${r}: winner ${id} but holder ${holder}`);
    if (!won) {
      if (holder === id || holder === 0) violation(`round ${r}: lost but holder is ${holder}`);
      if (locks.release(page, id)) violation(`round ${r}: non-owner ${id} released the page`);
      if (locks.holder(page) !== holder) violation(`round ${r}: non-owner release changed the holder`);
    }
    barrier(flags, parties);
    if (won && !locks.release(page, id)) violation(`round ${r}: owner release failed`);
  }
  barrier(flags, parties);
  return { role: 'cas-race', wins, violations };
}

function shard(ids: number, counts: number[]): ShardResult {
  const table: Record<string, number[]> = {};
  for (const n of counts) table[String(n)] = Array.from({ length: ids }, (_, i) => shardOf(i + 1, n));
  return { role: 'shard', table };
}

function run(): WorkerResult {
  switch (input.role) {
    case 'm6-read':
      return m6Read();
    case 'grow-writer':
      return growWriter(input.commits, input.parties);
    case 'm6-reader':
      return m6Reader(input.parties);
    case 'm1-reader':
      return m1Reader(input.parties);
    case 'm1-wait':
      return m1Wait(input.target, input.timeoutMs);
    case 'm11-txn':
      return m11Txn(input.txns);
    case 'cas-race':
      return casRace(input.rounds, input.page, input.parties);
    case 'shard':
      return shard(input.ids, input.shards);
  }
}

parentPort?.postMessage(run());
