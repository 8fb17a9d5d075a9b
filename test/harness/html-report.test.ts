// The HTML gate and nightly reports in a real headless Chromium (Debian's package;
// npm test installs it): it renders its charts and logs no console error. A missing
// browser fails the test: an unchecked report is not a passed one.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { planMatrix } from '../../harness/plan/matrix.ts';
import { parseModeSets } from '../../harness/plan/modes.ts';
import { runMatrix } from '../../harness/run/runner.ts';
import { loadSpecFile } from '../../harness/spec/load.ts';
import type { WorkloadInput } from '../../harness/spec/schema.ts';
import { runRecordOf, writeRun } from '../../harness/run/record.ts';
import { runEnvironment } from '../../harness/output/environment.ts';
import { buildReport, loadGateInput } from '../../harness/gate/report.ts';
import { reportHtml } from '../../harness/gate/html.ts';
import { judgeNight } from '../../harness/nightly/judge.ts';
import { nightlyHtml } from '../../harness/nightly/html.ts';
import { gateOf, night } from '../support/nights.ts';

const CHROMIUM = '/usr/bin/chromium';

/** Opens `page` in Chromium, hands the tab to `check`, and fails on any console or page error. */
async function inChromium(page: string, check: (tab: Page) => Promise<void>): Promise<void> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    tab.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    tab.on('pageerror', (e) => problems.push(e.message));
    await tab.goto(`file://${page}`);
    await check(tab);
    assert.equal(problems, [], 'no console error');
    await tab.screenshot({ path: page.replace(/\.html$/, '.png'), fullPage: true });
  } finally {
    await browser.close();
  }
}

test('the HTML report renders every chart in Chromium with no console error', async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (npm test does as root: scripts/provision-test-deps.sh)`);
  const tmp = mkdtempSync(join(tmpdir(), 'sb-html-'));
  const spec: WorkloadInput = {
    name: 'html',
    description: 'a small run to draw',
    serves: { classes: ['M1', 'M6'], verification: ['report'] },
    backends: ['memory'],
    concurrency: [1, 2],
    engine: { pageSize: 4096, pageCount: 128, fsync: 'off', versionsPerPage: 8 },
    fixture: { rows: 64 },
    mix: { read: 2, concurrent_write: 1, wait: 0.2 },
    keys: { distribution: 'uniform' },
    run: { duration_ms: 250 },
  };
  const file = join(tmp, 'html.json');
  writeFileSync(file, JSON.stringify(spec));
  const groups = planMatrix({ workloads: [loadSpecFile(file)], modeSets: parseModeSets('legacy,shadow_compare,new') });
  const runDir = join(tmp, 'run');
  const start = Date.now();
  // A stale M6 publication under shadow_compare: a fallback for the time line.
  const results = await runMatrix({ groups, rounds: 1, seed: 1, faults: { M6: { stale_publish: 0.5 } }, schedule: 'interleaved', runDir, sliceMs: 100 });
  const end = Date.now();
  const run = runRecordOf({
    run_id: 'html-test',
    started: new Date(start),
    ended: new Date(end),
    results,
    config: { seed: 1, rounds: 1, faults: { M6: { stale_publish: 0.5 } }, window_ms: 100 },
  });
  writeRun(runDir, run, results, start, end);
  for (const r of results) r.aggregate.destroy();
  const input = loadGateInput(runDir);
  const html = reportHtml(buildReport(input), input.run, input.summaries ?? []);
  const page = join(tmp, 'report.html');
  writeFileSync(page, html);
  assert.not.match(html, /<script/i, 'self-contained and static');

  await inChromium(page, async (tab) => {
    const charts = await tab.$$eval('svg.chart', (svgs) =>
      svgs.map((s) => ({ label: s.getAttribute('aria-label'), marks: s.querySelectorAll('path, circle').length, width: s.getBoundingClientRect().width })),
    );
    assert.ok(charts.length >= 5, `latency, throughput, retry/spin and timeline charts drawn (${charts.map((c) => c.label).join(', ')})`);
    for (const c of charts) assert.ok(c.marks > 0 && c.width > 100, `${c.label} has marks and a size`);
    assert.ok(
      charts.some((c) => c.label === 'fallback timeline'),
      'the fallback time line is drawn',
    );
    const verdicts = await tab.$$eval('tr.promote, tr.hold, tr.rollback', (rows) => rows.length);
    assert.is(verdicts, 3);
  });
});

test('the nightly HTML draws each moved metric night by night, with the change point marked', async () => {
  const nights = [
    ...Array.from({ length: 10 }, (_, i) => night(`n${i + 1}`, 1000 * (1 + (((i * 7) % 5) - 2) * 0.003))),
    ...[11, 12, 13, 14].map((i) => night(`n${i}`, 850)),
  ];
  const r = judgeNight({
    tonight: night('n15', 851),
    run_exit_code: 0,
    baseline_name: 'nightly',
    baseline: nights[0]!,
    history: nights,
    annotations: [],
    gate: gateOf(),
  });
  assert.ok(r.change_points.length > 0 && r.series.length > 0);
  const html = nightlyHtml(r);
  assert.not.match(html, /<script/i, 'self-contained and static');
  const tmp = mkdtempSync(join(tmpdir(), 'sb-nightly-html-'));
  const page = join(tmp, 'nightly.html');
  writeFileSync(page, html);
  await inChromium(page, async (tab) => {
    const charts = await tab.$$eval('svg.chart', (svgs) =>
      svgs.map((s) => ({ label: s.getAttribute('aria-label') ?? '', points: s.querySelectorAll('circle').length, legend: s.textContent ?? '' })),
    );
    assert.is(charts.length, r.series.length);
    // The deciding series: the median latency rose when throughput fell by 15%.
    const median = charts.find((c) => c.label.includes(':concurrent_write.latency_p50_ns'))!;
    assert.ok(median.points >= 15 + 2, `15 nights plus the baseline and change-point marks (${median.points})`);
    assert.match(median.legend, /step \(\+?1\d\.\d%\)/, median.legend);
  });
});

test.run();
