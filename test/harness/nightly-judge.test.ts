// The nightly verdict on synthetic nights whose truth is known: a clear
// regression against the baseline fails the night; a muted metric is shown
// with its reason and does not; a regression within the night-to-night noise
// is suspect, and a night that cannot see a 10% change is inconclusive (exit
// 3, or 0 when accepted); a step in the history is a change point until
// acknowledged; one wild night is no change point; a rollback verdict fails
// the night; the report is byte-stable.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { judgeNight, type Annotation, type NightlyInput } from '../../harness/nightly/judge.ts';
import { nightlyJson, nightlyMarkdown } from '../../harness/nightly/report.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import { buildReport } from '../../harness/gate/report.ts';
import { NIGHT_GATE } from '../../harness/nightly/shape.ts';
import { CELL, gateOf, night } from '../support/nights.ts';

/** The deciding metric: the cell's median latency (its throughput is reported beside, never deciding). */
const KEY = `${CELL}:concurrent_write.latency_p50_ns`;

const input = (tonight: RunRecord, o: Partial<NightlyInput> = {}): NightlyInput => ({
  tonight,
  run_exit_code: 0,
  baseline_name: 'nightly',
  baseline: null,
  history: [],
  annotations: [],
  gate: gateOf(),
  ...o,
});
const ann = (a: Partial<Annotation> & Pick<Annotation, 'kind' | 'metric'>): Annotation => ({
  at_run: null,
  reason: 'because',
  created_by: 'alice',
  created_at: '2026-11-20T00:00:00.000Z',
  ...a,
});
const flat = (n: number, level = 1000): RunRecord[] => Array.from({ length: n }, (_, i) => night(`n${i + 1}`, level * (1 + (((i * 7) % 5) - 2) * 0.003)));

test('no baseline: no regression, and the report says how to accept one', () => {
  const r = judgeNight(input(night('n1', 1000)));
  assert.is(r.exit_code, 0);
  assert.is(r.baseline.run_id, null);
  assert.match(r.baseline.why_not!, /no accepted baseline 'nightly' for hardware signature hw \(accept one with --accept\)/);
  assert.match(nightlyMarkdown(r), /no regression/);
});

test('20% lower throughput (25% higher median latency) than the baseline is a regression with its numbers (once the noise is known)', () => {
  const calibrating = judgeNight(input(night('n2', 800), { baseline: night('n1', 1000), history: [night('n1', 1000)] }));
  assert.is(calibrating.exit_code, 3, 'one night of history: the night-to-night noise is unknown, so the night cannot tell (fails closed)');
  assert.is(calibrating.outcome, 'inconclusive');
  assert.match(calibrating.findings.find((x) => x.key === KEY)!.note!, /calibrating: 1 of 5 nights of history/);
  assert.match(
    calibrating.inconclusive[0]!,
    /could have missed a change larger than 10\.0%; widest: .* \(MDE ∞, night-to-night noise not yet known: 5 nights needed\)/,
  );
  assert.match(nightlyMarkdown(calibrating), /inconclusive/);
  assert.is(
    judgeNight(input(night('n2', 800), { baseline: night('n1', 1000), history: [night('n1', 1000)], options: { accept_inconclusive: true } })).exit_code,
    0,
    'accepted',
  );
  const steady = flat(5);
  const r = judgeNight(input(night('n6', 800), { baseline: steady[0]!, history: steady }));
  assert.is(r.exit_code, 1);
  assert.is(r.outcome, 'regression');
  const f = r.findings.find((x) => x.key === KEY)!;
  assert.is(f.status, 'regressed');
  assert.ok(Math.abs(f.comparison.relative_diff - 0.25) < 0.01);
  assert.ok(
    r.reasons.some((x) => x.includes(KEY) && /(24|25)\.\d%/.test(x) && /p=0\.0000, Holm-adjusted 0\.0000/.test(x) && /MDE \d+\.\d%/.test(x)),
    r.reasons.join('\n'),
  );
  assert.ok(f.night_noise!.outside && f.mde !== null, 'beyond the night-to-night noise of the steady history');
  assert.match(nightlyMarkdown(r), /Regressions against the baseline/);
});

test('a tail-latency regression alone is reported, not failed', () => {
  const tonight = night('n2', 1000);
  for (const r of tonight.cells[0]!.rounds) r.latency_ns['concurrent_write']!.p99 *= 3;
  const r = judgeNight(input(tonight, { baseline: night('n1', 1000), options: { min_noise_nights: 0 } }));
  assert.is(r.findings.find((f) => f.key === `${CELL}:concurrent_write.latency_p99_ns`)!.status, 'tail');
  assert.is(r.exit_code, 0, r.reasons.join('\n'));
  assert.match(nightlyMarkdown(r), /Tail latency regressions \(reported, not failed\)/);
});

test('a muted metric is shown with its reason and not judged; unmute restores it', () => {
  const mute = ann({ kind: 'mute', metric: `${CELL}:*`, reason: 'noisy neighbour on this runner' });
  const o = { baseline: night('n1', 1000), options: { min_noise_nights: 0 } };
  const r = judgeNight(input(night('n2', 800), { ...o, annotations: [mute] }));
  assert.is(r.exit_code, 0, r.reasons.join('\n'));
  assert.is(r.findings.find((x) => x.key === KEY)!.status, 'muted');
  assert.is(r.muted[0]!.reason, 'noisy neighbour on this runner');
  assert.ok(r.muted[0]!.applies_to.includes(KEY));
  assert.match(nightlyMarkdown(r), /muted `reference\.commutative-inserts\.memory\.c1\.new:\*` .* by alice .*: noisy neighbour on this runner/);
  const unmuted = judgeNight(
    input(night('n2', 800), { ...o, annotations: [mute, ann({ kind: 'unmute', metric: `${CELL}:*`, created_at: '2026-11-21T00:00:00.000Z' })] }),
  );
  assert.is(unmuted.exit_code, 1);
  assert.equal(unmuted.muted, []);
});

test('a significant drop within the night-to-night noise of the history is suspect, not a failure', () => {
  const wild = [1000, 700, 1250, 820, 1150, 760, 1300].map((x, i) => night(`n${i + 1}`, x));
  const r = judgeNight(input(night('n8', 850), { baseline: wild[0]!, history: wild }));
  const f = r.findings.find((x) => x.key === KEY)!;
  assert.is(f.status, 'suspect');
  assert.match(f.note!, /within the night-to-night noise of the last 7 nights/);
  assert.is(r.exit_code, 3, 'nights this wild hide far more than 10%: inconclusive, not passed');
  assert.ok(f.mde! > 0.5, `what such a history lets a night see: ${f.mde}`);
});

/** A night on a machine `factor` times slower: every latency × factor, throughput ÷ factor, and the yardstick's reading with them. */
function onMachine(r: RunRecord, factor: number, yardstick = 'y/1'): RunRecord {
  const cells = r.cells.map((c) => ({
    ...c,
    rounds: c.rounds.map((x) => ({
      ...x,
      throughput_ops_s: x.throughput_ops_s / factor,
      latency_ns: Object.fromEntries(
        Object.entries(x.latency_ns).map(([k, h]) => [k, Object.fromEntries(Object.entries(h).map(([q, v]) => [q, q === 'count' ? v : v * factor]))]),
      ) as typeof x.latency_ns,
      yardstick_ns: 250_000 * factor,
    })),
  }));
  return { ...r, cells, config: { ...r.config, yardstick } };
}

test("nights at the machine's own speed each: the yardstick puts them at one, so a 15% regression stands out of a wild history", () => {
  const speeds = [1, 1.43, 0.8, 1.22, 0.87, 1.32, 0.77];
  const history = speeds.map((f, i) => onMachine(night(`n${i + 1}`, 1000), f));
  const tonight = onMachine(night('n8', 1000 / 1.15), 1.25);
  const r = judgeNight(input(tonight, { baseline: history[0]!, history }));
  const f = r.findings.find((x) => x.key === KEY)!;
  assert.is(f.status, 'regressed', f.note ?? '');
  assert.ok(f.night_noise!.outside && f.night_noise!.sd_log < 0.01, `at one speed the history is flat (sd ${f.night_noise!.sd_log})`);
  assert.ok(Math.abs(f.comparison.relative_diff - 0.15) < 0.01 && f.comparison.speed === 'yardstick', `+15% (${f.comparison.relative_diff})`);
  assert.is(r.exit_code, 1);
  // The same nights without readings are as wild as their machine: the drop hides in their noise.
  const strip = (x: RunRecord): RunRecord => ({ ...x, config: { ...x.config, yardstick: undefined } });
  const blind = judgeNight(input(strip(tonight), { baseline: strip(history[0]!), history: history.map(strip) }));
  assert.is(blind.findings.find((x) => x.key === KEY)?.status ?? 'no_change', 'suspect', 'as measured, within the noise');
});

test('a new yardstick restarts the history at its first night: old nights are left out, not the speed', () => {
  // Seven wild nights timed with another yardstick, then nights with tonight's: those alone are judged, at one speed.
  const old = [1, 1.43, 0.8, 1.22, 0.87, 1.32, 0.77].map((f, i) => onMachine(night(`o${i + 1}`, 1000), f, 'y/0'));
  const fresh = [1.1, 0.9, 1.3, 0.85, 1.2].map((f, i) => onMachine(night(`n${i + 1}`, 1000), f));
  const tonight = onMachine(night('n6', 1000 / 1.15), 1.25);
  const r = judgeNight(input(tonight, { baseline: fresh[0]!, history: [...old, ...fresh] }));
  const f = r.findings.find((x) => x.key === KEY)!;
  assert.is(f.status, 'regressed', f.note ?? '');
  assert.is(f.night_noise!.nights, 5, 'the old nights are not in the noise history');
  assert.ok(f.night_noise!.sd_log < 0.01, `at one speed the new history is flat (sd ${f.night_noise!.sd_log})`);
  // Three nights of the new yardstick are not yet enough to know the noise: a regression is suspect, not failed.
  const early = judgeNight(input(tonight, { baseline: fresh[0]!, history: [...old, ...fresh.slice(0, 3)] }));
  const e = early.findings.find((x) => x.key === KEY)!;
  assert.is(e.status, 'suspect');
  assert.match(e.note!, /calibrating: 3 of 5 nights/);
});

test('a step in the history is a change point for the worse until acknowledged', () => {
  const before = flat(10);
  const after = [11, 12, 13, 14].map((i) => night(`n${i}`, 850 * (1 + ((i % 3) - 1) * 0.003)));
  const tonight = night('n15', 852);
  // The baseline was accepted after the step, so only the history can see it.
  const o = { baseline: after[0]!, history: [...before, ...after] };
  const r = judgeNight(input(tonight, o));
  const cp = r.change_points.find((c) => c.key === KEY)!;
  assert.ok(cp !== undefined, JSON.stringify(r.change_points));
  assert.is(cp.kind, 'step');
  assert.is(cp.at_run, 'n11');
  assert.is(cp.direction, 'regressed');
  assert.is(cp.status, 'new');
  assert.ok(cp.relative_change > 0.1, `the median rose: ${cp.relative_change}`);
  assert.is(cp.acknowledge, `shadowbench nightly ack '${KEY}' --at n11 --reason '…'`);
  assert.is(r.exit_code, 1);
  assert.ok(
    r.reasons.some((x) => x.startsWith(`step in the history of ${KEY} at n11`)),
    r.reasons.join('\n'),
  );

  const acked = judgeNight(
    input(tonight, { ...o, annotations: [ann({ kind: 'acknowledge', metric: KEY, at_run: 'n11', reason: 'new allocator, expected' })] }),
  );
  assert.not.ok(
    acked.change_points.some((c) => c.key === KEY),
    'the history restarts at the acknowledged night',
  );
  assert.is(acked.acknowledged[0]!.reason, 'new allocator, expected');
  assert.match(nightlyMarkdown(acked), /acknowledged `.*:concurrent_write\.latency_p50_ns` from night `n11` by alice .*: new allocator, expected/);
});

test('one wild night is not a change point', () => {
  const history = flat(12);
  history[6] = night('n7', 600);
  const r = judgeNight(input(night('n13', 1000), { baseline: history[0]!, history }));
  assert.equal(r.change_points, []);
  assert.is(r.reasons.length, 0, r.reasons.join('\n'));
  assert.is(r.exit_code, 3, 'no regression, but the wild night widens what the history can see beyond 10%');
});

/**
 * A night of one group, legacy beside M6=snapshot, 12 paired rounds: the
 * snapshot arm's median write latency `slower` above legacy's, with a
 * deterministic round-to-round spread of about 2% (`phase` shifts it).
 */
function pairNight(id: string, slower: number, phase = 0): RunRecord {
  const base = night(id, 1000);
  const legacy = base.cells[0]!;
  const rounds = (k: number) =>
    Array.from({ length: 12 }, (_, i) => {
      const wobble = k === 0 ? 0 : 0.02 * Math.sin(1.7 * i + phase);
      const p50 = 1e6 * (1 + 0.01 * (i % 3)) * (k === 0 ? 1 : (1 + slower) * (1 + wobble));
      return {
        ...legacy.rounds[0]!,
        round: i + 1,
        throughput_ops_s: 1e9 / p50,
        latency_ns: { concurrent_write: { ...legacy.rounds[0]!.latency_ns['concurrent_write']!, p50 } },
      };
    });
  const cell = (k: number) => ({
    ...legacy,
    id: `reference.commutative-inserts.memory.c1.${k === 0 ? 'legacy' : 'M6=snapshot'}`,
    mode_set: k === 0 ? 'legacy' : 'M6=snapshot',
    control_modes: { ...legacy.control_modes, M6: k === 0 ? ('legacy' as const) : ('snapshot' as const) },
    rounds: rounds(k),
  });
  return { ...base, cells: [cell(0), cell(1)], totals: { ...base.totals, cells: 2 } };
}
const gateOfRun = (run: RunRecord) => buildReport({ run, counters: new Map() }, NIGHT_GATE);

test('a rollback on a regression the baseline had too, not larger tonight, is known; a larger one fails the night', () => {
  const baseline = pairNight('n1', 0.05);
  const opts = { baseline, baseline_verdicts: { M6: 'hold' }, options: { min_noise_nights: 0 } };
  const same = pairNight('n2', 0.05, 1);
  const sameGate = gateOfRun(same);
  const m6 = sameGate.verdicts.find((v) => v.metadata_class === 'M6')!;
  assert.is(m6.verdict, 'rollback', 'the gate itself still says rollback on a 5% regression');
  assert.equal(m6.rollback_causes, ['regression']);
  const known = judgeNight(input(same, { ...opts, gate: sameGate }));
  assert.is(known.reasons.length, 0, known.reasons.join('\n'));
  assert.match(
    known.known[0]!,
    /^M6 rollback on a regression the baseline had too, not significantly larger tonight: reference\.commutative-inserts\.memory\.c1 concurrent_write\.latency_p50_ns 5\.\d% tonight, 5\.\d% \[/,
  );
  const larger = pairNight('n2', 0.15, 1);
  const worse = judgeNight(input(larger, { ...opts, gate: gateOfRun(larger) }));
  assert.is(worse.exit_code, 1, "three times the baseline's regression is new");
  assert.match(worse.reasons[0]!, /^gate: M6 rollback: significant regression/);
  // Not by size: a contract breach fails the night whatever the baseline's comparisons.
  assert.is(judgeNight(input(same, { ...opts, gate: gateOf('rollback') })).exit_code, 1);
});

test('a rollback verdict (new since the baseline) or a failed run fails the night', () => {
  assert.is(judgeNight(input(night('n1', 1000), { gate: gateOf('rollback') })).exit_code, 1);
  assert.is(judgeNight(input(night('n2', 1000), { gate: gateOf('rollback'), baseline: night('n1', 1000), baseline_verdicts: { M6: 'hold' } })).exit_code, 1);
  const standing = judgeNight(
    input(night('n2', 1000), {
      gate: gateOf('rollback'),
      baseline: night('n1', 1000),
      baseline_verdicts: { M6: 'rollback' },
      options: { min_noise_nights: 0 },
    }),
  );
  assert.is(standing.exit_code, 0, 'a rollback the baseline already had is known, not new');
  assert.match(standing.known[0]!, /^M6 rollback, as at the baseline: shadow_divergences = 3/);
  assert.match(nightlyMarkdown(standing), /Known \(already at the baseline, not failed\)/);
  const failed = judgeNight(input(night('n1', 1000), { run_exit_code: 1 }));
  assert.is(failed.exit_code, 1);
  assert.match(failed.reasons[0]!, /the run failed/);
});

test('the same nights give a byte-identical report', () => {
  const o = { baseline: night('n1', 1000), history: flat(8) };
  const a = nightlyJson(judgeNight(input(night('n9', 930), o)));
  assert.is(nightlyJson(judgeNight(input(night('n9', 930), o))), a);
  assert.match(JSON.parse(a).trace_correlation as string, /^[0-9a-f]{64}$/);
});

test.run();
