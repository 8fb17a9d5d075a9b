// Worker for faults.test.ts: drives one connection through a scenario and
// reports counts of the field records (and errors) the scenario is about.

import { parentPort, workerData } from 'node:worker_threads';
import { connect, shardOf, isRetryable, EngineError, type FieldRecord, type SharedDatabase } from '../../engine/index.ts';
import { isObject, num } from '../support/worker-data.ts';

export type Scenario = 'm6' | 'm11' | 'm1-writer' | 'm1-reader';

export interface FaultResult {
  index: number;
  scenario: Scenario;
  /** Record and event counters, keyed as documented at `count()` call sites. */
  counts: Record<string, number>;
  /** Errors by EngineError code (non-engine errors as `non-engine`). */
  errors: Record<string, number>;
  /** Anything that should never happen, whatever the fault. */
  violations: string[];
}

/**
 * Control words shared by the M1 writer and readers (Int32):
 * 0 commits made by the writer, 1 readers finished.
 */
export const SYNC = { WRITER_COMMITS: 0, READERS_DONE: 1, WORDS: 2 } as const;

function isScenario(v: unknown): v is Scenario {
  return v === 'm6' || v === 'm11' || v === 'm1-writer' || v === 'm1-reader';
}

const nap = new Int32Array(new SharedArrayBuffer(4));
const sleepMs = (ms: number): void => {
  Atomics.wait(nap, 0, 0, ms);
};

function run(): FaultResult {
  const data: unknown = workerData;
  if (!isObject(data) || !isObject(data.shared) || !isScenario(data.scenario)) throw new Error('bad workerData');
  const shared = data.shared as unknown as SharedDatabase;
  const index = num(data, 'index');
  const iterations = num(data, 'iterations');
  const scenario = data.scenario;
  const result: FaultResult = { index, scenario, counts: {}, errors: {}, violations: [] };
  const count = (key: string, n = 1): void => {
    result.counts[key] = (result.counts[key] ?? 0) + n;
  };
  const violation = (msg: string): void => {
    if (result.violations.length < 20) result.violations.push(`worker ${index}: ${msg}`);
  };
  const shards = shared.config.registryShards;

  const hook = (r: FieldRecord): void => {
    switch (r.metadata_class) {
      case 'M6':
        // M6:<operation>:<verdict>, M6:diverged_field:<field>
        count(`M6:${r.operation}:${r.shadow_verdict}`);
        for (const d of r.diverged_fields ?? []) count(`M6:diverged_field:${d.field}`);
        break;
      case 'M11':
        // M11:<operation>:<verdict>, M11:<operation>:session_not_found
        count(`M11:${r.operation}:${r.shadow_verdict}`);
        if (r.session_not_found === true) count(`M11:${r.operation}:session_not_found`);
        if (r.control_mode !== 'legacy' && r.shard_id !== shardOf(r.session_id, shards)) {
          violation(`M11 record names shard ${r.shard_id} for session ${r.session_id}, the mapping says ${shardOf(r.session_id, shards)}`);
        }
        break;
      case 'M1':
        // M1:<operation>:<verdict>, M1:<operation>:torn
        count(`M1:${r.operation}:${r.shadow_verdict}`);
        if (r.torn === true) count(`M1:${r.operation}:torn`);
        break;
      default:
        break;
    }
  };
  const conn = connect(shared, { hook });
  const onError = (err: unknown): void => {
    if (conn.inTransaction) conn.rollback();
    const code = err instanceof EngineError ? err.code : 'non-engine';
    result.errors[code] = (result.errors[code] ?? 0) + 1;
    if (!isRetryable(err) && !(err instanceof EngineError && err.code === 'session_not_found')) {
      violation(`unexpected ${code} error: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  // Each worker writes its own page, so write conflicts come only from the faults.
  const page = 10 + index;

  if (scenario === 'm6' || scenario === 'm11') {
    let lastAck = 0;
    for (let i = 0; i < iterations; i++) {
      try {
        if (scenario === 'm6' && i % 2 === 1) {
          conn.begin('read');
          // Read-your-writes: a fresh read snapshot includes this worker's last acknowledged commit.
          if (conn.snapshot.commit_seq < lastAck) count('stale_read');
          conn.exec('SELECT balance FROM ?', [page]);
          conn.commit();
        } else {
          conn.begin(i % 7 === 0 ? 'write' : 'concurrent');
          conn.exec('UPDATE ? SET balance = balance + 1', [page]);
          lastAck = conn.commit();
          count('commits');
        }
      } catch (err) {
        onError(err);
      }
    }
  } else {
    const sync = data.sync instanceof SharedArrayBuffer ? new Int32Array(data.sync) : null;
    if (sync === null) throw new Error('workerData.sync must be a SharedArrayBuffer');
    const minWriterCommits = num(data, 'minWriterCommits');
    const readers = num(data, 'readers');
    const deadline = performance.now() + 8000;
    if (scenario === 'm1-writer') {
      // Commit continuously until every reader is done.
      while (Atomics.load(sync, SYNC.READERS_DONE) < readers && performance.now() < deadline) {
        try {
          conn.exec('UPDATE ? SET balance = balance + 1', [page]);
          count('commits');
          Atomics.add(sync, SYNC.WRITER_COMMITS, 1);
        } catch (err) {
          onError(err);
        }
      }
    } else {
      // Start once the writer is committing; stop after `iterations` reads
      // that overlapped at least `minWriterCommits` commits.
      while (Atomics.load(sync, SYNC.WRITER_COMMITS) === 0 && performance.now() < deadline) sleepMs(1);
      const startCommits = Atomics.load(sync, SYNC.WRITER_COMMITS);
      let last = -1;
      // Commits the reader actually saw land: on a loaded machine the writer
      // can commit while a reader is descheduled, and only an observed
      // publication can make a read tear.
      let observed = 0;
      for (let i = 0; performance.now() < deadline; i++) {
        if (i >= iterations && observed >= minWriterCommits / 2 && Atomics.load(sync, SYNC.WRITER_COMMITS) - startCommits >= minWriterCommits) break;
        try {
          if (i % 10 === 9) {
            conn.exec('SELECT balance FROM ?', [10]);
          } else {
            const seq = conn.visibleCommitSeq();
            count('reads');
            if (seq !== last) {
              count('distinct_seq');
              observed++;
            }
            last = seq;
          }
        } catch (err) {
          onError(err);
        }
      }
      count('writer_commits_seen', Atomics.load(sync, SYNC.WRITER_COMMITS) - startCommits);
      Atomics.add(sync, SYNC.READERS_DONE, 1);
    }
  }
  conn.close();
  return result;
}

parentPort?.postMessage(run());
