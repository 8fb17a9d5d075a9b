// The `run` verb's options, checked and planned before anything runs. Shared
// by `run`, `replay` and `profile` (which must know the cells before it
// starts clinic, and refuse bad input without profiling anything).

import { TWIN_BUILD } from '../runtime/yardstick.ts';
import { armsOf } from '../run/twin.ts';
import { fileURLToPath } from 'node:url';
import { BACKENDS, EngineError, SWITCHABLE_CLASSES, type Backend, type FaultConfig, type SwitchableClass } from '../../engine/index.ts';
import { DEFAULT_EXTERNAL_TIMEOUT_MS, ENGINE_VARIANTS, engineAdapters, isEngineVariant, type EngineAdapters, type EngineVariant } from '../engines/index.ts';
import { planMatrix, type Group } from '../plan/matrix.ts';
import { applyInjections, ModeSetError, parseModeSets, requirementModeSets, type ModeSet } from '../plan/modes.ts';
import { DEFAULT_SLICE_MS } from '../run/runner.ts';
import type { TargetMde } from '../run/target.ts';
import { defaultMinRounds, type RoundBudget } from '../run/budget.ts';
import { DEFAULT_SAMPLE_RATIO } from '../record/recorder.ts';
import { SpecError, resolveWorkloads } from '../spec/load.ts';
import { CARDS, TRIGGERS } from '../cards/cards.ts';
import { parseProfile, type TriggerConfig } from '../cards/evaluator.ts';
import type { KillSwitchProfile } from '../cards/types.ts';
import { parsePushUrl, PushUrlError } from '../telemetry/serve.ts';
import { otlpTracesUrl, SpanUrlError } from '../telemetry/spans.ts';
import type { RunSettings } from '../run/settings.ts';
import { UsageError, type parseVerbArgs } from './verb.ts';

export const RUN_OPTIONS = {
  workload: { type: 'string', multiple: true },
  variant: { type: 'string', multiple: true },
  'engine-cmd': { type: 'string' },
  'engine-timeout': { type: 'string' },
  backend: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  modes: { type: 'string' },
  rounds: { type: 'string' },
  'warmup-rounds': { type: 'string' },
  seed: { type: 'string' },
  duration: { type: 'string' },
  'target-mde': { type: 'string' },
  'max-time': { type: 'string' },
  'min-rounds': { type: 'string' },
  inject: { type: 'string', multiple: true },
  threshold: { type: 'string', multiple: true },
  'kill-switch': { type: 'string', multiple: true },
  out: { type: 'string' },
  full: { type: 'boolean' },
  record: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
  'metrics-port': { type: 'string' },
  push: { type: 'string' },
  otlp: { type: 'string' },
  'sample-ratio': { type: 'string' },
  'shadow-sample': { type: 'string' },
  twin: { type: 'boolean' },
} as const;

export type RunValues = ReturnType<typeof parseVerbArgs<typeof RUN_OPTIONS>>['values'];

export const RESULTS_DIR = fileURLToPath(new URL('../../results/', import.meta.url));

/** What a caller of `run` (the nightly) sets beyond its options. */
export interface RunShape {
  /** Rounds when --rounds is absent. */
  defaultRounds?: number;
  /** The slice length when --duration is absent. */
  sliceMs?: number;
  /** Add a group for every one-machine E2E requirement of a switchable class's card the planned matrix does not cover (the nightly). */
  cardRequirements?: boolean;
  /** The run's time budget (ms) when neither --rounds, --duration nor --max-time is given: rounds are trimmed to hold it. */
  maxTimeMs?: number;
  /** Scale rounds by a twin arm on the frozen engine (run/twin.ts), with or without --twin (the nightly). */
  twin?: boolean;
}

export function intArg(name: string, v: string | undefined, fallback: number, min = 1, verb = 'run'): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`shadowbench ${verb}: --${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

function durationArg(v: string | undefined, name = 'duration'): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (m === null || Number(m[1]) <= 0)
    throw new UsageError(`shadowbench run: --${name} must be a positive number of ms (or with an s or m suffix), got '${v}'`);
  return Math.round(Number(m[1]) * (m[2] === 'm' ? 60_000 : m[2] === 's' ? 1000 : 1));
}

/** The default budget of --target-mde. */
const DEFAULT_MAX_TIME_MS = 600_000;

/** Measured time (ms) of `rounds` rounds of every group: the least any budget must hold. */
const slicesMs = (groups: readonly Group[], rounds: number, sliceMs: number, twin: boolean): number =>
  groups.reduce((ms, g) => ms + rounds * armsOf(g, twin) * sliceMs, 0);

/**
 * `--target-mde R --max-time T` (rounds added past --rounds until R is seen),
 * or `--max-time T [--min-rounds N]` alone (at most --rounds, fewer when T
 * would not hold them; `budgetMs` is the caller's default, for its default
 * shape), checked against the run's shape.
 */
function limitsArg(
  values: RunValues,
  groups: readonly Group[],
  sliceMs: number,
  rounds: number,
  budgetMs: number | undefined,
  twin: boolean,
): { target: TargetMde | null; budget: RoundBudget | null } {
  const raw = values['target-mde'];
  const maxTime = durationArg(values['max-time'], 'max-time');
  const tooShort = (need: number, what: string): UsageError =>
    new UsageError(
      `shadowbench run: --max-time ${values['max-time']} cannot hold ${what} of this run (${groups.length} groups of slices of ${sliceMs} ms need at least ${Math.ceil(need / 1000)} s)`,
    );
  if (raw !== undefined) {
    const mde = Number(raw);
    if (!(mde > 0 && mde < 1)) throw new UsageError(`shadowbench run: --target-mde must be a fraction in (0, 1), e.g. 0.05 for 5%, got '${raw}'`);
    if (values['min-rounds'] !== undefined)
      throw new UsageError('shadowbench run: --min-rounds bounds the rounds --max-time trims; --target-mde adds rounds past --rounds instead');
    const maxTimeMs = maxTime ?? DEFAULT_MAX_TIME_MS;
    if (maxTimeMs < slicesMs(groups, 2, sliceMs, twin)) throw tooShort(slicesMs(groups, 2, sliceMs, twin), 'two rounds');
    return { target: { mde, maxTimeMs }, budget: null };
  }
  const maxTimeMs = maxTime ?? budgetMs;
  if (maxTimeMs === undefined) {
    if (values['min-rounds'] !== undefined) throw new UsageError('shadowbench run: --min-rounds bounds the rounds --max-time trims, which is not given');
    return { target: null, budget: null };
  }
  const minRounds = intArg('min-rounds', values['min-rounds'], defaultMinRounds(rounds));
  if (minRounds > rounds) throw new UsageError(`shadowbench run: --min-rounds ${minRounds} is more than --rounds ${rounds}`);
  if (maxTime !== undefined && maxTimeMs < slicesMs(groups, minRounds, sliceMs, twin))
    throw tooShort(slicesMs(groups, minRounds, sliceMs, twin), `${minRounds} rounds`);
  return { target: null, budget: { maxTimeMs, minRounds, twin } };
}

function listArg(values: readonly string[] | undefined): string[] | undefined {
  return values
    ?.flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** `--variant`, `--engine-cmd`, `--engine-timeout`: the variants and their adapters. */
function enginesArg(values: RunValues): { variants: EngineVariant[]; engines: EngineAdapters } {
  const variants = (listArg(values.variant) ?? ['reference']).map((v) => {
    if (!isEngineVariant(v)) throw new UsageError(`shadowbench run: --variant '${v}' is not one of ${ENGINE_VARIANTS.join(', ')}`);
    return v;
  });
  if (new Set(variants).size !== variants.length) throw new UsageError(`shadowbench run: --variant lists a variant twice: ${variants.join(',')}`);
  const external = variants.includes('external');
  const command = values['engine-cmd']?.trim();
  if (!external && (command !== undefined || values['engine-timeout'] !== undefined))
    throw new UsageError('shadowbench run: --engine-cmd and --engine-timeout need --variant external');
  if (external && (command === undefined || command === ''))
    throw new UsageError('shadowbench run: --variant external needs --engine-cmd "<command that starts the peer>"');
  if ((values.inject ?? []).length > 0 && !variants.includes('reference'))
    throw new UsageError('shadowbench run: --inject applies to the reference engine only, which --variant leaves out');
  const timeoutMs = durationArg(values['engine-timeout'], 'engine-timeout') ?? DEFAULT_EXTERNAL_TIMEOUT_MS;
  return { variants, engines: engineAdapters(variants, command === undefined ? null : { command, timeoutMs }) };
}

/** `--threshold ID=VALUE` and `--kill-switch ID=latch|K/N`, checked against the cards' trigger ids. */
function triggerConfig(thresholds: readonly string[], profiles: readonly string[]): TriggerConfig {
  const known = (id: string, flag: string): void => {
    if (!TRIGGERS.has(id)) throw new UsageError(`shadowbench run: ${flag} ${id}: no such trigger (known: ${[...TRIGGERS.keys()].join(', ')})`);
  };
  const t = new Map<string, number>();
  for (const arg of thresholds) {
    const [id = '', raw = ''] = arg.split('=');
    known(id, '--threshold');
    const v = Number(raw);
    if (raw === '' || !Number.isFinite(v) || v < 0) throw new UsageError(`shadowbench run: --threshold ${arg}: the value must be a non-negative number`);
    t.set(id, v);
  }
  const p = new Map<string, KillSwitchProfile>();
  for (const arg of profiles) {
    const [id = '', raw = ''] = arg.split('=');
    known(id, '--kill-switch');
    const profile = parseProfile(raw);
    if (profile === null) throw new UsageError(`shadowbench run: --kill-switch ${arg}: expected latch or K/N (e.g. 3/1000)`);
    p.set(id, profile);
  }
  return { thresholds: t, profiles: p };
}

/**
 * Groups for the switchable classes' one-machine E2E requirements (e.g. M1's
 * c8 mixed file-backed run) that `planned` does not cover, so the gate never
 * reports them as not run. A requirement that names no backend takes its
 * workload's first.
 */
function requirementGroups(
  planned: readonly Group[],
  modeSets: ModeSet[],
  variants: EngineVariant[],
  quick: boolean,
  duration_ms: number | undefined,
): Group[] {
  if (!variants.includes('reference')) return [];
  const suite = resolveWorkloads([]);
  // The cells the planned matrix lacks, each with the classes whose cards require it.
  const needed = new Map<string, { w: (typeof suite)[number]; backend: Backend; concurrency: number; classes: SwitchableClass[] }>();
  for (const cls of SWITCHABLE_CLASSES) {
    for (const r of CARDS[cls].requirements) {
      if (r.cross_node === true) continue;
      const w = suite.find((x) => x.spec.name === r.workload);
      if (w === undefined) continue;
      const backend = r.backend ?? w.spec.backends[0]!;
      const concurrency = r.concurrency ?? w.spec.concurrency[0]!;
      const covered = (g: Group): boolean =>
        g.cells[0]!.variant === 'reference' &&
        g.cells[0]!.workload.spec.name === r.workload &&
        g.cells[0]!.backend === backend &&
        g.cells[0]!.concurrency === concurrency;
      if (planned.some(covered)) continue;
      const key = `${r.workload}.${backend}.c${concurrency}`;
      const entry = needed.get(key) ?? { w, backend, concurrency, classes: [] };
      entry.classes.push(cls);
      needed.set(key, entry);
    }
  }
  return [...needed.values()].flatMap((n) =>
    planMatrix({
      workloads: [n.w],
      modeSets: requirementModeSets(modeSets, n.classes),
      quick,
      backends: [n.backend],
      concurrency: [n.concurrency],
      ...(duration_ms === undefined ? {} : { duration_ms }),
    }),
  );
}

/** Checks every option and plans the matrix; bad input is a UsageError naming it. */
export function parseRunSettings(values: RunValues, shape: RunShape = {}): RunSettings {
  const { variants, engines } = enginesArg(values);
  const triggers = triggerConfig(values.threshold ?? [], values['kill-switch'] ?? []);
  const sampleRatio = values['sample-ratio'] === undefined ? DEFAULT_SAMPLE_RATIO : Number(values['sample-ratio']);
  if (!(sampleRatio >= 0 && sampleRatio <= 1))
    throw new UsageError(`shadowbench run: --sample-ratio must be a number in [0, 1], got '${values['sample-ratio']}'`);
  const shadowSampleRatio = values['shadow-sample'] === undefined ? 1 : Number(values['shadow-sample']);
  if (!(shadowSampleRatio >= 0 && shadowSampleRatio <= 1))
    throw new UsageError(`shadowbench run: --shadow-sample must be a number in [0, 1], got '${values['shadow-sample']}'`);
  const backends = listArg(values.backend);
  for (const b of backends ?? [])
    if (!(BACKENDS as readonly string[]).includes(b)) throw new UsageError(`shadowbench run: --backend '${b}' is not one of ${BACKENDS.join(', ')}`);
  const concurrency = values.concurrency === undefined ? undefined : listArg([values.concurrency])!.map((c) => intArg('concurrency', c.replace(/^c/, ''), 1));
  const seed = intArg('seed', values.seed, 1, 0);

  const metricsPort = intArg('metrics-port', values['metrics-port'], 0, 0);
  if (metricsPort > 65535) throw new UsageError(`shadowbench run: --metrics-port must be a port number (1-65535, 0 = off), got '${values['metrics-port']}'`);
  let pushUrl: URL | null = null;
  if (values.push !== undefined) {
    try {
      pushUrl = parsePushUrl(values.push);
    } catch (err) {
      if (err instanceof PushUrlError) throw new UsageError(`shadowbench run: ${err.message}`);
      throw err;
    }
  }
  const otlp = values.otlp ?? (process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] || undefined) ?? null;
  if (otlp !== null) {
    try {
      otlpTracesUrl(otlp);
    } catch (err) {
      if (err instanceof SpanUrlError)
        throw new UsageError(`shadowbench run: ${values.otlp === undefined ? err.message.replace('--otlp', 'OTEL_EXPORTER_OTLP_ENDPOINT') : err.message}`);
      throw err;
    }
  }
  const duration_ms = durationArg(values.duration);
  const sliceMs = duration_ms ?? shape.sliceMs ?? DEFAULT_SLICE_MS;
  const names = values.workload ?? [];
  const quick = names.length === 0 && values.full !== true;
  // A round is one slice per mode set: 12 of them keep the quick suite near two minutes and give 12 pairs per comparison.
  const rounds = intArg('rounds', values.rounds, shape.defaultRounds ?? (quick ? 12 : 30));
  // One unmeasured round after calibration: no measured round is the first on its databases.
  const warmupRounds = intArg('warmup-rounds', values['warmup-rounds'], 1, 0);
  let modeSets;
  let faults: FaultConfig;
  let workloads;
  let groups;
  try {
    ({ faults, modeSets } = applyInjections(values.inject ?? [], parseModeSets(values.modes)));
    workloads = resolveWorkloads(names);
    groups = planMatrix({
      workloads,
      modeSets,
      variants,
      quick,
      ...(backends === undefined ? {} : { backends: backends as Backend[] }),
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(duration_ms === undefined ? {} : { duration_ms }),
    });
  } catch (err) {
    if (err instanceof SpecError || err instanceof ModeSetError) throw new UsageError(err.message);
    if (err instanceof EngineError) throw new UsageError(`shadowbench run: ${err.message}`);
    throw err;
  }
  // The cards' E2E cells complete the default suite; a matrix narrowed by hand runs what was asked.
  const narrowed = names.length > 0 || backends !== undefined || concurrency !== undefined;
  if (shape.cardRequirements === true && !narrowed) groups.push(...requirementGroups(groups, modeSets, variants, quick, duration_ms));
  if (groups.length === 0) throw new UsageError('shadowbench run: the matrix is empty (no workload runs on the requested backends)');
  // The caller's budget belongs to its own shape: rounds or slices asked for by hand run in full.
  const shaped = values.rounds === undefined && values.duration === undefined;
  const twin = values.twin === true || shape.twin === true;
  const { target, budget } = limitsArg(values, groups, sliceMs, rounds, shaped ? shape.maxTimeMs : undefined, twin);
  return {
    faults,
    variants,
    engines,
    triggers,
    sampleRatio,
    shadowSampleRatio,
    backends: backends as Backend[] | undefined,
    concurrency,
    seed,
    metricsPort,
    pushUrl,
    otlp,
    duration_ms,
    sliceMs,
    target,
    budget,
    quick,
    rounds,
    warmupRounds,
    modeSets,
    workloads,
    groups,
    twin: twin ? TWIN_BUILD : null,
  };
}
