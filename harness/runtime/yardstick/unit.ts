// The yardstick's unit of work, as scripts/freeze-yardstick.ts freezes it
// into frozen-engine.mjs with the engine of the commit it ran at: ten
// concurrent-writer transactions of four increments on random rows of a
// database shaped as commutative-inserts' (1,024 rows on pages of 4 KiB, 8
// versions each: 32 MiB of memory, touched as the cells touch theirs),
// without field records. It is the engine's own code on a working set like a
// cell's, so the machine's moods slow it as they slow the engine; and it is
// frozen, so the engine's changes do not move it (runtime/yardstick.ts).
// Editing this file changes nothing until the unit is frozen again, under a
// new name.

import { openDatabase, Xorshift32 } from '../../../engine/index.ts';

const ROWS = 1024;
const VERSIONS = 8;
const TRANSACTIONS = 10;
const STATEMENTS = 4;

/** What a unit is, for the yardstick's name. */
export const UNIT = `concurrent-${TRANSACTIONS}x${STATEMENTS}-rows${ROWS}`;

/**
 * A unit of work bound to a database of its own, at commutative-inserts' fixture state. Every row is written once
 * per version slot first, so that no page of the 32 MiB faults in during a reading.
 */
export function createUnit(): () => number {
  const db = openDatabase({
    backend: 'memory',
    path: null,
    pageSize: 4096,
    pageCount: ROWS + 1,
    versionsPerPage: VERSIONS,
    maxConnections: 2,
    columns: ['balance'],
  });
  const c = db.connect();
  for (let pass = 0; pass < VERSIONS; pass++) {
    for (let first = 1; first <= ROWS; first += 256) {
      c.begin('write');
      for (let row = first; row < first + 256; row++) c.exec('UPDATE ? SET balance = ?', [row, 1000]);
      c.commit();
    }
  }
  const rng = new Xorshift32(14);
  return () => {
    let acc = 0;
    for (let t = 0; t < TRANSACTIONS; t++) {
      c.begin('concurrent');
      for (let s = 0; s < STATEMENTS; s++) acc += c.exec('UPDATE ? SET balance = balance + ?', [1 + (rng.nextU32() % ROWS), 1]);
      acc += c.commit();
    }
    return acc;
  };
}
