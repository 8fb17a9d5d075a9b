// Mode sets: which control mode each switchable class runs in for a cell.
// `--modes legacy,shadow_compare,new` gives three sets that switch every
// class together; `M6=snapshot+M11=sharded` switches only the named classes
// (the others stay legacy), so interference runs are one matrix away.

import { modeIndexOf, modeName, SWITCHABLE_CLASSES, type ModeIndex, type SwitchableClass } from '../../engine/index.ts';

export interface ModeSet {
  label: string;
  modes: Record<SwitchableClass, ModeIndex>;
}

export class ModeSetError extends Error {
  override readonly name = 'ModeSetError';
}

const uniform = (label: string, m: ModeIndex): ModeSet => ({ label, modes: { M1: m, M6: m, M11: m } });

export const DEFAULT_MODE_SETS: readonly ModeSet[] = [uniform('legacy', 0), uniform('shadow_compare', 1), uniform('new', 2)];

export function parseModeSet(text: string): ModeSet {
  const t = text.trim();
  if (t === 'legacy') return uniform('legacy', 0);
  if (t === 'shadow_compare') return uniform('shadow_compare', 1);
  if (t === 'new') return uniform('new', 2);
  const modes: Record<SwitchableClass, ModeIndex> = { M1: 0, M6: 0, M11: 0 };
  for (const part of t.split('+')) {
    const m = /^(M\d+)=([a-z_]+)$/.exec(part.trim());
    if (m === null) throw new ModeSetError(`--modes: "${part}" is not legacy, shadow_compare, new or CLASS=MODE (e.g. M6=snapshot)`);
    const cls = m[1] as SwitchableClass;
    if (!(SWITCHABLE_CLASSES as readonly string[]).includes(cls)) throw new ModeSetError(`--modes: ${m[1]} has no control modes (only ${SWITCHABLE_CLASSES.join(', ')})`);
    try {
      modes[cls] = modeIndexOf(cls, m[2]!);
    } catch (err) {
      throw new ModeSetError(`--modes: ${(err as Error).message}`);
    }
  }
  const label = SWITCHABLE_CLASSES.filter((c) => modes[c] !== 0).map((c) => `${c}=${modeName(c, modes[c])}`).join('+') || 'legacy';
  return { label, modes };
}

export function parseModeSets(arg: string | undefined): ModeSet[] {
  if (arg === undefined || arg.trim() === '') return [...DEFAULT_MODE_SETS];
  const sets = arg.split(',').filter((s) => s.trim() !== '').map(parseModeSet);
  const labels = new Set<string>();
  for (const s of sets) {
    if (labels.has(s.label)) throw new ModeSetError(`--modes: ${s.label} is given twice`);
    labels.add(s.label);
  }
  return sets;
}
