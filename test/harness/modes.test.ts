// Mode sets: named sets, faults scoped to one set, and the --modes text that
// reproduces a set. The end-to-end case proves a scoped delay slows its own
// arm's M6 path and not the other arm of the same interleaved run.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyInjections, faultsOf, ModeSetError, modeSetArg, parseModeSet, parseModeSets, requirementModeSets } from '../../harness/plan/modes.ts';
import { parseRunSettings } from '../../harness/cli/run-args.ts';
import { NIGHTLY_SHAPE } from '../../harness/nightly/shape.ts';
import { planMatrix } from '../../harness/plan/matrix.ts';
import { runMatrix } from '../../harness/run/runner.ts';
import { runRecordOf } from '../../harness/run/record.ts';
import { loadSuite } from '../../harness/spec/load.ts';

test('a named set keeps its modes under its own label; the same modes may run twice', () => {
  const [a, b] = parseModeSets('a:legacy,b:M6=snapshot');
  assert.is(a!.label, 'a');
  assert.equal(a!.modes, { M1: 0, M6: 0, M11: 0 });
  assert.is(b!.label, 'b');
  assert.is(b!.modes.M6, 2);
  assert.is(parseModeSets('x:legacy,y:legacy').length, 2);
  assert.throws(
    () => parseModeSets('x:legacy,x:new'),
    (e: Error) => e instanceof ModeSetError && /x is given twice/.test(e.message),
  );
  assert.throws(() => parseModeSet('new:legacy'), /must not be a mode name/);
  assert.throws(() => parseModeSet('twin:legacy'), /names the twin arm/);
  assert.throws(
    () => parseModeSet('a:M6=bogus'),
    (e: Error) => e instanceof ModeSetError,
  );
});

test('modeSetArg gives --modes text that parses back to the same set', () => {
  for (const text of ['legacy', 'new', 'shadow_compare', 'M6=snapshot+M11=sharded', 'slow:legacy', 'cand:M1=polling']) {
    const set = parseModeSet(text);
    const again = parseModeSet(modeSetArg(set));
    assert.is(again.label, set.label, text);
    assert.equal(again.modes, set.modes, text);
  }
});

test('--inject FAULT@SET scopes to that set; without @ it is run-wide; an unknown set is named', () => {
  const sets = parseModeSets('a:legacy,b:legacy');
  const { faults, modeSets } = applyInjections(['M6.delay_ns=900@b', 'M11.misroute=0.5'], sets);
  assert.equal(faults, { M11: { misroute: 0.5 } });
  assert.equal(modeSets[0]!.faults, {});
  assert.equal(modeSets[1]!.faults, { M6: { delay_ns: 900 } });
  assert.equal(sets[1]!.faults, {}, 'the input sets are not changed');
  assert.equal(faultsOf(faults, modeSets[1]!), { M11: { misroute: 0.5 }, M6: { delay_ns: 900 } });
  assert.equal(
    faultsOf({ M6: { stale_publish: 0.1 } }, modeSets[1]!),
    { M6: { stale_publish: 0.1, delay_ns: 900 } },
    'a set adds to the run-wide faults of a class',
  );
  assert.throws(() => applyInjections(['M6.delay_ns=900@c'], sets), /no mode set 'c' in this run \(mode sets: a, b\)/);
  assert.throws(() => applyInjections(['M6.delay_ns=oops@b'], sets), /M6\.delay_ns must be a non-negative number/);
  assert.throws(() => applyInjections(['M6.delay_ns=oops@b'], sets), /^--inject M6\.delay_ns=oops@b: /, 'the whole argument is named, scope included');
});

test('TXN.delay_ns: CPU work on every transaction, delay_ns only, scoped like any fault', () => {
  const { faults, modeSets } = applyInjections(['TXN.delay_ns=2000@b'], parseModeSets('a:legacy,b:legacy'));
  assert.equal(faults, {});
  assert.equal(modeSets[1]!.faults, { TXN: { delay_ns: 2000 } });
  assert.throws(() => applyInjections(['TXN.stale_publish=0.1'], parseModeSets('a:legacy')), /faults\.TXN\.stale_publish TXN takes delay_ns only/);
  assert.throws(() => applyInjections(['TXX.delay_ns=1'], parseModeSets('a:legacy')), /expected CLASS\.FAULT=VALUE/);
});

test("a cell run only for the cards' requirements runs legacy and each requiring card's primitive; sets named by hand all run", () => {
  const defaults = parseModeSets(undefined);
  assert.equal(
    requirementModeSets(defaults, ['M1']).map((s) => s.label),
    ['legacy', 'M1=polling'],
  );
  assert.equal(
    requirementModeSets(defaults, ['M6', 'M11']).map((s) => s.label),
    ['legacy', 'M6=snapshot', 'M11=sharded'],
  );
  // A --inject copies the sets; they are still the defaults.
  assert.equal(
    requirementModeSets(applyInjections(['M6.delay_ns=10'], defaults).modeSets, ['M11']).map((s) => s.label),
    ['legacy', 'M11=sharded'],
  );
  const named = parseModeSets('a:legacy,b:M1=polling,c:new');
  assert.equal(requirementModeSets(named, ['M1']), named);

  // The nightly's c8 cells: each requirement cell, once, with the arms its cards judge.
  const c8 = parseRunSettings({}, NIGHTLY_SHAPE).groups.filter((g) => g.cells[0]!.concurrency === 8);
  assert.ok(c8.length > 0, 'the nightly runs the c8 cells the cards require');
  const keys = c8.map((g) => g.key);
  assert.is(new Set(keys).size, keys.length, 'no requirement cell is planned twice');
  for (const g of c8) {
    const labels = g.cells.map((c) => c.modeSet.label);
    assert.is(labels[0], 'legacy', g.key);
    assert.ok(labels.length >= 2 && labels.length < defaults.length, `${g.key}: ${labels.join(', ')}`);
    for (const l of labels.slice(1)) assert.match(l, /^M(1|6|11)=/, g.key);
  }
  const explicit = parseRunSettings({ modes: 'a:legacy,b:legacy' }, NIGHTLY_SHAPE).groups.filter((g) => g.cells[0]!.concurrency === 8);
  for (const g of explicit)
    assert.equal(
      g.cells.map((c) => c.modeSet.label),
      ['a', 'b'],
      g.key,
    );
});

for (const [fault, slows] of [
  ['M6', 'M6 path'],
  ['TXN', 'transactions'],
] as const)
  test(`a ${fault} delay scoped to arm b slows b's ${slows} only, in one interleaved run`, async () => {
    // Well above an operation's own time (25-55 µs here, every record sampled), so neither check rides on the machine's speed.
    const DELAY_NS = 200_000;
    const dir = mkdtempSync(join(tmpdir(), 'sb-modes-'));
    try {
      const workload = loadSuite().find((w) => w.spec.name === 'commutative-inserts')!;
      const { faults, modeSets } = applyInjections([`${fault}.delay_ns=${DELAY_NS}@b`], parseModeSets('a:legacy,b:legacy'));
      const groups = planMatrix({ workloads: [workload], modeSets, backends: ['memory'], concurrency: [1], duration_ms: 150 });
      const results = await runMatrix({ groups, rounds: 2, seed: 5, faults, schedule: 'interleaved', runDir: join(dir, 'run'), sampleRatio: 1 });
      const run = runRecordOf({ run_id: 'modes', started: new Date(), ended: new Date(), results, config: { seed: 5, rounds: 2 } });
      const [a, b] = run.cells;
      assert.equal(a!.faults, {});
      assert.equal(b!.faults, { [fault]: { delay_ns: DELAY_NS } });
      const p50 = (i: number): number => results[i]!.aggregate.summaries()['op.concurrent_write.latency_ns']!.p50;
      assert.ok(p50(1) >= DELAY_NS, `arm b's transactions include the delay: p50 ${p50(1)} ns`);
      assert.ok(p50(0) < DELAY_NS, `arm a's do not: p50 ${p50(0)} ns`);
      for (const r of results) r.aggregate.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

test.run();
