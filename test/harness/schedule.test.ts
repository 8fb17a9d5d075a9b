// The order of mode sets inside rounds is balanced (every mode set in every
// position, and after every other, equally often per block of rounds) and
// seeded; --target-mde keeps adding paired rounds until the comparisons can
// see the target, within --max-time, and refuses what it cannot do.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armOrder, balanceOf, williamsRows } from '../../harness/run/schedule.ts';
import { decidingArms, decidingLogRatios, targetMdeLoop } from '../../harness/run/target.ts';
import { MIN_DECIDING_OPS, sliceOps } from '../../harness/run/sizing.ts';
import { busiestShare } from '../../harness/spec/mix.ts';
import { loadSuite } from '../../harness/spec/load.ts';
import { planMatrix } from '../../harness/plan/matrix.ts';
import { DEFAULT_MODE_SETS, parseModeSets } from '../../harness/plan/modes.ts';
import { pairedMde } from '../../harness/gate/mde.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import { runCli as cli } from '../support/cli.ts';
import { assertRunRefuses } from '../support/usage.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sb-sched-'));

test('Williams rows: every arm in every position once per row set, every ordered pair adjacent equally often', () => {
  for (let k = 2; k <= 6; k++) {
    const rows = williamsRows(k);
    assert.is(rows.length, k % 2 === 0 ? k : 2 * k);
    const { positions, followers } = balanceOf(rows, k);
    const perPosition = rows.length / k;
    for (const row of positions) assert.equal(row, new Array(k).fill(perPosition), `k=${k} positions`);
    const adjacent = followers.flatMap((row, a) => row.filter((_, b) => a !== b));
    assert.ok(
      adjacent.every((n) => n === adjacent[0]),
      `k=${k}: each ordered pair follows equally often: ${JSON.stringify(followers)}`,
    );
    for (const row of rows) assert.equal([...row].sort(), [...Array(k).keys()], `k=${k}: a row is a permutation`);
  }
});

test('arm orders: balanced per block, seeded, a longer schedule extends a shorter one', () => {
  for (const arms of [2, 3, 4]) {
    const block = williamsRows(arms).length;
    const orders = armOrder(arms, 4 * block, 7, 'g');
    const { positions } = balanceOf(orders, arms);
    for (const row of positions)
      assert.equal(row, new Array(arms).fill((4 * block) / arms), `${arms} arms: each arm ${(4 * block) / arms} times in each position`);
    assert.equal(armOrder(arms, 2 * block + 1, 7, 'g'), orders.slice(0, 2 * block + 1), 'prefix-stable: rounds added later do not reorder earlier ones');
  }
  assert.equal(armOrder(3, 6, 1, 'g'), armOrder(3, 6, 1, 'g'), 'deterministic for a seed');
  assert.not.equal(armOrder(3, 12, 1, 'g'), armOrder(3, 12, 2, 'g'), 'another seed, another schedule');
  assert.not.equal(armOrder(3, 12, 1, 'g'), armOrder(3, 12, 1, 'h'), 'another group, another schedule');
});

test('slices: sized to the slice length, and never below the deciding floor of the busiest kind', () => {
  assert.is(busiestShare({ read: 2, concurrent_write: 1, wait: 0.25 }), 2 / 3.25);
  assert.is(busiestShare({ concurrent_write: 1 }), 1);
  // mixed-read-write c1 at ~4,000 ops/s: 100 ms is 400 operations, ~250 reads; the floor asks for 1,000 reads.
  assert.equal(sliceOps(4000, 100, 2 / 3.25, 1), { ops: Math.ceil(MIN_DECIDING_OPS / (2 / 3.25)), floored: true });
  // Four connections share the floor.
  assert.equal(sliceOps(4000, 100, 1, 4), { ops: 400, floored: false });
  assert.equal(sliceOps(1000, 100, 1, 4), { ops: 250, floored: true });
  assert.equal(sliceOps(50, 100, 1, 1, 0), { ops: 5, floored: false }, 'no floor (open loop): the asked length');
});

test("--target-mde works for the comparisons the gate judges, in the gate's family", () => {
  const workloads = loadSuite();
  const groups = planMatrix({ workloads, modeSets: DEFAULT_MODE_SETS, variants: ['reference', 'sqlite'], quick: true });
  const arms = decidingArms(groups);
  const judged = [...arms].filter(([, a]) => a.length > 0);
  // In every reference group on a workload M1, M6 or M11's card names, the arm of each judged class's primitive
  // alone; no shadow_compare arm, no SQLite group.
  const labels = (g: (typeof judged)[number]): string[] => g[1].map((i) => g[0].cells[i]!.modeSet.label).sort();
  assert.ok(
    judged.every(([g]) => g.key.startsWith('reference.')),
    judged.map(([g]) => g.key).join(', '),
  );
  const byWorkload = new Map(judged.map((j) => [j[0].cells[0]!.workload.spec.name, labels(j)]));
  assert.equal(Object.fromEntries(byWorkload), {
    'commutative-inserts': ['M11=sharded', 'M6=snapshot'],
    'hot-page-contention': ['M11=sharded'],
    'mixed-read-write': ['M1=polling', 'M6=snapshot'],
  });
  assert.is(
    judged.reduce((n, [, a]) => n + a.length, 0),
    20,
    'the gate judges 20 comparisons in the quick suite',
  );
  // The budget: what the later groups need for their --rounds is set aside, the rest shared by the groups that may ask.
  let clock = 0;
  const more = targetMdeLoop({ mde: 0.1, maxTimeMs: 600_000 }, groups, 0, () => clock);
  const first = groups.findIndex((g) => (arms.get(g)?.length ?? 0) > 0);
  const armsOf = (gs: typeof groups): number => gs.reduce((n, g) => n + g.cells.length, 0);
  clock = 5_000 * armsOf(groups.slice(0, first + 1)); // 5 s an arm so far
  // Shared with the later judged groups expected to ask: none seen yet, so half of the 11 others.
  const later = groups.slice(first + 1).filter((g) => (arms.get(g)?.length ?? 0) > 0).length;
  assert.is(later, 11);
  const allowance = (600_000 - clock - 5_000 * armsOf(groups.slice(first + 1))) / (1 + later / 2);
  assert.ok(allowance > 0, String(allowance));
  const none = new Map();
  assert.ok(more(groups[first]!, 12, none), 'no pair yet: the MDE is infinite, so another round');
  clock += allowance - 1;
  assert.ok(more(groups[first]!, 13, none), 'still within its allowance');
  clock += 2;
  assert.not.ok(more(groups[first]!, 14, none), 'allowance spent');
  // The next judged group: one of one seen so far missed the target, so two thirds of the later ones are expected to ask.
  const second = groups.findIndex((g, i) => i > first && (arms.get(g)?.length ?? 0) > 0);
  clock += 5_000 * armsOf(groups.slice(first + 1, second + 1));
  const spent = clock;
  const rest = (600_000 - spent - (spent * armsOf(groups.slice(second + 1))) / armsOf(groups.slice(0, second + 1))) / (1 + ((later - 1) * 2) / 3);
  assert.ok(more(groups[second]!, 12, none));
  clock += rest - 1;
  assert.ok(more(groups[second]!, 13, none), "within the second group's allowance");
  clock += 2;
  assert.not.ok(more(groups[second]!, 14, none), "the second group's allowance spent");
  assert.not.ok(
    more(
      groups.find((g) => arms.get(g)!.length === 0)!,
      12,
      none,
    ),
    'a group the gate does not judge never asks',
  );
  // Without a promotion candidate (A/A arms), every arm is compared with the baseline arm.
  const aa = decidingArms(planMatrix({ workloads, modeSets: parseModeSets('a:legacy,b:legacy,c:legacy'), quick: true }));
  assert.ok([...aa.values()].every((a) => a.length === 2));
});

test('--target-mde adds rounds until its budget, and the run records both', async () => {
  const out = join(tmp, 'target');
  // A target no A/A pair of three rounds can reach: the group runs on until its share of the budget is spent.
  const r = await cli([
    'run',
    '--workload',
    'commutative-inserts',
    '--backend',
    'memory',
    '--concurrency',
    '1',
    '--modes',
    'a:legacy,b:legacy',
    '--rounds',
    '3',
    '--duration',
    '20',
    '--target-mde',
    '0.0001',
    '--max-time',
    '12s',
    '--json',
    '--out',
    out,
    '-q',
  ]);
  assert.is(r.code, 0, r.stderr);
  const run = JSON.parse(readFileSync(join((JSON.parse(r.stdout) as { run_dir: string }).run_dir, 'run.json'), 'utf8')) as RunRecord;
  assert.equal([run.config.target_mde, run.config.max_time_ms], [0.0001, 12000]);
  const rounds = run.cells[0]!.rounds.length;
  assert.ok(rounds > 3, `rounds were added: ${rounds}`);
  assert.is(run.cells[1]!.rounds.length, rounds, 'both arms, pair by pair');
  assert.is(run.cells[0]!.schedule?.rounds.length, rounds, "every round's order is recorded");
  // A reachable target: rounds stop at the first one where every deciding comparison can see it.
  const easy = await cli([
    'run',
    '--workload',
    'commutative-inserts',
    '--backend',
    'memory',
    '--concurrency',
    '1',
    '--modes',
    'a:legacy,b:legacy',
    '--rounds',
    '3',
    '--duration',
    '20',
    '--target-mde',
    '0.5',
    '--json',
    '--out',
    out,
    '-q',
  ]);
  assert.is(easy.code, 0, easy.stderr);
  const [a, b] = (JSON.parse(readFileSync(join((JSON.parse(easy.stdout) as { run_dir: string }).run_dir, 'run.json'), 'utf8')) as RunRecord).cells;
  const mdeAt = (n: number): number => Math.max(...decidingLogRatios(a!.rounds.slice(0, n), b!.rounds.slice(0, n)).map((lr) => pairedMde(lr, 0.05 / 1)));
  const n = a!.rounds.length;
  assert.ok(mdeAt(n) <= 0.5, `the target is met at round ${n}: MDE ${mdeAt(n)}`);
  assert.ok(n === 3 || mdeAt(n - 1) > 0.5, `and not one round earlier: MDE ${mdeAt(n - 1)}`);
});

test('bad --target-mde and --max-time are usage errors naming the flag and the reason', async () => {
  const cases: [string[], RegExp][] = [
    [['--target-mde', '0'], /--target-mde must be a fraction in \(0, 1\)/],
    [['--target-mde', '1.5'], /--target-mde must be a fraction in \(0, 1\)/],
    [['--target-mde', 'five'], /--target-mde must be a fraction in \(0, 1\)/],
    [['--target-mde', '0.05', '--max-time', '1ms'], /--max-time 1ms cannot hold two rounds of this run/],
  ];
  await assertRunRefuses(cases, join(tmp, 'bad'));
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
