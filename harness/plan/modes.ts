// Mode sets: which control mode each switchable class runs in for a cell.
// `--modes legacy,shadow_compare,new` gives three sets that switch every
// class together; `M6=snapshot+M11=sharded` switches only the named classes
// (the others stay legacy), so interference runs are one matrix away.
// `NAME:MODES` names a set, so the same modes can run twice in one matrix
// (`a:legacy,b:legacy`): an A/A pair, or a baseline and an arm with a fault
// scoped to it (`--inject M6.delay_ns=900@b`), interleaved round by round.
//
// Without --modes, each workload runs legacy, shadow_compare and, for each
// class whose card judges the workload, that class's new primitive alone
// (`new`, every class together, where no card judges it): a verdict then
// rests on its own class's primitive. With `new` on every workload, hot-page
// contention memory c1 measured `new` +2.5% slower than legacy and rolled
// M11 back, while M11=sharded alone was +0.1% and M6=snapshot alone +3.6%.

import {
  modeIndexOf,
  modeName,
  NEW_MODE,
  parseInject,
  SWITCHABLE_CLASSES,
  type FaultConfig,
  type ModeIndex,
  type SwitchableClass,
} from '../../engine/index.ts';
import { CARDS } from '../cards/cards.ts';
import type { EngineBuild } from '../engines/build.ts';

export interface ModeSet {
  label: string;
  modes: Record<SwitchableClass, ModeIndex>;
  /** Faults injected into this set's cells only (on top of the run-wide ones). */
  faults: FaultConfig;
  /**
   * A default set runs only on some workloads: those whose card judges this class, or (`none`) those no card
   * judges. Absent: on every workload (every set --modes names).
   */
  judged?: SwitchableClass | 'none';
  /** A frozen build of the reference engine this set runs on (absent: this checkout's engine). */
  build?: EngineBuild;
}

/** The label of the twin arm (run/twin.ts): reserved, a set of that name would share its cell id and place in the schedule. */
export const TWIN_LABEL = 'twin';

export class ModeSetError extends Error {
  override readonly name = 'ModeSetError';
}

const uniform = (label: string, m: ModeIndex): ModeSet => ({ label, modes: { M1: m, M6: m, M11: m }, faults: {} });

/** One class in its new primitive, the others legacy, on the workloads its card judges. */
const alone = (cls: SwitchableClass): ModeSet => ({ label: `${cls}=${NEW_MODE[cls]}`, modes: { M1: 0, M6: 0, M11: 0, [cls]: 2 }, faults: {}, judged: cls });

export const DEFAULT_MODE_SETS: readonly ModeSet[] = [
  uniform('legacy', 0),
  uniform('shadow_compare', 1),
  ...SWITCHABLE_CLASSES.map(alone),
  { ...uniform('new', 2), judged: 'none' },
];

/**
 * The mode sets of a cell run only because cards require it (the nightly's
 * c8 cells): with the default sets, the all-legacy baseline and each
 * requiring class's primitive alone, which is all the requirement is judged
 * on (shadow_compare and the other classes run on the suite's own cells of
 * the workload). Sets named with --modes all run.
 */
export function requirementModeSets(sets: readonly ModeSet[], classes: readonly SwitchableClass[]): ModeSet[] {
  const defaults = sets.length === DEFAULT_MODE_SETS.length && sets.every((s, i) => s.label === DEFAULT_MODE_SETS[i]!.label);
  if (!defaults) return [...sets];
  return sets.filter((s) => s.label === 'legacy' || (s.judged !== undefined && s.judged !== 'none' && classes.includes(s.judged)));
}

/** The classes whose cards judge a workload (their promotion is decided on it). */
export const judgedClasses = (workload: string): SwitchableClass[] => SWITCHABLE_CLASSES.filter((cls) => CARDS[cls].workloads.includes(workload));

/** Whether a mode set runs on a workload (see ModeSet.judged). */
export function runsOn(set: ModeSet, workload: string): boolean {
  if (set.judged === undefined) return true;
  const judged = judgedClasses(workload);
  return set.judged === 'none' ? judged.length === 0 : judged.includes(set.judged);
}

const NAME = /^([a-z][a-z0-9_-]*):(.+)$/;

export function parseModeSet(text: string): ModeSet {
  const named = NAME.exec(text.trim());
  if (named !== null) {
    if (['legacy', 'shadow_compare', 'new'].includes(named[1]!)) throw new ModeSetError(`--modes: "${text.trim()}": a set's name must not be a mode name`);
    if (named[1] === TWIN_LABEL) throw new ModeSetError(`--modes: "${text.trim()}": 'twin' names the twin arm of --twin and the nightly`);
    return { ...parseModeSet(named[2]!), label: named[1]! };
  }
  const t = text.trim();
  if (t === 'legacy') return uniform('legacy', 0);
  if (t === 'shadow_compare') return uniform('shadow_compare', 1);
  if (t === 'new') return uniform('new', 2);
  const modes: Record<SwitchableClass, ModeIndex> = { M1: 0, M6: 0, M11: 0 };
  for (const part of t.split('+')) {
    const m = /^(M\d+)=([a-z_]+)$/.exec(part.trim());
    if (m === null) throw new ModeSetError(`--modes: "${part}" is not legacy, shadow_compare, new or CLASS=MODE (e.g. M6=snapshot)`);
    const cls = m[1] as SwitchableClass;
    if (!(SWITCHABLE_CLASSES as readonly string[]).includes(cls))
      throw new ModeSetError(`--modes: ${m[1]} has no control modes (only ${SWITCHABLE_CLASSES.join(', ')})`);
    try {
      modes[cls] = modeIndexOf(cls, m[2]!);
    } catch (err) {
      throw new ModeSetError(`--modes: ${(err as Error).message}`);
    }
  }
  return { label: modesText(modes), modes, faults: {} };
}

const modesText = (modes: ModeSet['modes']): string =>
  SWITCHABLE_CLASSES.filter((c) => modes[c] !== 0)
    .map((c) => `${c}=${modeName(c, modes[c])}`)
    .join('+') || 'legacy';

/** The `--modes` text that reproduces this set, name included. */
export function modeSetArg(set: ModeSet): string {
  const text = modesText(set.modes);
  return set.label === text || DEFAULT_MODE_SETS.some((d) => d.label === set.label) ? set.label : `${set.label}:${text}`;
}

export function parseModeSets(arg: string | undefined): ModeSet[] {
  if (arg === undefined || arg.trim() === '') return [...DEFAULT_MODE_SETS];
  const sets = arg
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(parseModeSet);
  const labels = new Set<string>();
  for (const s of sets) {
    if (labels.has(s.label)) throw new ModeSetError(`--modes: ${s.label} is given twice`);
    labels.add(s.label);
  }
  return sets;
}

/**
 * `CLASS.FAULT=VALUE@SET` scopes a fault to one mode set; without `@SET` it
 * applies to every cell. Returns the run-wide faults; scoped ones are added
 * to their set (a new object: the input sets are not changed).
 */
export function applyInjections(specs: readonly string[], sets: readonly ModeSet[]): { faults: FaultConfig; modeSets: ModeSet[] } {
  let faults: FaultConfig = {};
  const out = sets.map((s) => ({ ...s }));
  for (const spec of specs) {
    const at = spec.lastIndexOf('@');
    if (at < 0) {
      faults = parseInject(spec, faults);
      continue;
    }
    const label = spec.slice(at + 1).trim();
    const target = out.find((s) => s.label === label);
    if (target === undefined) throw new ModeSetError(`--inject ${spec}: no mode set '${label}' in this run (mode sets: ${out.map((s) => s.label).join(', ')})`);
    try {
      target.faults = parseInject(spec.slice(0, at), target.faults);
    } catch (err) {
      // Name the whole argument, scope included.
      throw new ModeSetError((err as Error).message.replace(`--inject ${spec.slice(0, at)}:`, `--inject ${spec}:`));
    }
  }
  return { faults, modeSets: out };
}

/** The faults a cell of this set runs with: run-wide, then the set's own. */
export function faultsOf(runWide: FaultConfig, set: ModeSet): FaultConfig {
  const out: FaultConfig = structuredClone(runWide);
  for (const [cls, f] of Object.entries(set.faults)) (out as Record<string, object>)[cls] = { ...(out as Record<string, object | undefined>)[cls], ...f };
  return out;
}
