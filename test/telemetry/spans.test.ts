// Spans from the sampled field records: a real OTLP/HTTP receiver on
// loopback gets one span per sampled record of a live run, named
// <class>.<operation>, timed by the record's start_ns/end_ns, with the card's
// required fields verbatim as attributes and the cell as resource; without an
// endpoint the spans go to a JSON-lines file; drops are counted.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REQUIRED_FIELDS, type FieldRecord } from '../../engine/index.ts';
import { planMatrix, type Cell } from '../../harness/plan/matrix.ts';
import { parseModeSets } from '../../harness/plan/modes.ts';
import { runMatrix } from '../../harness/run/runner.ts';
import { loadSpecFile } from '../../harness/spec/load.ts';
import { tinySpec } from '../support/tiny-spec.ts';
import { otlpTracesUrl, SpanSink, SpanUrlError } from '../../harness/telemetry/spans.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sb-spans-'));
const specFile = join(tmp, 'tiny-spans.json');
writeFileSync(specFile, JSON.stringify(tinySpec('tiny-spans', { run: { duration_ms: 700 } })));
const groups = (modes = 'legacy,shadow_compare') => planMatrix({ workloads: [loadSpecFile(specFile)], modeSets: parseModeSets(modes) });

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpSpan {
  name: string;
  traceId: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: OtlpValue }[];
}
interface OtlpBody {
  resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

const plain = (v: OtlpValue): string | number | boolean | undefined =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.boolValue ?? v.doubleValue;

async function receiver(): Promise<{ server: Server; url: string; bodies: OtlpBody[]; paths: string[]; types: string[] }> {
  const bodies: OtlpBody[] = [];
  const paths: string[] = [];
  const types: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url}`);
      types.push(String(req.headers['content-type']));
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpBody);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, bodies, paths, types };
}

test('OTLP URLs: a base gets /v1/traces, a bad one is refused', () => {
  assert.is(otlpTracesUrl('http://127.0.0.1:4318'), 'http://127.0.0.1:4318/v1/traces');
  assert.is(otlpTracesUrl('http://127.0.0.1:4318/v1/traces'), 'http://127.0.0.1:4318/v1/traces');
  assert.throws(
    () => otlpTracesUrl('nope'),
    (e: unknown) => e instanceof SpanUrlError,
  );
  assert.throws(
    () => otlpTracesUrl('grpc://127.0.0.1:4317'),
    (e: unknown) => e instanceof SpanUrlError,
  );
});

test('a live run exports one span per sampled record to a real OTLP/HTTP receiver', async () => {
  const rx = await receiver();
  try {
    const sink = new SpanSink({ run: 'spantest', otlp: rx.url, file: join(tmp, 'unused.jsonl'), scheduledDelayMillis: 200 });
    const samples: { cell: Cell; r: FieldRecord }[] = [];
    const results = await runMatrix({
      groups: groups(),
      rounds: 1,
      seed: 3,
      faults: {},
      schedule: 'interleaved',
      runDir: join(tmp, 'run'),
      sliceMs: 200,
      onWindow: (cell, d) => {
        for (const r of d.samples) samples.push({ cell, r });
        sink.onWindow(cell, d);
      },
    });
    assert.ok(results.every((r) => r.status === 'ok'));
    const report = await sink.shutdown();
    assert.ok(samples.length > 20, `${samples.length} samples`);
    assert.equal([report.ended, report.exported, report.failed, report.dropped], [samples.length, samples.length, 0, 0]);
    assert.ok(
      rx.paths.every((p) => p === 'POST /v1/traces'),
      rx.paths.join(', '),
    );
    assert.ok(
      rx.types.every((t) => t.startsWith('application/json')),
      rx.types.join(', '),
    );

    const spans: { span: OtlpSpan; resource: Record<string, unknown> }[] = [];
    for (const b of rx.bodies)
      for (const rs of b.resourceSpans) {
        const resource = Object.fromEntries(rs.resource.attributes.map((a) => [a.key, plain(a.value)]));
        for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ span, resource });
      }
    assert.is(spans.length, samples.length);
    // Match each sample to its span by trace_id + class + operation + start.
    const byKey = new Map(
      spans.map((s) => {
        const a = Object.fromEntries(s.span.attributes.map((x) => [x.key, plain(x.value)]));
        return [`${a['trace_id']}|${s.span.name}|${a['mode_set']}|${s.span.startTimeUnixNano}`, { ...s, a }];
      }),
    );
    const classes = new Set<string>();
    for (const { cell, r } of samples) {
      const start = BigInt(Math.floor(r.start_ns / 1e9)) * 1_000_000_000n + BigInt(Math.round(r.start_ns - Math.floor(r.start_ns / 1e9) * 1e9));
      const got = byKey.get(`${r.trace_id}|${r.metadata_class}.${r.operation}|${cell.modeSet.label}|${start}`);
      assert.ok(got !== undefined, `no span for ${r.metadata_class}.${r.operation} ${r.trace_id}`);
      classes.add(r.metadata_class);
      assert.is(String(got.span.traceId), r.trace_id, "the span's own trace id is the record's trace_id");
      const f = r as unknown as Record<string, unknown>;
      for (const field of REQUIRED_FIELDS[r.metadata_class]) assert.is(got.a[field], f[field], `${r.metadata_class}.${field}`);
      const dur = Number(BigInt(got.span.endTimeUnixNano) - BigInt(got.span.startTimeUnixNano));
      assert.ok(Math.abs(dur - (r.end_ns - r.start_ns)) <= 1024, `duration ${dur} vs ${r.end_ns - r.start_ns}`);
      assert.equal(
        [
          got.resource['run'],
          got.resource['variant'],
          got.resource['backend'],
          got.resource['workload'],
          got.resource['concurrency'],
          got.resource['service.name'],
        ],
        ['spantest', cell.variant, cell.backend, 'tiny-spans', cell.concurrency, 'shadowbench'],
      );
    }
    for (const c of ['M1', 'M6', 'M11']) assert.ok(classes.has(c), `spans of ${c}`);
  } finally {
    rx.server.close();
  }
});

test('without an endpoint: JSON lines in the run folder; a full queue is counted as dropped', async () => {
  const file = join(tmp, 'spans.jsonl');
  const cell = groups()[0]!.cells[0]!;
  const rec = (i: number): FieldRecord => ({
    metadata_class: 'M6',
    trace_id: `t${i}`,
    start_ns: 1.7e18 + i * 1000,
    end_ns: 1.7e18 + i * 1000 + 500,
    operation: 'read',
    snapshot_generation: i,
    visible_commit_seq: i,
    db_size: 10,
    freelist_count: 0,
    alloc_ns: 0,
    snapshot_age_commits: 1,
    control_mode: 'legacy',
    shadow_verdict: 'none',
  });
  const sink = new SpanSink({ run: 'filetest', otlp: null, file, maxQueueSize: 16, scheduledDelayMillis: 60_000 });
  sink.onWindow(cell, {
    connection: 0,
    window: 0,
    start_ms: 0,
    end_ms: 1,
    counters: {},
    histograms: {},
    samples: Array.from({ length: 100 }, (_, i) => rec(i)),
  });
  const report = await sink.shutdown();
  assert.is(report.ended, 100);
  assert.ok(report.dropped > 0, `dropped ${report.dropped}`);
  assert.is(report.exported + report.failed + report.dropped, 100);
  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { name: string; start_ns: string; end_ns: string; attributes: Record<string, unknown>; resource: Record<string, unknown> });
  assert.is(lines.length, report.exported);
  const first = lines[0]!;
  assert.is(first.name, 'M6.read');
  assert.is(BigInt(first.end_ns) - BigInt(first.start_ns), 512n, 'float epoch ns: within 256 ns');
  assert.equal(
    Object.keys(first.attributes)
      .filter((k) => k !== 'mode_set' && k !== 'cell_id')
      .sort(),
    [...REQUIRED_FIELDS.M6].sort(),
  );
  assert.is(first.resource['run'], 'filetest');
});

test("CLI: --otlp sends the run's spans to the endpoint and reports the count", async () => {
  const rx = await receiver();
  try {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          join(root, 'bin/shadowbench.js'),
          'run',
          '--workload',
          specFile,
          '--modes',
          'shadow_compare',
          '--rounds',
          '1',
          '--out',
          join(tmp, 'cli-out'),
          '--json',
          '--otlp',
          rx.url,
        ],
        { cwd: root, timeout: 120_000, maxBuffer: 16 << 20, env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' } },
        (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
      );
    });
    assert.is(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { telemetry: { spans: { destination: string; ended: number; exported: number; failed: number; dropped: number } } };
    assert.is(out.telemetry.spans.destination, `${rx.url}/v1/traces`);
    const received = rx.bodies.reduce((n, b) => n + b.resourceSpans.reduce((m, rs) => m + rs.scopeSpans.reduce((k, ss) => k + ss.spans.length, 0), 0), 0);
    assert.ok(received > 0);
    assert.equal([out.telemetry.spans.exported, out.telemetry.spans.failed, out.telemetry.spans.dropped], [received, 0, 0]);
    assert.is(out.telemetry.spans.ended, received);
  } finally {
    rx.server.close();
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('anomalies are never sampled away: with a head ratio of 0, every diverged record still becomes a span', async () => {
  const sink = new SpanSink({ run: 'anomalies', otlp: null, file: join(tmp, 'anomalies.jsonl') });
  let diverged = 0;
  let droppedAnomalies = 0;
  const results = await runMatrix({
    groups: groups('shadow_compare'),
    rounds: 1,
    seed: 5,
    faults: { M6: { stale_publish: 0.5 } },
    schedule: 'interleaved',
    runDir: join(tmp, 'run-anomalies'),
    sliceMs: 200,
    sampleRatio: 0,
    triggers: { thresholds: new Map(), profiles: new Map([['M6.shadow_mismatch', { kind: 'k_of_n', k: 1_000_000, n: 1 }]]) },
    onWindow: (cell, d) => {
      diverged += d.counters['M6.shadow_verdict.diverged'] ?? 0;
      droppedAnomalies += d.counters['samples.anomalies_dropped'] ?? 0;
      sink.onWindow(cell, d);
    },
  });
  assert.ok(results.every((r) => r.status === 'ok'));
  const report = await sink.shutdown();
  assert.is(report.dropped, 0);
  const spans = readFileSync(join(tmp, 'anomalies.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { name: string; attributes: Record<string, unknown> });
  const divergedSpans = spans.filter((s) => s.attributes['shadow_verdict'] === 'diverged').length;
  assert.ok(diverged > 0, 'the fault produced divergences');
  assert.is(droppedAnomalies, 0);
  assert.is(divergedSpans, diverged, 'one span per diverged record');
});

test.run();
