// `--max-time` without --target-mde: at most --rounds a group, fewer (never
// below --min-rounds) when the run would not end within the budget, about as
// many for every group; the run records the budget and what it trimmed to.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { roundBudgetLoop, type RoundBudget } from '../../harness/run/budget.ts';
import { armsOf } from '../../harness/run/twin.ts';
import { loadSuite } from '../../harness/spec/load.ts';
import { planMatrix } from '../../harness/plan/matrix.ts';
import { DEFAULT_MODE_SETS } from '../../harness/plan/modes.ts';
import { parseRunSettings } from '../../harness/cli/run-args.ts';
import { NIGHTLY_SHAPE } from '../../harness/nightly/shape.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import { runCli as cli } from '../support/cli.ts';
import { assertRunRefuses } from '../support/usage.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sb-budget-'));
const groups = planMatrix({ workloads: loadSuite(), modeSets: DEFAULT_MODE_SETS, quick: true });
const WARM = 1;

/**
 * Runs the groups on a simulated clock, as runGroup asks: each group's
 * set-up, its warm-up and first `minRounds` rounds, then a round more while
 * the loop says so. `armRoundMs(i)` is group i's time per arm and round.
 */
function simulate(budget: RoundBudget, maxRounds: number, setupMs: number, armRoundMs: (i: number) => number): { rounds: number[]; endMs: number } {
  let clock = 0;
  const more = roundBudgetLoop(budget, maxRounds, WARM, groups, 0, () => clock);
  const rounds = groups.map((g, i) => {
    const arms = armsOf(g, budget.twin === true);
    clock += setupMs + arms * (WARM + budget.minRounds) * armRoundMs(i);
    let r = budget.minRounds;
    while (more(g, r)) {
      clock += arms * armRoundMs(i);
      r++;
    }
    return r;
  });
  return { rounds, endMs: clock };
}

/** The simulated run's time with every group at `r` rounds. */
const runMs = (r: number, setupMs: number, armRoundMs: number, twin = false): number =>
  groups.reduce((ms, g) => ms + setupMs + armsOf(g, twin) * (WARM + r) * armRoundMs, 0);

test('a budget the rounds fit in: every group runs all of --rounds', () => {
  const full = runMs(12, 800, 250);
  const { rounds, endMs } = simulate({ maxTimeMs: full * 1.05, minRounds: 8 }, 12, 800, () => 250);
  assert.equal(
    rounds,
    groups.map(() => 12),
  );
  assert.is(endMs, full);
});

test("with a twin (the nightly's), each group measures one arm more: the budget counts it", () => {
  const withTwin = runMs(12, 800, 250, true);
  const fits = simulate({ maxTimeMs: withTwin * 1.05, minRounds: 8, twin: true }, 12, 800, () => 250);
  assert.equal(
    fits.rounds,
    groups.map(() => 12),
  );
  // The rounds fit only without the twin's share: trimmed about evenly, within the budget.
  const maxTimeMs = runMs(12, 800, 250);
  const { rounds, endMs } = simulate({ maxTimeMs, minRounds: 8, twin: true }, 12, 800, () => 250);
  assert.ok(endMs <= maxTimeMs * 1.01, `${endMs} ms within 1% of ${maxTimeMs}`);
  assert.ok(Math.min(...rounds) >= 8 && Math.max(...rounds) < 12 && Math.max(...rounds) - Math.min(...rounds) <= 2, rounds.join(','));
});

test('a slow machine: rounds trimmed about evenly, within the budget, never below --min-rounds', () => {
  // The budget of 12 rounds at 250 ms an arm-round, on a machine at 320.
  const maxTimeMs = runMs(12, 800, 250);
  const { rounds, endMs } = simulate({ maxTimeMs, minRounds: 8 }, 12, 800, () => 320);
  // Early projections may run over by a little (LENIENCY in budget.ts).
  assert.ok(endMs <= maxTimeMs * 1.01, `${endMs} ms within 1% of ${maxTimeMs}`);
  assert.ok(Math.min(...rounds) >= 8, rounds.join(','));
  // The first group decides before any round was timed alone, on an estimate on the slow side.
  assert.ok(Math.max(...rounds) - Math.min(...rounds) <= 2, `about as many rounds in every group: ${rounds.join(',')}`);
  assert.ok(Math.max(...rounds) < 12, rounds.join(','));
  // Little of the budget is left unspent: one round more of every group would not have fit.
  const oneMore = runMs(1, 0, 320) - runMs(0, 0, 320);
  assert.ok(maxTimeMs - endMs < oneMore, `${maxTimeMs - endMs} ms left, one round of every group takes ${oneMore}`);
});

test('the machine slows down mid-run: later groups are trimmed more, the budget holds within 2%', () => {
  const maxTimeMs = runMs(12, 800, 250) * 1.02;
  const half = groups.length / 2;
  const { rounds, endMs } = simulate({ maxTimeMs, minRounds: 8 }, 12, 800, (i) => (i < half ? 250 : 320));
  // Later groups are projected at the groups done, a slowdown is seen late, and early projections may run a little over.
  assert.ok(endMs <= maxTimeMs * 1.02, `${endMs} ms within 2% of ${maxTimeMs}`);
  assert.ok(rounds[0] === 12 && Math.min(...rounds) >= 8, rounds.join(','));
  assert.ok(rounds.at(-1)! < 12, `the slow half is trimmed: ${rounds.join(',')}`);
});

test('groups of unlike cost (file c4 rounds dearer than memory c1 ones): the budget holds', () => {
  const cost = (i: number): number => [200, 250, 420, 300, 180][i % 5]!;
  const full = groups.reduce((ms, g, i) => ms + 800 + g.cells.length * (WARM + 12) * cost(i), 0);
  for (const [maxTimeMs, machine] of [
    [full * 0.85, 1],
    [full, 1.25],
  ] as const) {
    const { rounds, endMs } = simulate({ maxTimeMs, minRounds: 8 }, 12, 800, (i) => cost(i) * machine);
    assert.ok(endMs <= maxTimeMs, `${endMs} ms within ${maxTimeMs}: ${rounds.join(',')}`);
    assert.ok(Math.min(...rounds) >= 8 && Math.max(...rounds) > 8, rounds.join(','));
  }
});

test("a budget with 10% to spare trims next to nothing, though the first group also pays the run's start-up", () => {
  const cost = (i: number): number => [200, 250, 420, 300, 180][i % 5]!;
  const full = groups.reduce((ms, g, i) => ms + 800 + g.cells.length * (WARM + 12) * cost(i), 0);
  // Later groups are projected at the groups done: a dear group early (420) costs a round here or there.
  const roomy = simulate({ maxTimeMs: full * 1.1, minRounds: 8 }, 12, 800, cost).rounds;
  assert.ok(Math.min(...roomy) >= 11 && roomy.filter((r) => r < 12).length <= 2, roomy.join(','));
  // 2 s of threads, fixtures and compilation before the first group's rounds: spread over the groups done, it costs
  // the later ones little.
  let clock = 0;
  const more = roundBudgetLoop({ maxTimeMs: full * 1.1 + 2000, minRounds: 8 }, 12, WARM, groups, 0, () => clock);
  const rounds = groups.map((g, i) => {
    clock += (i === 0 ? 2000 : 0) + 800 + g.cells.length * (WARM + 8) * cost(i);
    let r = 8;
    while (more(g, r)) {
      clock += g.cells.length * cost(i);
      r++;
    }
    return r;
  });
  assert.ok(Math.min(...rounds.slice(1)) >= 11 && rounds.slice(1).filter((r) => r < 12).length <= 2, rounds.join(','));
});

test('a budget too short for more: every group runs --min-rounds, and no more', () => {
  const { rounds } = simulate({ maxTimeMs: 1000, minRounds: 8 }, 12, 800, () => 250);
  assert.equal(
    rounds,
    groups.map(() => 8),
  );
  const same = simulate({ maxTimeMs: 1e9, minRounds: 12 }, 12, 800, () => 250);
  assert.equal(
    same.rounds,
    groups.map(() => 12),
    '--min-rounds = --rounds: nothing to trim',
  );
});

test("the nightly's shape has its budget; rounds or slices asked for by hand run in full", () => {
  assert.equal(parseRunSettings({}, NIGHTLY_SHAPE).budget, { maxTimeMs: 165_000, minRounds: 8, twin: true });
  assert.is(parseRunSettings({ rounds: '12' }, NIGHTLY_SHAPE).budget, null);
  assert.is(parseRunSettings({ duration: '100' }, NIGHTLY_SHAPE).budget, null);
  assert.equal(parseRunSettings({ duration: '100', 'max-time': '2m' }, NIGHTLY_SHAPE).budget, { maxTimeMs: 120_000, minRounds: 8, twin: true });
  assert.is(parseRunSettings({}).budget, null, 'run: no budget unless --max-time');
});

const A_A = [
  'run',
  '--workload',
  'commutative-inserts',
  '--backend',
  'memory',
  '--concurrency',
  '1',
  '--modes',
  'a:legacy,b:legacy',
  '--duration',
  '20',
  '--json',
  '-q',
];
const roundsRun = async (args: string[]): Promise<RunRecord> => {
  const r = await cli([...A_A, ...args, '--out', join(tmp, 'runs')]);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(readFileSync(join((JSON.parse(r.stdout) as { run_dir: string }).run_dir, 'run.json'), 'utf8')) as RunRecord;
};

test('run --max-time alone trims the rounds to the budget and records it', async () => {
  // A group's set-up alone (pool, fixture, calibration, warm-up) takes longer than a second: nothing past --min-rounds fits.
  const tight = await roundsRun(['--rounds', '6', '--max-time', '1s']);
  assert.equal([tight.config.rounds, tight.config.min_rounds, tight.config.max_time_ms], [6, 4, 1000]);
  assert.equal(
    tight.cells.map((c) => c.rounds.length),
    [4, 4],
    'both arms, trimmed to --min-rounds',
  );
  const roomy = await roundsRun(['--rounds', '6', '--max-time', '10m', '--min-rounds', '3']);
  assert.equal([roomy.config.min_rounds, roomy.config.max_time_ms], [3, 600_000]);
  assert.equal(
    roomy.cells.map((c) => c.rounds.length),
    [6, 6],
    'all of --rounds fit',
  );
  const plain = await roundsRun(['--rounds', '3']);
  assert.equal([plain.config.min_rounds, plain.config.max_time_ms], [null, null]);
});

test('bad --min-rounds and --max-time are usage errors naming the flag and the reason', async () => {
  const cases: [string[], RegExp][] = [
    [['--min-rounds', '4'], /--min-rounds bounds the rounds --max-time trims, which is not given/],
    [['--target-mde', '0.05', '--min-rounds', '4'], /--target-mde adds rounds past --rounds instead/],
    [['--max-time', '3m', '--rounds', '6', '--min-rounds', '7'], /--min-rounds 7 is more than --rounds 6/],
    [['--max-time', '3m', '--min-rounds', '0'], /--min-rounds must be an integer >= 1/],
    [['--max-time', '1ms'], /--max-time 1ms cannot hold 8 rounds of this run/],
  ];
  await assertRunRefuses(cases, join(tmp, 'bad'));
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
