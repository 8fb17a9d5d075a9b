// Proof that the dashboards work: a real Prometheus (Debian's, started here
// on loopback) scrapes a live short run's /metrics every second, then EVERY
// PromQL expression of EVERY panel of dashboards/*.json is evaluated through
// Prometheus's HTTP API and must return data; every dashboard variable must
// have values. The counts Prometheus holds must equal the run's own exact
// totals (the HDR-fed histograms lose no observation). The final values are
// pushed to a real Pushgateway. If Prometheus is missing or does not start,
// the test fails: it never skips.

import { test } from 'uvu';
import { freePort } from '../support/net.ts';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { planMatrix } from '../../harness/plan/matrix.ts';
import { parseModeSets } from '../../harness/plan/modes.ts';
import { runMatrix, type CellResult } from '../../harness/run/runner.ts';
import { resolveWorkloads } from '../../harness/spec/load.ts';
import { DASHBOARD_VARIABLES } from '../../harness/telemetry/dashboards.ts';
import { RunMetrics } from '../../harness/telemetry/metrics.ts';
import { pushMetrics, serveMetrics, type MetricsServer } from '../../harness/telemetry/serve.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DASHBOARDS = join(ROOT, 'dashboards');
const RUN = `promtest-${process.pid}`;

const tmp = mkdtempSync(join(tmpdir(), 'sb-prom-'));
const children: ChildProcess[] = [];
let server: MetricsServer | null = null;

function start(cmd: string, args: string[], log: string): ChildProcess {
  const fd = openSync(log, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
  children.push(child);
  return child;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, log: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  let tail = '';
  try {
    tail = readFileSync(log, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    tail = '(no log)';
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms; log tail:\n${tail}`);
}

interface PromResponse {
  status: string;
  error?: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function promQuery(base: string, expr: string): Promise<PromResponse> {
  const res = await fetch(`${base}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  return (await res.json()) as PromResponse;
}

/** Grafana's variables as a user who picked "All" would send them. */
function substitute(expr: string): string {
  let e = expr.replaceAll('$__rate_interval', '1m');
  for (const v of DASHBOARD_VARIABLES) e = e.replaceAll(`$${v}`, '.*');
  return e;
}

interface Dashboard {
  title: string;
  templating: { list: { name: string; type: string; query?: { query: string } | string }[] };
  panels: { title: string; targets: { expr: string; refId: string }[] }[];
}

function dashboards(): { file: string; d: Dashboard }[] {
  return readdirSync(DASHBOARDS)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, d: JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Dashboard }));
}

test('a real Prometheus scraping a live run answers every dashboard expression', async () => {
  const which = spawnSync('sh', ['-c', 'command -v prometheus && command -v prometheus-pushgateway'], { encoding: 'utf8' });
  assert.is(which.status, 0, 'prometheus and prometheus-pushgateway must be installed (npm test installs them as root: scripts/provision-test-deps.sh)');

  const metrics = new RunMetrics({ run: RUN });
  server = await serveMetrics(metrics, 0);
  const [promPort, gwPort] = [await freePort(), await freePort()];
  const prom = `http://127.0.0.1:${promPort}`;
  const gw = `http://127.0.0.1:${gwPort}`;

  // The drop-in scrape config, pointed at this run's port and this test's Pushgateway.
  const config = parse(readFileSync(join(DASHBOARDS, 'prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  config.global['scrape_interval'] = '1s';
  for (const job of config.scrape_configs) {
    job.static_configs = [{ targets: [job.job_name === 'shadowbench' ? `127.0.0.1:${server.port}` : `127.0.0.1:${gwPort}`] }];
  }
  const configFile = join(tmp, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));
  const promLog = join(tmp, 'prometheus.log');
  const gwLog = join(tmp, 'pushgateway.log');
  start('prometheus', [`--config.file=${configFile}`, `--storage.tsdb.path=${join(tmp, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], promLog);
  // Debian's Pushgateway persists to /var/lib/prometheus by default: keep this one in memory.
  start('prometheus-pushgateway', [`--web.listen-address=127.0.0.1:${gwPort}`, '--persistence.file='], gwLog);
  await waitFor('Prometheus', async () => (await fetch(`${prom}/-/ready`)).ok, 30_000, promLog);
  await waitFor('Pushgateway', async () => (await fetch(`${gw}/-/ready`)).ok, 30_000, gwLog);
  await waitFor('first scrape of the run', async () => (await promQuery(prom, `up{job="shadowbench"} == 1`)).data.result.length > 0, 30_000, promLog);

  // A live short run: mixed read/write touches every metadata class on file and memory, in all three mode sets.
  const groups = planMatrix({
    workloads: resolveWorkloads(['mixed-read-write']),
    modeSets: parseModeSets(undefined),
    quick: true,
    concurrency: [2],
    duration_ms: 1200,
  });
  for (const g of groups) for (const c of g.cells) metrics.addCell(c);
  const scrapesBefore = server.scrapes();
  const results: CellResult[] = await runMatrix({
    groups,
    rounds: 6,
    seed: 7,
    faults: {},
    schedule: 'interleaved',
    runDir: join(tmp, 'run'),
    sliceMs: 300,
    onWindow: (cell, delta) => metrics.onWindow(cell, delta),
    onRound: (cell, r) => metrics.onRound(cell, r),
  });
  assert.ok(
    results.every((r) => r.status === 'ok'),
    `run failed: ${results.flatMap((r) => r.failures).join('; ')}`,
  );
  assert.ok(server.scrapes() - scrapesBefore >= 5, `Prometheus scraped the run only ${server.scrapes() - scrapesBefore} times`);
  // Let the last cell's series get a couple more samples, with the final windows in.
  const final = server.scrapes();
  await waitFor('two scrapes after the run', async () => server!.scrapes() >= final + 2, 15_000, promLog);

  // Exactness: what Prometheus holds equals the run's own totals.
  let ok = 0;
  for (const r of results) for (const [k, v] of r.aggregate.counters) if (/^op\.[a-z_]+\.ok$/.test(k)) ok += v;
  const opsTotal = await promQuery(prom, `sum(shadowbench_operations_total{run="${RUN}"})`);
  const latencyCount = await promQuery(prom, `sum(shadowbench_operation_latency_seconds_count{run="${RUN}"})`);
  const infBucket = await promQuery(prom, `sum(shadowbench_operation_latency_seconds_bucket{run="${RUN}",le="+Inf"})`);
  assert.ok(ok > 0);
  assert.is(Number(opsTotal.data.result[0]?.value[1]), ok, "shadowbench_operations_total = the run's successful operations");
  assert.is(Number(latencyCount.data.result[0]?.value[1]), ok, 'latency histogram _count = successful operations');
  assert.is(Number(infBucket.data.result[0]?.value[1]), ok, 'latency histogram +Inf bucket = successful operations');

  // Every expression of every panel of every dashboard returns data (and "no data" is detectable).
  assert.is((await promQuery(prom, `shadowbench_no_such_metric{run="${RUN}"}`)).data.result.length, 0);
  const failures: string[] = [];
  let evaluated = 0;
  const ds = dashboards();
  assert.ok(ds.length >= 5, `dashboards/ holds ${ds.length} dashboards`);
  for (const { file, d } of ds) {
    assert.ok(d.panels.length > 0, `${file} has no panels`);
    for (const p of d.panels) {
      assert.ok(p.targets.length > 0, `${file} / ${p.title} has no query`);
      for (const t of p.targets) {
        const expr = substitute(t.expr);
        const r = await promQuery(prom, expr);
        evaluated++;
        if (r.status !== 'success') failures.push(`${file} / ${p.title} / ${t.refId}: ${r.error ?? r.status}\n    ${expr}`);
        else if (r.data.result.length === 0) failures.push(`${file} / ${p.title} / ${t.refId}: no data\n    ${expr}`);
      }
    }
    // Every dashboard variable has values (Grafana's label_values(metric, label)).
    for (const v of d.templating.list.filter((x) => x.type === 'query')) {
      const q = typeof v.query === 'string' ? v.query : v.query!.query;
      const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(q);
      if (m === null) {
        failures.push(`${file} variable ${v.name}: unsupported query ${q}`);
        continue;
      }
      const res = (await (await fetch(`${prom}/api/v1/label/${m[2]}/values?${new URLSearchParams({ 'match[]': m[1]! })}`)).json()) as { data: string[] };
      if (res.data.length === 0) failures.push(`${file} variable ${v.name}: no values`);
      if (v.name === 'run' && !res.data.includes(RUN)) failures.push(`${file} variable run: ${RUN} missing`);
    }
  }
  assert.ok(evaluated >= 60, `only ${evaluated} expressions evaluated`);
  assert.equal(failures, [], `${failures.length} of ${evaluated} dashboard expressions failed:\n${failures.join('\n')}`);

  // The push at the end lands in a real Pushgateway, grouped by run.
  const pushed = await pushMetrics(metrics, new URL(gw));
  assert.ok(pushed.ok, pushed.message);
  const gwText = await (await fetch(`${gw}/metrics`)).text();
  assert.ok(gwText.includes(`shadowbench_operations_total{`) && gwText.includes(`run="${RUN}"`), 'pushed series are on the Pushgateway');
  assert.ok(/shadowbench_operation_latency_seconds_bucket\{[^}]*le="\+Inf"/.test(gwText), 'pushed histograms keep their buckets');
});

test.after(async () => {
  await server?.close();
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r)))));
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
