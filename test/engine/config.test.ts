// Configuration and fault-spec validation: every rejection is an
// EngineError with code 'config' whose message names the offending field.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, parseInject, EngineError, DEFAULT_CONFIG, type DatabaseOptions, type FaultConfig } from '../../engine/index.ts';

function configError(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, EngineError, `expected an EngineError, got ${String(err)}`);
    const e = err as EngineError;
    assert.is(e.code, 'config', `code of "${e.message}"`);
    return e;
  }
  assert.unreachable('expected a config error, nothing was thrown');
  throw new Error('unreachable');
}

/** Options that the type system would refuse, as a caller from JSON or a CLI could still pass them. */
const untyped = (o: Record<string, unknown>): DatabaseOptions => o as DatabaseOptions;

const BAD: { what: string; options: DatabaseOptions; field: string; mentions: RegExp }[] = [
  { what: 'pageSize 100', options: { pageSize: 100 }, field: 'pageSize', mentions: /pageSize.*\[512, 65536\].*100/ },
  { what: 'pageSize not a multiple of 8', options: { pageSize: 1001 }, field: 'pageSize', mentions: /pageSize.*multiple of 8/ },
  { what: "backend 'disk'", options: untyped({ backend: 'disk' }), field: 'backend', mentions: /backend.*memory, file.*disk/ },
  { what: 'file backend without a path', options: { backend: 'file' }, field: 'path', mentions: /path is required for the file backend/ },
  { what: 'file backend with an empty path', options: { backend: 'file', path: '' }, field: 'path', mentions: /path/ },
  { what: "fsync 'sometimes'", options: untyped({ fsync: 'sometimes' }), field: 'fsync', mentions: /fsync.*sometimes/ },
  { what: 'pageCount 1', options: { pageCount: 1 }, field: 'pageCount', mentions: /pageCount/ },
  { what: 'mode 3', options: untyped({ modes: { M6: 3 } }), field: 'modes.M6', mentions: /modes\.M6.*3/ },
  {
    what: 'unknown fault class M13',
    options: untyped({ faults: { M13: { delay_ns: 10 } } }),
    field: 'faults.M13',
    mentions: /faults\.M13 is not a metadata class/,
  },
  {
    what: 'stale_publish on M1',
    options: { faults: { M1: { stale_publish: 0.1 } } },
    field: 'faults.M1.stale_publish',
    mentions: /faults\.M1\.stale_publish applies to M6 only/,
  },
  {
    what: 'unknown fault name',
    options: untyped({ faults: { M6: { explode: 1 } } }),
    field: 'faults.M6.explode',
    mentions: /faults\.M6\.explode is not a fault/,
  },
  {
    what: 'probability 2',
    options: { faults: { M6: { stale_publish: 2 } } },
    field: 'faults.M6.stale_publish',
    mentions: /faults\.M6\.stale_publish is a probability.*\[0, 1\]/,
  },
  {
    what: 'negative delay',
    options: { faults: { M1: { delay_ns: -5 } } },
    field: 'faults.M1.delay_ns',
    mentions: /faults\.M1\.delay_ns must be a non-negative number/,
  },
];

for (const { what, options, field, mentions } of BAD) {
  test(`openDatabase rejects ${what}, naming ${field}`, () => {
    const e = configError(() => openDatabase(options));
    assert.match(e.message, mentions);
    assert.ok(e.message.includes(field), `"${e.message}" names ${field}`);
    assert.is(e.detail['field'], field);
  });
}

test('a valid configuration opens, and the defaults are what the docs say', () => {
  const db = openDatabase({ columns: ['balance'], pageSize: 512, pageCount: 8, faults: { M6: { stale_publish: 0, delay_ns: 0 }, M11: { misroute: 1 } } });
  assert.is(db.config.backend, 'memory');
  assert.is(db.config.maxReadRetries, DEFAULT_CONFIG.maxReadRetries);
  assert.equal(db.config.modes, { M1: 0, M6: 0, M11: 0 });
  assert.is(db.describe().fault_injection_active, true);
});

test('parseInject accepts CLASS.FAULT=VALUE and merges into existing faults', () => {
  assert.equal(parseInject('M6.delay_ns=2000'), { M6: { delay_ns: 2000 } });
  const base: FaultConfig = { M6: { delay_ns: 2000 } };
  const merged = parseInject(' M6.stale_publish=0.01 ', base);
  assert.equal(merged, { M6: { delay_ns: 2000, stale_publish: 0.01 } });
  assert.equal(base, { M6: { delay_ns: 2000 } }, 'the input is not mutated');
  assert.equal(parseInject('M11.misroute=0.5', merged), { M6: { delay_ns: 2000, stale_publish: 0.01 }, M11: { misroute: 0.5 } });
  assert.equal(parseInject('M1.torn_read=1'), { M1: { torn_read: 1 } });
});

test('parseInject rejects malformed and misapplied specs, naming the problem', () => {
  let e = configError(() => parseInject('bad'));
  assert.match(e.message, /--inject bad: expected CLASS\.FAULT=VALUE/);
  e = configError(() => parseInject('M11.torn_read=0.1'));
  assert.match(e.message, /M11\.torn_read/);
  assert.match(e.message, /applies to M1 only/);
  e = configError(() => parseInject('M13.delay_ns=5'));
  assert.match(e.message, /M13 is not a metadata class/);
  e = configError(() => parseInject('M6.stale_publish=2'));
  assert.match(e.message, /probability/);
  e = configError(() => parseInject('M6.delay_ns=abc'));
  assert.match(e.message, /M6\.delay_ns must be a non-negative number, got NaN/);
  e = configError(() => parseInject('M6.nonsense=1'));
  assert.match(e.message, /nonsense is not a fault/);
  assert.not.match(e.message, /invalid engine config/, 'the message is phrased for the --inject flag');
});

test('opening an existing file database with a different pageSize or pageCount fails, naming the field', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'sb-config-')), 'db');
  const base = { backend: 'file', path, columns: ['balance'], pageSize: 1024, pageCount: 16, fsync: 'off' } as const;
  const db = openDatabase({ ...base, columns: [...base.columns] });
  db.connect().exec('UPDATE 3 SET balance = 9');
  let e = configError(() => openDatabase({ ...base, columns: [...base.columns], pageSize: 512 }));
  assert.match(e.message, /pageSize 1024.*512/);
  assert.is(e.detail['field'], 'pageSize');
  e = configError(() => openDatabase({ ...base, columns: [...base.columns], pageCount: 32 }));
  assert.match(e.message, /pageCount 16.*32/);
  assert.is(e.detail['field'], 'pageCount');
  // The refusal left the file intact: the right configuration still opens it with its data.
  const again = openDatabase({ ...base, columns: [...base.columns] });
  assert.is(again.connect().exec('SELECT balance FROM 3'), 9);
});

test.run();
