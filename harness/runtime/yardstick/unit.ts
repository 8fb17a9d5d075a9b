// The yardstick's unit of work, as scripts/freeze-yardstick.ts freezes it
// into frozen-engine.mjs with the engine of the commit it ran at: eight
// concurrent-writer transactions of four increments on a small memory
// database, commutative-inserts' shape, without field records. It is the
// engine's own code, so the machine's moods slow it as they slow the engine,
// and frozen, so the engine's changes do not move it (runtime/yardstick.ts).
// Editing this file changes nothing until the unit is frozen again, under a
// new name.

import { openDatabase } from '../../../engine/index.ts';

/** Rows the unit increments, one per page, round robin. */
const ROWS = 120;
const TRANSACTIONS = 8;
const STATEMENTS = 4;

/** A unit of work bound to a database of its own (4 MiB: 128 pages of 4 KiB, 8 versions each). */
export function createUnit(): () => number {
  const db = openDatabase({ backend: 'memory', path: null, pageSize: 4096, pageCount: 128, versionsPerPage: 8, maxConnections: 2, columns: ['balance'] });
  const c = db.connect();
  let key = 0;
  return () => {
    let acc = 0;
    for (let t = 0; t < TRANSACTIONS; t++) {
      c.begin('concurrent');
      for (let s = 0; s < STATEMENTS; s++) {
        key = (key % ROWS) + 1;
        acc += c.exec('UPDATE ? SET balance = balance + ?', [key, 1]);
      }
      acc += c.commit();
    }
    return acc;
  };
}
