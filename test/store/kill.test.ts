// SIGKILL in the middle of a write transaction on the embedded store (SQLite,
// WAL): on reopening, the database is intact, the committed row is there, no
// row of the killed transaction is, and the drift gate passes.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { checkStore } from '../../harness/store/check.ts';
import { openStore } from '../../harness/store/connect.ts';
import { fallbacksOf } from '../../harness/store/domains/fallbacks.ts';

test('sqlite: SIGKILL inside a write transaction loses only that transaction', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbtest-kill-'));
  const path = join(dir, 'store.db');
  const marker = join(dir, 'marker');
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./kill.child.ts', import.meta.url)), path, marker], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  try {
    const deadline = Date.now() + 30_000;
    while (!existsSync(marker)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`child never got inside its transaction: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    assert.is(await exited, 'SIGKILL');

    const store = openStore({ dialect: 'sqlite', path });
    try {
      const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(store.db);
      assert.equal(integrity.rows, [{ integrity_check: 'ok' }]);
      assert.equal(
        (await fallbacksOf(store, 'v')).map((r) => r.id),
        ['committed'],
      );
      const report = await checkStore(store);
      assert.ok(report.summary.passed, JSON.stringify(report.events.filter((e) => e.level !== 'info')));
    } finally {
      await store.close();
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
