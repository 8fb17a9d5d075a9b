// Child process for durability.test.ts: commits forever until killed.
// Transaction i sets page (1 + i % 10) and page 20 to i, and `ack i` is
// written to stdout only after commit() returned.
//
//   node --import tsx test/engine/durability.child.ts <dbpath> <fsync> <autoCheckpointFrames>

import { writeSync } from 'node:fs';
import { openDatabase, type FsyncPolicy } from '../../engine/index.ts';

const [path, fsync, auto] = process.argv.slice(2);
if (path === undefined || (fsync !== 'off' && fsync !== 'normal' && fsync !== 'full')) {
  throw new Error('usage: durability.child.ts <dbpath> <off|normal|full> [autoCheckpointFrames]');
}
// Keep in step with CHILD_DB in durability.test.ts.
const db = openDatabase({
  backend: 'file',
  columns: ['balance'],
  pageSize: 512,
  pageCount: 32,
  path,
  fsync: fsync as FsyncPolicy,
  autoCheckpointFrames: Number(auto ?? 1000),
});
const c = db.connect();
writeSync(1, 'ready\n');
for (let i = 1; ; i++) {
  c.begin('write');
  c.exec('UPDATE ? SET balance = ?', [1 + (i % 10), i]);
  c.exec('UPDATE ? SET balance = ?', [20, i]);
  c.commit();
  writeSync(1, `ack ${i}\n`);
}
