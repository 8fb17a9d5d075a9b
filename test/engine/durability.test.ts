// File backend durability: a process killed with SIGKILL mid-stream keeps
// every acknowledged commit and nothing partial; a corrupt, torn or
// earlier-generation WAL is cut exactly where it stops being valid.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Database, type DatabaseOptions, type FsyncPolicy, type RecoveryReport } from '../../engine/index.ts';
import { FRAME_HEADER_SIZE, WAL_HEADER_SIZE } from '../../engine/store/wal-format.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./durability.child.ts', import.meta.url));
/** Must match the options durability.child.ts opens its database with. */
const CHILD_DB = { backend: 'file', columns: ['balance'], pageSize: 512, pageCount: 32 } as const satisfies DatabaseOptions;
const FRAME = FRAME_HEADER_SIZE + CHILD_DB.pageSize;
const PAGES = Array.from({ length: 10 }, (_, k) => k + 1);

const tempPath = (tag: string): string => join(mkdtempSync(join(tmpdir(), `sb-dur-${tag}-`)), 'db');

function open(path: string, options: DatabaseOptions = {}): Database {
  return openDatabase({ ...CHILD_DB, columns: [...CHILD_DB.columns], path, fsync: 'off', autoCheckpointFrames: 0, ...options });
}

interface Observed {
  page20: number;
  pages: number[];
  seq: number;
  hash: string;
  recovery: RecoveryReport;
}

function observe(db: Database): Observed {
  const c = db.connect();
  c.begin('read');
  const seq = c.snapshot.commit_seq;
  const page20 = c.exec('SELECT balance FROM 20');
  const pages = PAGES.map((p) => c.exec('SELECT balance FROM ?', [p]));
  const hash = c.stateHash();
  c.commit();
  c.close();
  assert.ok(db.recovery, 'a file database reports its recovery');
  return { page20, pages, seq, hash, recovery: db.recovery };
}

/** Page values after transactions 1..n (transaction i sets page 1 + i % 10 and page 20 to i). */
function prefixState(n: number): number[] {
  return PAGES.map((p) => {
    let i = n - ((((n - (p - 1)) % 10) + 10) % 10);
    if (i < 1) i = 0;
    return i;
  });
}

function assertPrefix(o: Observed, n: number, what: string): void {
  assert.is(o.page20, n, `${what}: page 20`);
  assert.is(o.seq, n, `${what}: commit sequence`);
  assert.equal(o.pages, prefixState(n), `${what}: pages 1..10 are the state after exactly ${n} transactions`);
}

// ---------------------------------------------------------------- SIGKILL

interface ChildRun {
  lastAck: number;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runChild(path: string, fsync: FsyncPolicy, autoCheckpointFrames: number, killAt: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, fsync, String(autoCheckpointFrames)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastAck = 0;
    let buffered = '';
    let stderr = '';
    let killing = false;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not reach ack ${killAt} within 20 s (last ack ${lastAck}); stderr: ${stderr}`));
    }, 20_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^ack (\d+)$/.exec(line);
        if (m !== null) lastAck = Math.max(lastAck, Number(m[1]));
      }
      if (!killing && lastAck >= killAt) {
        killing = true;
        // A little later still, so the kill lands at an arbitrary point of a commit.
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 3));
      }
    });
    // 'close' comes after stdout is drained: every ack written before the kill is counted.
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      resolve({ lastAck, signal, stderr });
    });
    child.on('error', reject);
  });
}

const VARIANTS: { fsync: FsyncPolicy; auto: number }[] = [
  { fsync: 'normal', auto: 1000 },
  { fsync: 'full', auto: 1000 },
  // Frequent auto-checkpoints: kills also land inside checkpoints.
  { fsync: 'normal', auto: 16 },
];

for (const { fsync, auto } of VARIANTS) {
  test(`SIGKILL mid-stream keeps every acknowledged commit and no partial one (fsync=${fsync}, autoCheckpointFrames=${auto}, 3 runs)`, async () => {
    for (let run = 1; run <= 3; run++) {
      const path = tempPath(`kill-${fsync}`);
      const killAt = 200 + Math.floor(Math.random() * 250);
      const child = await runChild(path, fsync, auto, killAt);
      const what = `run ${run} (kill after ack ${killAt}, last ack ${child.lastAck})`;
      assert.is(child.signal, 'SIGKILL', `${what}: the child died of the kill, stderr: ${child.stderr}`);
      assert.ok(child.lastAck >= killAt, what);
      const first = observe(open(path));
      const n = first.page20;
      assert.ok(n >= child.lastAck, `${what}: recovered ${n} lost an acknowledged commit`);
      assert.ok(n <= child.lastAck + 1, `${what}: recovered ${n}, beyond the one in-flight commit`);
      assertPrefix(first, n, what);
      assert.is(first.recovery.commit_seq, n, `${what}: recovery report`);
      assert.is(first.recovery.incomplete_frames_discarded <= 1, true, `${what}: at most the in-flight transaction's first frame is torn off`);
      // Recovery is idempotent.
      const second = observe(open(path));
      assert.is(second.hash, first.hash, `${what}: reopening gives the same state`);
      assert.is(second.recovery.wal_frames_found, 0, `${what}: the first reopen left an empty WAL`);
    }
  });
}

// ---------------------------------------------------------------- WAL validation

interface Fixture {
  db: Buffer;
  wal: Buffer;
}

/** A database whose WAL holds `txns` committed transactions (2 frames each: page 1 + i % 10, then page 20). */
function walFixture(txns: number): Fixture {
  const path = tempPath('wal');
  const db = open(path);
  const c = db.connect();
  for (let i = 1; i <= txns; i++) {
    c.begin('write');
    c.exec('UPDATE ? SET balance = ?', [1 + (i % 10), i]);
    c.exec('UPDATE ? SET balance = ?', [20, i]);
    assert.is(c.commit(), i);
  }
  c.close(); // no checkpoint: the frames stay in the WAL
  const fixture = { db: readFileSync(path), wal: readFileSync(`${path}-wal`) };
  assert.is(fixture.wal.byteLength, WAL_HEADER_SIZE + 2 * txns * FRAME, 'the WAL holds every frame');
  return fixture;
}

function reopenCopy(db: Uint8Array, wal: Uint8Array): { path: string; o: Observed } {
  const path = tempPath('copy');
  writeFileSync(path, db);
  writeFileSync(`${path}-wal`, wal);
  return { path, o: observe(open(path)) };
}

const frameOffset = (k: number): number => WAL_HEADER_SIZE + k * FRAME;

test("a flipped byte in frame k's page data is rejected at frame k; exactly the earlier transactions survive", () => {
  const fx = walFixture(10);
  const clean = reopenCopy(fx.db, fx.wal).o;
  assertPrefix(clean, 10, 'the untouched copy');
  assert.is(clean.recovery.rejected_at_frame, null);
  assert.is(clean.recovery.commits_recovered, 10);
  for (const k of [0, 1, 6, 9, 12, 19]) {
    const wal = Buffer.from(fx.wal);
    // Byte 3 of the page data: inside the balance value, so applying it would also show.
    wal[frameOffset(k) + FRAME_HEADER_SIZE + 3]! ^= 0x5a;
    const { path, o } = reopenCopy(fx.db, wal);
    const good = Math.floor(k / 2);
    assert.is(o.recovery.rejected_at_frame, k, `frame ${k}: rejected where the flip is`);
    assert.is(o.recovery.reject_reason, 'checksum mismatch', `frame ${k}`);
    assert.is(o.recovery.wal_frames_found, 20);
    assert.is(o.recovery.commits_recovered, good, `frame ${k}`);
    assert.is(o.recovery.wal_frames_applied, 2 * good, `frame ${k}`);
    assertPrefix(o, good, `flip in frame ${k}`);
    const again = observe(open(path));
    assert.is(again.hash, o.hash, `frame ${k}: reopening is idempotent`);
    assert.is(again.recovery.rejected_at_frame, null, `frame ${k}: the rejected tail was cut off`);
  }
});

test("a flipped byte in a frame's stored checksum is rejected the same way", () => {
  const fx = walFixture(6);
  const wal = Buffer.from(fx.wal);
  wal[frameOffset(5) + 33]! ^= 0x01;
  const { o } = reopenCopy(fx.db, wal);
  assert.is(o.recovery.rejected_at_frame, 5);
  assert.is(o.recovery.reject_reason, 'checksum mismatch');
  assertPrefix(o, 2, 'flip in the checksum of frame 5');
});

test('a WAL truncated mid-frame (torn tail) discards the incomplete transaction and keeps the earlier ones', () => {
  const fx = walFixture(10);
  // Cut inside frame 7 (the commit frame of transaction 4): frame 6 is complete but uncommitted.
  let { o } = reopenCopy(fx.db, fx.wal.subarray(0, frameOffset(7) + 100));
  assert.is(o.recovery.wal_frames_found, 7);
  assert.is(o.recovery.rejected_at_frame, null, 'a torn tail is not a corruption');
  assert.is(o.recovery.incomplete_frames_discarded, 1);
  assert.is(o.recovery.commits_recovered, 3);
  assertPrefix(o, 3, 'cut inside frame 7');
  // Cut inside frame 6's header: nothing of transaction 4 is there.
  ({ o } = reopenCopy(fx.db, fx.wal.subarray(0, frameOffset(6) + 20)));
  assert.is(o.recovery.wal_frames_found, 6);
  assert.is(o.recovery.incomplete_frames_discarded, 0);
  assertPrefix(o, 3, 'cut inside frame 6');
  // Cut right after the last commit frame: everything is there.
  ({ o } = reopenCopy(fx.db, fx.wal.subarray(0, frameOffset(20))));
  assertPrefix(o, 10, 'no cut');
  // Cut one byte short of the end: the last transaction is lost, the rest kept.
  ({ o } = reopenCopy(fx.db, fx.wal.subarray(0, frameOffset(20) - 1)));
  assert.is(o.recovery.incomplete_frames_discarded, 1);
  assertPrefix(o, 9, 'last byte missing');
});

test('frames of an earlier WAL generation (different salts) are not applied; reopening twice is idempotent', () => {
  const path = tempPath('gen');
  const db = open(path);
  const c = db.connect();
  for (let i = 1; i <= 5; i++) c.exec('UPDATE ? SET balance = ?', [20, i]);
  const dbAt0 = readFileSync(path);
  const oldWal = readFileSync(`${path}-wal`);
  assert.is(oldWal.byteLength, WAL_HEADER_SIZE + 5 * FRAME);
  assert.is(c.checkpoint(), 5);
  const newHeader = readFileSync(`${path}-wal`).subarray(0, WAL_HEADER_SIZE);
  assert.is(statSync(`${path}-wal`).size, WAL_HEADER_SIZE, 'checkpoint restarted the WAL');
  assert.is.not(newHeader.subarray(16, 24).toString('hex'), oldWal.subarray(16, 24).toString('hex'), 'the new generation has new salts');
  c.close();

  // Control: the old header with its own frames replays onto the old database file.
  const replayed = reopenCopy(dbAt0, oldWal).o;
  assert.is(replayed.page20, 5);
  assert.is(replayed.recovery.commits_recovered, 5);

  // The crash window of a checkpoint: the new header written, the old frames not yet cut off.
  // The frames would advance the database (sequences 1..5 over 0): only the salts stop them.
  const mixed = Buffer.concat([newHeader, oldWal.subarray(WAL_HEADER_SIZE)]);
  const { path: copy, o } = reopenCopy(dbAt0, mixed);
  assert.is(o.recovery.rejected_at_frame, 0);
  assert.match(o.recovery.reject_reason ?? '', /salt/);
  assert.is(o.recovery.commits_recovered, 0);
  assert.is(o.page20, 0, 'no frame of the earlier generation was applied');
  assert.is(o.seq, 0);

  // Reopening twice is idempotent, on the copy and on the original.
  const again = observe(open(copy));
  assert.is(again.hash, o.hash);
  assert.is(again.recovery.wal_frames_found, 0);
  const orig1 = observe(open(path));
  const orig2 = observe(open(path));
  assert.is(orig1.page20, 5);
  assert.is(orig2.hash, orig1.hash);
  assert.equal([orig2.recovery.wal_frames_found, orig2.recovery.rejected_at_frame], [0, null]);
  // A database file copied without its WAL opens at its checkpointed state.
  const bare = tempPath('bare');
  copyFileSync(path, bare);
  assert.is(observe(open(bare)).hash, orig1.hash);
});

test.run();
