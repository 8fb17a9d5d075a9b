// Workload specs: the canonical suite loads; good specs parse from JSON and
// YAML; every bad spec is a SpecError whose message names the file and the
// offending field path.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { SpecError, loadSpecFile, loadSuite, parseSpec, resolveWorkloads } from '../../harness/spec/load.ts';
import type { WorkloadInput } from '../../harness/spec/schema.ts';

const CANONICAL = ['checkpoint-churn', 'commutative-inserts', 'hot-page-contention', 'memory-repeated-writes', 'mixed-read-write', 'visibility-schema-change'];

const good = (): WorkloadInput => ({
  name: 'good',
  description: 'a small valid workload',
  serves: { classes: ['M6', 'M11'], verification: ['M6 E2E: test'] },
  backends: ['memory'],
  concurrency: [1, 2],
  fixture: { rows: 64 },
  mix: { read: 2, concurrent_write: 1 },
  keys: { distribution: 'uniform' },
  run: { operations: 100 },
});

function specError(fn: () => unknown): SpecError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, SpecError, `expected a SpecError, got ${String(err)}`);
    return err as SpecError;
  }
  assert.unreachable('expected a SpecError, nothing was thrown');
  throw new Error('unreachable');
}

/** A bad variant of the good spec: its error names the file and the path. */
function expectBad(mutate: (s: Record<string, unknown>) => void, path: string, mentions?: RegExp): SpecError {
  const s = good() as unknown as Record<string, unknown>;
  mutate(s);
  const file = '/specs/bad-spec.json';
  const e = specError(() => parseSpec(JSON.stringify(s), file));
  assert.is(e.file, file);
  assert.ok(e.message.startsWith(`${file}:`), `message names the file: ${e.message}`);
  assert.ok(
    e.problems.some((p) => p.path === path),
    `problems name ${path}: ${JSON.stringify(e.problems)}`,
  );
  assert.ok(e.message.includes(`  ${path}: `), `message names ${path}: ${e.message}`);
  if (mentions !== undefined) assert.match(e.message, mentions);
  return e;
}

test('every canonical spec in workloads/ loads, each named after its file', () => {
  const suite = loadSuite();
  assert.equal(
    suite.map((s) => s.spec.name),
    CANONICAL,
  );
  for (const { file, spec } of suite) {
    assert.ok(file.endsWith(`/${spec.name}.json`), file);
    assert.ok(spec.fixture.rows < spec.engine.pageCount, spec.name);
    assert.ok(spec.fixture.sha256 !== undefined, `${spec.name} pins its fixture`);
    assert.ok(spec.concurrency.includes(8), `${spec.name} runs at c8`);
  }
  assert.equal(
    resolveWorkloads([]).map((s) => s.spec.name),
    CANONICAL,
  );
  assert.equal(
    resolveWorkloads(['hot-page-contention']).map((s) => s.spec.name),
    ['hot-page-contention'],
  );
});

test('a good spec parses from JSON, with defaults filled in', () => {
  const spec = parseSpec(JSON.stringify(good()), 'good.json');
  assert.is(spec.name, 'good');
  assert.equal(spec.engine, { pageSize: 4096, pageCount: 2048, fsync: 'normal', versionsPerPage: 8 });
  assert.equal(spec.transaction, { statements: 4, max_retries: 50 });
  assert.equal(spec.load, { mode: 'closed' });
  assert.is(spec.fixture.initial_balance, 1000);
  assert.is(spec.mix.read, 2);
  assert.is(spec.mix.ddl, 0);
  assert.is(spec.wait_timeout_ms, 5);
});

test('a good spec parses from YAML (.yaml file name), equal to its JSON form', () => {
  const input = { ...good(), keys: { distribution: 'zipfian' as const }, load: { mode: 'open' as const, rate_per_sec: 500 } };
  const fromYaml = parseSpec(toYaml(input), 'good.yaml');
  const fromJson = parseSpec(JSON.stringify(input), 'good.json');
  assert.equal(fromYaml, fromJson);
  assert.equal(fromYaml.keys, { distribution: 'zipfian', theta: 0.99 });
  const handWritten = [
    'name: good',
    'description: hand-written YAML',
    'serves: { classes: [M1], verification: ["M1 E2E"] }',
    'backends: [memory, file]',
    'concurrency: [1]',
    'fixture: { rows: 10 }',
    'mix: { read: 1, wait: 1 }',
    'keys: { distribution: hotset, hot_fraction: 0.1, hot_probability: 0.9 }',
    'run: { duration_ms: 100 }',
    'warmup: { operations: 5 }',
  ].join('\n');
  const s = parseSpec(handWritten, 'good.yml');
  assert.equal(s.backends, ['memory', 'file']);
  assert.equal(s.warmup, { operations: 5 });
});

test('mix.read negative names mix.read', () => {
  expectBad((s) => {
    s['mix'] = { read: -1, write: 1 };
  }, 'mix.read');
});

test('a mix of waits only is rejected at mix where the spec runs one connection (c1 drops its waits)', () => {
  expectBad(
    (s) => {
      s['mix'] = { wait: 1 };
    },
    'mix',
    /only waits/,
  );
});

test('a mix with no positive weight is rejected at mix', () => {
  expectBad(
    (s) => {
      s['mix'] = { read: 0 };
    },
    'mix',
    /positive weight/,
  );
});

test('keys.distribution "pareto" names keys.distribution', () => {
  expectBad((s) => {
    s['keys'] = { distribution: 'pareto' };
  }, 'keys.distribution');
});

test('zipfian theta out of (0, 1) names keys.theta', () => {
  expectBad((s) => {
    s['keys'] = { distribution: 'zipfian', theta: 1.5 };
  }, 'keys.theta');
});

test('run with both duration_ms and operations names run', () => {
  expectBad(
    (s) => {
      s['run'] = { duration_ms: 1000, operations: 10 };
    },
    'run',
    /exactly one of duration_ms or operations/,
  );
  expectBad(
    (s) => {
      s['warmup'] = {};
    },
    'warmup',
    /exactly one of duration_ms or operations/,
  );
});

test("transaction.statements above 255 (the trace format's key count byte) names transaction.statements", () => {
  expectBad((s) => {
    s['transaction'] = { statements: 256 };
  }, 'transaction.statements');
  assert.is(parseSpec(JSON.stringify({ ...good(), transaction: { statements: 255 } }), 'good.json').transaction.statements, 255);
});

test('an unknown top-level field is rejected', () => {
  expectBad(
    (s) => {
      s['threads'] = 4;
    },
    '(root)',
    /threads/,
  );
});

test('an unknown nested field names its object', () => {
  expectBad(
    (s) => {
      s['fixture'] = { rows: 10, colour: 'blue' };
    },
    'fixture',
    /colour/,
  );
});

test('fixture.rows >= engine.pageCount names fixture.rows', () => {
  expectBad(
    (s) => {
      s['engine'] = { pageCount: 64 };
      s['fixture'] = { rows: 64 };
    },
    'fixture.rows',
    /below engine\.pageCount \(64\)/,
  );
});

test('a bad array element names its index', () => {
  expectBad((s) => {
    s['concurrency'] = [1, 0];
  }, 'concurrency[1]');
  expectBad((s) => {
    s['backends'] = ['memory', 'disk'];
  }, 'backends[1]');
  expectBad((s) => {
    s['serves'] = { classes: ['M13'], verification: ['x'] };
  }, 'serves.classes[0]');
});

test('several problems are all reported', () => {
  const e = expectBad((s) => {
    s['mix'] = { read: -1, write: 1 };
    s['concurrency'] = [];
  }, 'mix.read');
  assert.ok(
    e.problems.some((p) => p.path === 'concurrency'),
    JSON.stringify(e.problems),
  );
});

test('invalid JSON and invalid YAML name the file', () => {
  const j = specError(() => parseSpec('{ "name": "x", ', '/specs/broken.json'));
  assert.match(j.message, /^\/specs\/broken\.json: /);
  assert.match(j.message, /\(file\): not valid JSON/);
  const y = specError(() => parseSpec('name: [unclosed', '/specs/broken.yaml'));
  assert.match(y.message, /^\/specs\/broken\.yaml: /);
  assert.match(y.message, /\(file\): not valid YAML/);
});

test('loadSpecFile: a name not matching the file name, and a missing file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-spec-'));
  try {
    const file = join(dir, 'other-name.json');
    writeFileSync(file, JSON.stringify(good()));
    const e = specError(() => loadSpecFile(file));
    assert.is(e.file, file);
    assert.ok(e.message.startsWith(`${file}:`), e.message);
    assert.match(e.message, /name: must match the file name "other-name"/);

    const ok = join(dir, 'good.yaml');
    writeFileSync(ok, toYaml(good()));
    assert.is(loadSpecFile(ok).spec.name, 'good');
    assert.equal(
      resolveWorkloads([ok]).map((s) => s.file),
      [ok],
    );

    const missing = join(dir, 'missing.json');
    const m = specError(() => loadSpecFile(missing));
    assert.match(m.message, /\(file\): no such file/);
    assert.ok(m.message.startsWith(missing), m.message);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("resolveWorkloads(['nope']) throws naming the known workloads", () => {
  const e = specError(() => resolveWorkloads(['nope']));
  assert.is(e.file, 'nope');
  assert.match(e.message, /not a canonical workload/);
  for (const name of CANONICAL) assert.ok(e.message.includes(name), `names ${name}: ${e.message}`);
});

test.run();
