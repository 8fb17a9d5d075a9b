// The SQLite state hash: SHA-256 over the table's columns and its rows in key
// order. Comparable across the sqlite variant's cells, not with the
// reference engine's page hash.

import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { TABLE } from './handle.ts';

export function sqliteStateHash(db: Database): string {
  const h = createHash('sha256');
  const columns = db.prepare(`SELECT name FROM pragma_table_info('${TABLE}') ORDER BY cid`).pluck().all() as string[];
  h.update(`${columns.join(',')}\n`);
  for (const row of db.prepare(`SELECT * FROM ${TABLE} ORDER BY key`).raw().iterate() as IterableIterator<unknown[]>) h.update(`${row.join(',')}\n`);
  return h.digest('hex');
}
