// The Prometheus metrics without a Prometheus: HDR-fed histograms are exact,
// window deltas land on the card-named series, the dashboards in dashboards/
// are the generated ones and name only metrics that exist, and the CLI's
// --metrics-port / --push flags serve, push and reject bad input.

import { test } from 'uvu';
import { runCli } from '../support/cli.ts';
import { freePort } from '../support/net.ts';

// No ambient OTLP endpoint: the spans go to the run folder.
const cli = (args: string[]) => runCli(args, { OTEL_EXPORTER_OTLP_ENDPOINT: '' });
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import type { FieldRecord } from '../../engine/index.ts';
import { planMatrix, type Cell } from '../../harness/plan/matrix.ts';
import { parseModeSets } from '../../harness/plan/modes.ts';
import type { WindowDelta } from '../../harness/record/recorder.ts';
import { BucketCounts, type SparseCounts } from '../../harness/record/bucket-counts.ts';
import { resolveWorkloads } from '../../harness/spec/load.ts';
import { dashboardJson, DASHBOARDS, DASHBOARDS_DIR } from '../../harness/telemetry/dashboards.ts';
import { RunMetrics } from '../../harness/telemetry/metrics.ts';
import { tinySpec } from '../support/tiny-spec.ts';
import { parsePushUrl, pushMetrics, PushUrlError, serveMetrics } from '../../harness/telemetry/serve.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin/shadowbench.js');

/** A window's histogram of these values, as a recorder sends it. */
const encode = (values: number[]): SparseCounts => {
  const h = new BucketCounts(60e9);
  for (const v of values) h.record(v);
  return h.take()!;
};

const cells = (): Cell[] =>
  planMatrix({ workloads: resolveWorkloads(['hot-page-contention']), modeSets: parseModeSets('legacy,shadow_compare,new'), concurrency: [2] }).flatMap(
    (g) => g.cells,
  );

function delta(counters: Record<string, number>, histograms: Record<string, SparseCounts>, samples: FieldRecord[] = []): WindowDelta {
  return { connection: 0, window: 0, start_ms: 0, end_ms: 1, counters, histograms, samples };
}

test('HDR-fed histogram: exact counts per Prometheus bucket, +Inf = count', () => {
  const m = new RunMetrics({ run: 'unit' });
  const cell = cells()[0]!;
  // 50 ns, 100 ns (on a bound), 150 ns, 1 µs (on a bound), 3 ms twice, 20 s (above the last bound).
  const b64 = encode([50, 100, 150, 1000, 3e6, 3e6, 20e9]);
  m.onWindow(cell, delta({ 'op.read.ok': 7 }, { 'op.read.latency_ns': b64 }));
  m.onWindow(cell, delta({ 'op.read.ok': 1 }, { 'op.read.latency_ns': encode([200]) }));
  const snap = m.histogramMetric('shadowbench_operation_latency_seconds')!.snapshot({ ...m.labelsOf(cell), op_kind: 'read' })!;
  const at = (le: string): number => snap.buckets.find(([b]) => b === le)![1];
  assert.is(at('1e-7'), 2);
  assert.is(at('2.5e-7'), 4);
  assert.is(at('0.000001'), 5);
  assert.is(at('0.0025'), 5);
  assert.is(at('0.005'), 7);
  assert.is(at('10'), 7);
  assert.is(at('+Inf'), 8);
  assert.is(snap.count, 8);
  const exactSum = (50 + 100 + 150 + 1000 + 6e6 + 20e9 + 200) / 1e9;
  assert.ok(Math.abs(snap.sum - exactSum) / exactSum < 1e-3, `sum ${snap.sum} within HDR resolution of ${exactSum}`);
});

test('window deltas land on card-named series with bounded labels', async () => {
  const m = new RunMetrics({ run: 'unit' });
  const [legacy, shadow] = cells();
  const m11: FieldRecord = {
    metadata_class: 'M11',
    trace_id: 't',
    start_ns: 1,
    end_ns: 2,
    operation: 'lookup',
    session_id: 9,
    shard_id: 3,
    lock_wait_ns: 1500,
    active_sessions_in_shard: 4,
    control_mode: 'shadow_compare',
    shadow_verdict: 'match',
  };
  m.onWindow(
    shadow!,
    delta(
      {
        'op.write.ok': 5,
        'op.write.retries': 2,
        'op.write.error.busy': 1,
        'errors.busy': 3,
        'errors.write_conflict': 4,
        'M6.read': 10,
        'M6.shadow_verdict.diverged': 2,
        'M6.control_mode.shadow_compare': 10,
        'M11.session_not_found.true': 1,
        'M11.session_not_found.false': 9,
        'M4.cache_hit.true': 6,
        'gap.M2.statement_id': 1,
        'M6.snapshot_age_commits.sum': 12,
      },
      { 'M11.lock_wait_ns': encode([1500, 2500]), 'M6.snapshot_age_commits': encode([0, 3, 7]), 'M1.read_retry_count': encode([0, 1]) },
      [m11],
    ),
  );
  m.onWindow(legacy!, delta({ 'op.write.ok': 1 }, {}));
  const text = await m.text();
  const line = (re: RegExp): string => text.split('\n').find((l) => re.test(l)) ?? '';
  const cellSel = 'run="unit",variant="reference",backend="file",workload="hot-page-contention",concurrency="2",mode_set="shadow_compare"';
  assert.ok(line(/^shadowbench_operations_total\{.*mode_set="shadow_compare".*op_kind="write"\} 5$/).includes(cellSel), 'operations_total with cell labels');
  assert.match(text, /shadowbench_busy_total\{[^}]*mode_set="shadow_compare"\} 3\n/);
  assert.match(text, /shadowbench_conflicts_total\{[^}]*mode_set="shadow_compare"\} 4\n/);
  assert.match(text, /shadowbench_operation_errors_total\{[^}]*op_kind="write",error="busy"\} 1\n/);
  assert.match(text, /shadowbench_shadow_verdicts_total\{[^}]*metadata_class="M6",control_mode="shadow_compare",shadow_verdict="diverged"\} 2\n/);
  assert.match(
    text,
    /shadowbench_control_mode_records_total\{[^}]*metadata_class="M6",control_mode="shadow_compare",record_control_mode="shadow_compare"\} 10\n/,
  );
  assert.match(text, /shadowbench_session_not_found_total\{[^}]*metadata_class="M11",control_mode="shadow_compare"\} 1\n/);
  assert.match(text, /shadowbench_field_flags_total\{[^}]*metadata_class="M4",control_mode="keep_local",field="cache_hit",value="true"\} 6\n/);
  assert.match(text, /shadowbench_field_gaps_total\{[^}]*metadata_class="M2",control_mode="keep_local",field="statement_id"\} 1\n/);
  assert.match(text, /shadowbench_snapshot_age_commits\{[^}]*metadata_class="M6",control_mode="shadow_compare"\} 7\n/);
  assert.match(text, /shadowbench_lock_wait_seconds_count\{[^}]*metadata_class="M11",control_mode="shadow_compare"\} 2\n/);
  assert.match(text, /shadowbench_lock_wait_seconds_bucket\{[^}]*le="0.0000025"\} 2\n/);
  assert.match(text, /shadowbench_record_read_retry_count_bucket\{[^}]*metadata_class="M1",control_mode="shadow_compare",le="0"\} 1\n/);
  assert.match(text, /shadowbench_shard_active_sessions\{[^}]*shard_id="3"\} 4\n/);
  assert.match(text, /# TYPE shadowbench_wait_seconds histogram\n/);
  // Zero-valued series exist for every planned cell from the first window on.
  assert.match(text, /shadowbench_fallbacks_total\{[^}]*mode_set="legacy",metadata_class="M6",control_mode="legacy"\} 0\n/);
  m.onRound(shadow!, {
    operations: 10,
    measured_ms: 100,
    failures: [],
    events: [
      { metadata_class: 'M6', trigger: 'shadow_divergence', action: 'force_legacy' },
      { metadata_class: 'M4', trigger: 'cookie_mismatch', action: 'alert' },
    ],
  });
  const after = await m.text();
  assert.match(after, /shadowbench_fallbacks_total\{[^}]*mode_set="shadow_compare",metadata_class="M6",control_mode="shadow_compare"\} 1\n/);
  assert.match(after, /shadowbench_trigger_events_total\{[^}]*metadata_class="M4",control_mode="keep_local",trigger="cookie_mismatch",action="alert"\} 1\n/);
  assert.match(after, /shadowbench_round_throughput_ops_per_second\{[^}]*mode_set="shadow_compare"\} 100\n/);
  // No label value outside the cell, the card vocabulary, error codes and shard ids.
  const allowed = new Set([
    'backend',
    'concurrency',
    'control_mode',
    'error',
    'field',
    'le',
    'metadata_class',
    'mode_set',
    'op_kind',
    'operation',
    'outcome',
    'trigger',
    'action',
    'record_control_mode',
    'refresh_reason',
    'run',
    'shadow_verdict',
    'shard_id',
    'value',
    'variant',
    'workload',
  ]);
  for (const l of new Set([...after.matchAll(/[{,]([a-z_]+)="/g)].map((x) => x[1]!))) assert.ok(allowed.has(l), `label ${l} is not in the bounded set`);
});

test('dashboards/ holds the generated dashboards, and they name only metrics that exist', () => {
  const m = new RunMetrics({ run: 'unit' });
  const known = new Set(m.registry.getMetricsAsArray().map((x) => (x as unknown as { name: string }).name));
  for (const d of DASHBOARDS) {
    assert.fixture(
      readFileSync(join(DASHBOARDS_DIR, d.file), 'utf8'),
      dashboardJson(d),
      `${d.file} is stale: node --import tsx harness/telemetry/dashboards.ts`,
    );
    for (const p of d.panels) {
      for (const [expr] of p.targets) {
        for (const name of expr.match(/shadowbench_[a-z_]+/g) ?? []) {
          const base = name.replace(/_(bucket|sum|count)$/, '');
          assert.ok(known.has(name) || known.has(base), `${d.file} / ${p.title}: unknown metric ${name}`);
        }
      }
    }
  }
  for (const f of ['prometheus.yml', 'provisioning/datasources/shadowbench.yml', 'provisioning/dashboards/shadowbench.yml'])
    assert.ok(readFileSync(join(DASHBOARDS_DIR, f), 'utf8').includes('127.0.0.1') || f.includes('dashboards/'), f);
});

test('push URLs: bad ones are rejected, an unreachable gateway is reported', async () => {
  assert.throws(
    () => parsePushUrl('not a url'),
    (e: unknown) => e instanceof PushUrlError && /not a URL/.test((e as Error).message),
  );
  assert.throws(
    () => parsePushUrl('ftp://127.0.0.1:9091'),
    (e: unknown) => e instanceof PushUrlError && /http/.test((e as Error).message),
  );
  assert.is(parsePushUrl('http://127.0.0.1:9091/').host, '127.0.0.1:9091');
  const port = await freePort();
  const r = await pushMetrics(new RunMetrics({ run: 'unit' }), new URL(`http://127.0.0.1:${port}`), 3000);
  assert.is(r.ok, false);
  assert.is(r.status, null);
  assert.match(r.message, /unreachable: ECONNREFUSED/);
  assert.match(r.url, /\/metrics\/job\/shadowbench\/run\/unit$/);
});

test('serveMetrics: GET /metrics on 127.0.0.1 only, 404 elsewhere', async () => {
  const m = new RunMetrics({ run: 'unit' });
  m.addCell(cells()[0]!);
  const s = await serveMetrics(m, 0);
  try {
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(s.url);
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
    assert.match(await res.text(), /shadowbench_run_info\{run="unit"/);
    assert.is((await fetch(s.url.replace('/metrics', '/'))).status, 404);
    assert.is(s.scrapes(), 1);
  } finally {
    await s.close();
  }
});

test('CLI: --push and --metrics-port reject bad input with exit 2', async () => {
  const bad = await cli(['run', '--push', 'not-a-url']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--push: 'not-a-url' is not a URL/);
  const ftp = await cli(['run', '--push', 'ftp://127.0.0.1/']);
  assert.is(ftp.code, 2);
  assert.match(ftp.stderr, /must be an http:\/\/ or https:\/\/ URL/);
  const port = await cli(['run', '--metrics-port', 'x']);
  assert.is(port.code, 2);
  assert.match(port.stderr, /--metrics-port must be an integer/);
  const otlp = await cli(['run', '--otlp', 'grpc://127.0.0.1:4317']);
  assert.is(otlp.code, 2);
  assert.match(otlp.stderr, /--otlp: .* must be an http:\/\/ or https:\/\/ URL/);
});

test('CLI: a run serves /metrics while it goes on; an unreachable --push is reported, not fatal', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sb-metrics-cli-'));
  try {
    const spec = join(tmp, 'tiny-telemetry.json');
    writeFileSync(spec, JSON.stringify(tinySpec('tiny-telemetry', { run: { duration_ms: 1500 } })));
    const [metricsPort, deadPort] = [await freePort(), await freePort()];
    const running = cli([
      'run',
      '--workload',
      spec,
      '--modes',
      'legacy',
      '--rounds',
      '4',
      '--out',
      join(tmp, 'out'),
      '--json',
      '--metrics-port',
      String(metricsPort),
      '--push',
      `http://127.0.0.1:${deadPort}`,
    ]);
    let scraped = '';
    let finished = false;
    void running.then(() => (finished = true));
    while (!finished && !scraped.includes('shadowbench_operations_total{')) {
      try {
        scraped = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await running;
    assert.is(r.code, 0, `${r.stderr}${r.stdout}`);
    assert.match(
      scraped,
      /shadowbench_operations_total\{run="[^"]+",variant="reference",backend="memory",workload="tiny-telemetry",concurrency="2",mode_set="legacy",op_kind="(read|write)"\} \d+/,
    );
    assert.match(r.stderr, new RegExp(`warning: Pushgateway http://127\\.0\\.0\\.1:${deadPort}/metrics/job/shadowbench/run/[^ ]+ unreachable`));
    const out = JSON.parse(r.stdout) as {
      exit_code: number;
      run_dir: string;
      telemetry: { spans: { destination: string; ended: number; exported: number; dropped: number }; push: { ok: boolean; status: number | null } };
    };
    assert.is(out.exit_code, 0);
    assert.equal([out.telemetry.push.ok, out.telemetry.push.status], [false, null]);
    // Without --otlp, the sampled records' spans are JSON lines in the run folder.
    assert.is(out.telemetry.spans.destination, join(out.run_dir, 'spans.jsonl'));
    assert.ok(out.telemetry.spans.exported > 0 && out.telemetry.spans.dropped === 0, JSON.stringify(out.telemetry.spans));
    const lines = readFileSync(join(out.run_dir, 'spans.jsonl'), 'utf8').trim().split('\n');
    assert.is(lines.length, out.telemetry.spans.exported);
    const span = JSON.parse(lines[0]!) as { name: string; attributes: Record<string, unknown>; resource: Record<string, unknown> };
    assert.match(span.name, /^M\d+\.[a-z_]+$/);
    assert.equal(
      [span.resource['workload'], span.resource['backend'], span.resource['concurrency'], span.resource['mode_set']],
      ['tiny-telemetry', 'memory', 2, 'legacy'],
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
