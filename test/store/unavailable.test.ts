// Every verb that touches a store refuses one it cannot use: a SQLite file
// that is not a database, a path that cannot be opened, a PostgreSQL server
// that is not there, a database that does not exist on a real server, and a
// port where something other than PostgreSQL answers. Each exits 2 with one
// line naming the store (file path, or host and port) and the cause, never
// the password, and the nightly starts no run.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nightlyVerb } from '../../harness/cli/nightly.ts';
import { storeVerb } from '../../harness/cli/store.ts';
import type { Verb } from '../../harness/cli/verb.ts';
import { freePort } from '../../harness/store/throwaway-postgres.ts';
import { runCli } from '../support/cli.ts';
import { sharedPostgres } from './databases.ts';
import { writeFixtureFolder } from './fixtures.ts';

const SECRET = 'N0tInAnyOutput';
const SHAPE = ['--workload', 'commutative-inserts', '--backend', 'memory', '--concurrency', '1', '--modes', 'legacy', '--duration', '100', '-q'];

async function cli(verb: Verb, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await verb.run(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

/** Every store-touching command line, for one store URL. */
function commands(store: string, runDir: string, outDir: string): [Verb, string[]][] {
  return [
    [storeVerb, ['status', '--store', store]],
    [storeVerb, ['migrate', '--store', store]],
    [storeVerb, ['check', '--store', store, '--json']],
    [storeVerb, ['import', runDir, '--store', store]],
    [nightlyVerb, ['status', '--store', store]],
    [nightlyVerb, ['accept', 'some-run', '--store', store]],
    [nightlyVerb, ['mute', 'cell:*', '--reason', 'r', '--store', store]],
    [nightlyVerb, [...SHAPE, '--out', outDir, '--store', store]],
  ];
}

async function refusedEverywhere(store: string, names: RegExp, cause: RegExp): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sbtest-unavailable-'));
  try {
    const runDir = join(dir, 'run');
    const outDir = join(dir, 'out');
    writeFixtureFolder(runDir);
    mkdirSync(outDir);
    for (const [verb, argv] of commands(store, runDir, outDir)) {
      const what = `${verb.name} ${argv[0]}`;
      const r = await cli(verb, argv);
      assert.is(r.code, 2, `${what}: ${r.err}${r.out}`);
      assert.is(r.out, '', `${what}: nothing on stdout`);
      assert.is(r.err.trimEnd().split('\n').length, 1, `${what}: one line: ${r.err}`);
      assert.match(r.err, names, `${what} names the store: ${r.err}`);
      assert.match(r.err, cause, `${what} says why: ${r.err}`);
      assert.not.ok(r.err.includes(SECRET), `${what}: no password`);
    }
    assert.equal(readdirSync(outDir), [], 'the nightly started no run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('sqlite: a file that is not a database', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbtest-notadb-'));
  try {
    const file = join(dir, 'results.db');
    writeFileSync(file, 'this is a text file, not a SQLite database\n'.repeat(200));
    await refusedEverywhere(file, new RegExp(`cannot open the SQLite store ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), /file is not a database/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: a store that cannot be opened (its folder is a file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbtest-noopen-'));
  try {
    writeFileSync(join(dir, 'blocker'), 'x');
    const file = join(dir, 'blocker', 'results.db');
    await refusedEverywhere(file, /cannot open the SQLite store .*blocker\/results\.db: /, /EEXIST|ENOTDIR|not a directory|file already exists/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('postgres: no server at the address', async () => {
  const port = await freePort();
  await refusedEverywhere(
    `postgres://postgres:${SECRET}@127.0.0.1:${port}/results`,
    new RegExp(`cannot reach the PostgreSQL at 127\\.0\\.0\\.1:${port} \\(postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${port}/results\\)`),
    /ECONNREFUSED/,
  );
});

test('postgres: a real server without that database', async () => {
  const server = await sharedPostgres();
  const url = server.url('no_such_database', SECRET);
  const port = new URL(url).port;
  await refusedEverywhere(url, new RegExp(`cannot reach the PostgreSQL at 127\\.0\\.0\\.1:${port} `), /database "no_such_database" does not exist/);
});

test('postgres: something other than PostgreSQL answers on the port', async () => {
  const port = await freePort();
  const impostor: Server = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  await new Promise<void>((resolve) => impostor.listen(port, '127.0.0.1', resolve));
  try {
    await refusedEverywhere(
      `postgres://postgres:${SECRET}@127.0.0.1:${port}/results`,
      new RegExp(`cannot reach the PostgreSQL at 127\\.0\\.0\\.1:${port} `),
      /Connection terminated unexpectedly/,
    );
  } finally {
    impostor.close();
  }
});

test('through the launcher: a store URL of no supported kind, and a file that is not a database, are one line each', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbtest-launcher-'));
  try {
    const file = join(dir, 'results.db');
    writeFileSync(file, 'not a database\n'.repeat(300));
    for (const [args, message] of [
      [
        ['store', 'status', '--store', `mysql://u:${SECRET}@db/results`],
        /^shadowbench store: store URL scheme not supported: 'mysql:\/\/u:\*\*\*@db\/results'/,
      ],
      [
        ['nightly', 'status', '--store', `mysql://u:${SECRET}@db/results`],
        /^shadowbench nightly: store URL scheme not supported: 'mysql:\/\/u:\*\*\*@db\/results'/,
      ],
      [['store', 'status', '--store', file], /^shadowbench store status: cannot open the SQLite store .*results\.db: file is not a database$/],
    ] as const) {
      const r = await runCli(args);
      assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.is(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.match(r.stderr.trimEnd(), message);
      assert.not.ok(r.stderr.includes(SECRET));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
