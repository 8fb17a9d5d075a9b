// `npm run bench:external`: what one request to an external engine costs,
// end to end — the caller blocks in Atomics.wait, the peer host thread
// writes the line to the peer's stdin, the peer answers on stdout, the host
// hands the answer back. Measured with the line-engine fixture's cheapest
// request (`visible`), so nearly all of it is the transport, against the same
// call on a SQLite connection (in process). Reports, never asserts.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from 'simple-statistics';
import { externalAdapter } from '../../engines/external/adapter.ts';
import { ExternalConnection } from '../../engines/external/connection.ts';
import { sqliteAdapter } from '../../engines/sqlite/adapter.ts';
import { SqliteConnection } from '../../engines/sqlite/connection.ts';
import type { EngineConnection } from '../../engines/connection.ts';
import type { CellOptions } from '../../engines/adapter.ts';
import { loadSuite } from '../../spec/load.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '5' },
    'engine-cmd': { type: 'string', default: 'node test/fixtures/line-engine.mjs' },
    json: { type: 'boolean' },
  },
});
const requests = Number(values.requests);
const runs = Number(values.runs);
const spec = loadSuite().find((w) => w.spec.name === 'mixed-read-write')!.spec;
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-ext-'));
const options: CellOptions = {
  backend: 'memory',
  concurrency: 1,
  modes: { M1: 0, M6: 0, M11: 0 },
  faults: {},
  seed: 1,
  shadowSampleRatio: 1,
  shadowAllowedDifferences: {},
};
const sinks = { rows: null, count: () => {} };

/** ns per visibleCommitSeq() call, median of the runs (each after a warm-up of a tenth). */
function measure(conn: EngineConnection): number {
  const per: number[] = [];
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < requests / 10; i++) conn.visibleCommitSeq();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < requests; i++) conn.visibleCommitSeq();
    per.push(Number(process.hrtime.bigint() - t0) / requests);
  }
  return median(per);
}

const ext = await externalAdapter({ command: values['engine-cmd']!, timeoutMs: 10_000 }).openCell(
  spec,
  { path: null, sha256: null },
  options,
  join(dir, 'ext'),
);
if (ext.handle.variant !== 'external') throw new Error('not an external handle');
const extConn = new ExternalConnection(ext.handle, 0, sinks);
const external = measure(extConn);
extConn.close();
await ext.close();

const sq = await sqliteAdapter.openCell(spec, await sqliteAdapter.buildFixture(spec, '', join(dir, 'fx')), options, join(dir, 'sq'));
if (sq.handle.variant !== 'sqlite') throw new Error('not a sqlite handle');
const sqConn = new SqliteConnection(sq.handle, sinks);
const sqlite = measure(sqConn);
sqConn.close();
await sq.close();

const result = { requests, runs, command: values['engine-cmd'], external_ns_per_request: Math.round(external), sqlite_ns_per_call: Math.round(sqlite) };
if (values.json === true) process.stdout.write(`${JSON.stringify(result)}\n`);
else
  process.stdout.write(
    `external engine round trip (visible): ${(external / 1000).toFixed(1)} µs per request\nsqlite in process (PRAGMA data_version): ${(sqlite / 1000).toFixed(2)} µs per call\n(${runs} runs of ${requests} requests, median; one connection; ${values['engine-cmd']})\n`,
  );
