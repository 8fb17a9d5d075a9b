// End to end through the CLI, real piscina pools and worker threads: a small
// deterministic run (memory, c2, operation-bound, 2 rounds, legacy and new)
// writes a complete run folder whose mode sets reach the same final state;
// its recorded trace is exactly the generated op stream, slice by slice, and
// replaying it reaches that state again.

import { test } from 'uvu';
import { runCli as cli, type CliResult } from '../support/cli.ts';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import { opStream, type Op } from '../../harness/ops/stream.ts';
import { traceStream } from '../../harness/ops/trace.ts';
import { loadSpecFile } from '../../harness/spec/load.ts';
import { tinySpec } from '../support/tiny-spec.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import { YARDSTICK } from '../../harness/runtime/yardstick.ts';
import type { CellSummary } from '../../harness/results/summary.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin/shadowbench.js');
const OPS = 300;
const WARMUP = 40;
const CONNECTIONS = 2;

interface CliJson {
  run_dir: string;
  exit_code: number;
  totals: RunRecord['totals'];
  gate: { files: string[]; problems: string[]; verdicts: { metadata_class: string; verdict: string; reasons: string[] }[] };
  cells: { id: string; status: string; failures: string[]; gaps: string[]; correctness: string[]; usable_for_gate: boolean }[];
}

function parseJson(r: CliResult): CliJson {
  assert.is(r.code, 0, `exit code 0 expected; stderr:\n${r.stderr}\nstdout:\n${r.stdout}`);
  return JSON.parse(r.stdout) as CliJson;
}

const tmp = mkdtempSync(join(tmpdir(), 'sb-run-'));
const specFile = join(tmp, 'tiny-mixed.json');
// Only commuting increments and reads: the final state is a function of the ops alone.
const workload = tinySpec('tiny-mixed', { concurrency: [CONNECTIONS], run: { operations: OPS }, warmup: { operations: WARMUP } });
writeFileSync(specFile, JSON.stringify(workload, null, 2));

let recorded: { dir: string; run: RunRecord } | null = null;

/** Each cell's final state (taken after its group's last round). */
function stateHashes(run: RunRecord): (string | null)[] {
  return run.cells.map((c) => c.rounds.at(-1)?.state_hash ?? null);
}

test('run: c2 memory, 2 rounds, legacy+new, --record -> a complete run folder', async () => {
  const out = join(tmp, 'out');
  const res = parseJson(
    await cli(['run', '--workload', specFile, '--modes', 'legacy,new', '--rounds', '2', '--seed', '7', '--record', '--json', '--out', out, '-q']),
  );
  assert.is(res.exit_code, 0);
  assert.ok(res.run_dir.startsWith(`${out}/`), res.run_dir);
  assert.equal(res.totals, { cells: 2, failed: 0, with_gaps: 0, correctness_failures: 0, fallbacks: 0 });
  assert.equal(
    res.cells.map((c) => c.id),
    ['reference.tiny-mixed.memory.c2.legacy', 'reference.tiny-mixed.memory.c2.new'],
  );
  for (const c of res.cells) {
    assert.is(c.status, 'ok', JSON.stringify(c));
    assert.equal([c.failures, c.gaps, c.correctness], [[], [], []]);
    assert.ok(c.usable_for_gate);
  }

  const dir = res.run_dir;
  for (const f of ['run.json', 'summary.json', 'summary.txt', 'gate.json', 'gate.md', 'gate.html']) assert.ok(existsSync(join(dir, f)), f);
  assert.equal(
    res.gate.files,
    ['gate.json', 'gate.md', 'gate.html'].map((f) => join(dir, f)),
  );
  assert.equal(
    res.gate.verdicts.map((v) => [v.metadata_class, v.verdict]),
    [
      ['M1', 'hold'],
      ['M6', 'hold'],
      ['M11', 'hold'],
    ],
    'two rounds cannot decide',
  );
  assert.not.ok(existsSync(join(dir, 'work')), 'the work folder is removed');
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
  assert.is(run.format, 'shadowbench-run');
  assert.is(run.run_id, dir.split('/').pop());
  assert.match(run.environment.hardware_signature, /^[0-9a-f]{16}$/);
  assert.is(run.environment.node_version, process.version);
  assert.ok(run.engine !== null && !('variant' in run.engine), 'the reference engine description');
  assert.is(run.engine.backend, 'memory');
  assert.is(run.engine.page_count, 256);
  assert.equal(run.engine.faults, {});
  assert.is(run.engine.fault_injection_active, false);
  assert.equal(run.config.mode_sets, ['legacy', 'new']);
  assert.equal([run.config.seed, run.config.rounds, run.config.trace_recorded, run.config.replay_of], [7, 2, true, null]);
  assert.is(run.config.yardstick, YARDSTICK);

  // Both mode sets ran the same operations from the same fixture: the same final state.
  const hashes = stateHashes(run);
  assert.is(hashes.length, 2);
  assert.ok(
    hashes.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h)),
    JSON.stringify(hashes),
  );
  assert.is(new Set(hashes).size, 1, `one final state: ${JSON.stringify(hashes)}`);
  assert.equal(
    run.cells.map((c) => c.control_modes),
    [
      { M1: 'legacy', M6: 'legacy', M11: 'legacy' },
      { M1: 'polling', M6: 'snapshot', M11: 'sharded' },
    ],
  );
  for (const c of run.cells) {
    assert.ok(c.deterministic);
    assert.equal(
      c.rounds.map((r) => r.round),
      [1, 2],
    );
    // Operation-bound slices: the spec's count per slice, every round's order recorded.
    assert.equal([c.schedule?.bound, c.schedule?.ops_per_slice, c.schedule?.warmup_rounds], ['operations', OPS, 1]);
    assert.equal(
      c.schedule?.rounds.map((r) => [...r.order].sort()),
      [
        ['legacy', 'new'],
        ['legacy', 'new'],
      ],
    );
    for (const r of c.rounds) {
      assert.is(r.operations, OPS * CONNECTIONS, `${c.id} round ${r.round}`);
      assert.equal(r.failures, []);
      assert.ok(r.latency_ns['read'] !== undefined && r.latency_ns['concurrent_write'] !== undefined, Object.keys(r.latency_ns).join());
      // The machine's speed beside the round: one reading of the yardstick, the same for every arm of the round.
      assert.ok(typeof r.yardstick_ns === 'number' && r.yardstick_ns > 0, `${c.id} round ${r.round}: yardstick ${r.yardstick_ns}`);
      const other = run.cells.find((d) => d !== c)!.rounds.find((x) => x.round === r.round)!;
      assert.is(other.yardstick_ns, r.yardstick_ns);
    }
    assert.is(c.operations, 2 * OPS * CONNECTIONS);
  }

  // Every measured operation reached the main thread through a window: counted once, none lost.
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { cells: CellSummary[] };
  for (const s of summary.cells) {
    const ops = Object.entries(s.counters)
      .filter(([k]) => /^op\.[a-z_]+\.(ok|error\..+)$/.test(k))
      .reduce((n, [, v]) => n + v, 0);
    assert.is(ops, 2 * OPS * CONNECTIONS, `${s.id}: ops counted in windows`);
    const latencies = Object.entries(s.histograms)
      .filter(([k]) => /^op\.[a-z_]+\.latency_ns$/.test(k))
      .reduce((n, [, h]) => n + h.count, 0);
    assert.is(
      latencies,
      Object.entries(s.counters)
        .filter(([k]) => /^op\.[a-z_]+\.ok$/.test(k))
        .reduce((n, [, v]) => n + v, 0),
    );
    for (const [name, h] of Object.entries(s.histograms))
      assert.ok(h.max >= h.p999 && h.p999 >= h.p99 && h.p99 >= h.p50, `${s.id} ${name}: ${JSON.stringify(h)}`);
  }

  // HdrHistogram logs: one per cell, one tagged interval histogram per field.
  const hlogs = readdirSync(join(dir, 'histograms')).sort();
  assert.equal(hlogs, run.cells.map((c) => c.histograms_file.replace('histograms/', '')).sort());
  for (const c of run.cells) {
    const text = readFileSync(join(dir, c.histograms_file), 'utf8');
    const reader = new hdr.HistogramLogReader(text, 'packed', false);
    const tags: string[] = [];
    for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
      assert.ok(h.tag !== undefined && h.tag !== '', 'tagged');
      assert.ok(h.totalCount > 0, `${h.tag} has values`);
      tags.push(h.tag);
      const want = summary.cells.find((s) => s.id === c.id)!.histograms[h.tag];
      assert.is(h.totalCount, want?.count, `${c.id} ${h.tag}: same count as summary.json`);
      h.destroy();
    }
    assert.ok(tags.includes('op.read.latency_ns') && tags.includes('op.concurrent_write.latency_ns'), tags.join());
    assert.ok(tags.some((t) => t.startsWith('M11.')) && tags.some((t) => t.startsWith('M6.')), tags.join());
    assert.equal(tags, [...tags].sort(), 'in name order');
  }

  const txt = readFileSync(join(dir, 'summary.txt'), 'utf8');
  assert.ok(txt.includes(run.run_id));
  for (const c of run.cells) assert.ok(txt.includes(c.id.replace(/^reference\./, '')), c.id);
  assert.not.ok(/FAILED|STATE MISMATCH/.test(txt));

  recorded = { dir, run };
});

test('the recorded trace is the generated op stream, per connection, slice by slice', () => {
  assert.ok(recorded !== null, 'needs the recorded run');
  const { spec } = loadSpecFile(specFile);
  const traces = readdirSync(join(recorded.dir, 'trace')).sort();
  assert.equal(
    traces,
    [0, 1].map((c) => `tiny-mixed.c2.conn${c}.trace`),
    'one trace per connection, recorded once for every mode and round',
  );
  for (let conn = 0; conn < CONNECTIONS; conn++) {
    const t = traceStream(join(recorded.dir, 'trace', `tiny-mixed.c2.conn${conn}.trace`));
    assert.equal(t.header, { format: 'shadowbench-trace', version: 2, workload: 'tiny-mixed', seed: 7, connection: conn, connections: CONNECTIONS });
    const gen = opStream(spec, 7, conn, CONNECTIONS);
    const slice = (): Op[] => {
      const ops: Op[] = [];
      for (let op = t.next(); op !== null; op = t.next()) ops.push(op);
      return ops;
    };
    const expect = (n: number, what: string, g = gen): void => {
      const ops = slice();
      assert.is(ops.length, n, `connection ${conn}: ${what} length`);
      assert.equal(
        ops,
        Array.from({ length: n }, () => g.next()),
        `connection ${conn}: ${what} ops`,
      );
    };
    // Calibration (the spec's warm-up); then the warm-up round and two measured rounds, each on fresh
    // databases from the fixture, so each replays the stream from its start: a warm slice, then the measured one.
    expect(WARMUP, 'calibration');
    for (const round of ['warm-up round', 'round 1', 'round 2']) {
      const fresh = opStream(spec, 7, conn, CONNECTIONS);
      expect(OPS / 10, `${round} warm slice`, fresh);
      expect(OPS, `${round} measured slice`, fresh);
    }
    assert.is(t.next(), null);
  }
});

test('replay --modes shadow_compare: same operations, same final state', async () => {
  assert.ok(recorded !== null, 'needs the recorded run');
  const out = join(tmp, 'replay-out');
  const res = parseJson(await cli(['replay', recorded.dir, '--modes', 'shadow_compare', '--json', '--out', out, '-q']));
  assert.is(res.exit_code, 0);
  assert.equal(
    res.cells.map((c) => [c.id, c.status]),
    [['reference.tiny-mixed.memory.c2.shadow_compare', 'ok']],
  );
  assert.equal(res.totals, { cells: 1, failed: 0, with_gaps: 0, correctness_failures: 0, fallbacks: 0 });
  const run = JSON.parse(readFileSync(join(res.run_dir, 'run.json'), 'utf8')) as RunRecord;
  assert.is(run.config.replay_of, recorded.dir);
  assert.is(run.config.seed, 7);
  assert.is(run.config.trace_recorded, false);
  const cell = run.cells[0]!;
  assert.equal(cell.control_modes, { M1: 'shadow_compare', M6: 'shadow_compare', M11: 'shadow_compare' });
  assert.is(cell.operations, 2 * OPS * CONNECTIONS, 'the measured rounds replay exactly the recorded measured ops');
  assert.equal(stateHashes(run), [stateHashes(recorded.run)[0]!], "the replay ends in the recorded run's state");
  // Shadow comparison ran, and agreed.
  const summary = JSON.parse(readFileSync(join(res.run_dir, 'summary.json'), 'utf8')) as { cells: CellSummary[] };
  const counters = summary.cells[0]!.counters;
  assert.ok((counters['M6.shadow_verdict.match'] ?? 0) > 0, JSON.stringify(counters));
  assert.is(counters['M6.shadow_verdict.diverged'] ?? 0, 0);
});

test('replay of a folder without a trace is bad input', async () => {
  assert.ok(recorded !== null, 'needs the recorded run');
  const r = await cli(['replay', join(tmp, 'no-such-run'), '--json']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /no-such-run\/run\.json: no such file \(not a run folder\)/);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
