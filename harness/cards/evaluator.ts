// The live trigger evaluator: reads every window delta of a round as it
// arrives, checks each card's fallback triggers under their kill-switch
// profile, and applies the fallback action (the class forced to `legacy` in
// every worker, through the shared control words) the moment one fires.
// Every firing is an audit event carrying the trigger, the profile, the
// window's evidence and the time.

import { controlModes, setControlMode, SWITCHABLE_CLASSES, type MetadataClass, type SharedDatabase, type SwitchableClass } from '../../engine/index.ts';
import type { WindowDelta } from '../record/recorder.ts';
import { classOfKey, parseKey } from '../record/keys.ts';
import { TRIGGERS } from './cards.ts';
import type { DecisionCard, KillSwitchProfile, Observation, TriggerRule } from './types.ts';

export interface FallbackEvent {
  time: string;
  cell: string;
  round: number;
  connection: number;
  window: number;
  metadata_class: MetadataClass;
  trigger: string;
  wording: string;
  profile: KillSwitchProfile;
  observation: Observation;
  /** force_legacy: the class was switched; already_legacy: nothing to switch; alert: a keep-local class. */
  action: 'force_legacy' | 'already_legacy' | 'alert';
  fallback_action: string;
  /** The window's counters of the class. */
  evidence: Record<string, number>;
}

export interface TriggerConfig {
  thresholds: ReadonlyMap<string, number>;
  profiles: ReadonlyMap<string, KillSwitchProfile>;
}

export const DEFAULT_TRIGGER_CONFIG: TriggerConfig = { thresholds: new Map(), profiles: new Map() };

interface Armed {
  card: DecisionCard;
  rule: TriggerRule;
  threshold: number;
  profile: KillSwitchProfile;
  /** k-of-n: the recent windows' operation counts and whether each observed the trigger. */
  recent: { ops: number; fired: boolean }[];
  /** The rule's running figures (Evidence.memo). */
  memo: Map<string, number>;
  done: boolean;
}

const isSwitchable = (c: MetadataClass): c is SwitchableClass => (SWITCHABLE_CLASSES as readonly string[]).includes(c);

function operationsIn(counters: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const [k, v] of Object.entries(counters)) {
    const key = parseKey(k);
    if (key.kind === 'op_error' || (key.kind === 'op' && key.figure === 'ok')) n += v;
  }
  return n;
}

export class LiveEvaluator {
  readonly events: FallbackEvent[] = [];
  private readonly total = new Map<string, number>();
  private readonly armed: Armed[];

  /** The round the next windows belong to (one evaluator watches an arm for all its rounds). */
  round: number;

  constructor(
    private readonly cellId: string,
    round: number,
    private shared: SharedDatabase,
    config: TriggerConfig = DEFAULT_TRIGGER_CONFIG,
  ) {
    this.round = round;
    this.armed = [...TRIGGERS.values()].map(({ card, rule }) => ({
      card,
      rule,
      threshold: config.thresholds.get(rule.id) ?? rule.threshold,
      profile: config.profiles.get(rule.id) ?? rule.profile,
      recent: [],
      memo: new Map(),
      done: false,
    }));
  }

  /** The arm's database was reopened: fallbacks apply to the new one. */
  rebind(shared: SharedDatabase): void {
    this.shared = shared;
  }

  observe(delta: WindowDelta): void {
    const window = new Map(Object.entries(delta.counters));
    for (const [k, v] of window) this.total.set(k, (this.total.get(k) ?? 0) + v);
    const ops = operationsIn(delta.counters);
    for (const a of this.armed) {
      if (a.done) continue;
      const obs = a.rule.observe({ window, total: this.total, memo: a.memo, round: this.round }, a.threshold);
      if (this.trips(a, obs, ops)) this.fire(a, obs, delta, window);
    }
  }

  private trips(a: Armed, obs: Observation, ops: number): boolean {
    if (a.profile.kind === 'latch') return obs.fired;
    a.recent.push({ ops, fired: obs.fired });
    // Keep just enough recent windows to cover the last n operations.
    let covered = a.recent.reduce((s, r) => s + r.ops, 0);
    while (a.recent.length > 1 && covered - a.recent[0]!.ops >= a.profile.n) covered -= a.recent.shift()!.ops;
    return a.recent.filter((r) => r.fired).length >= a.profile.k;
  }

  private fire(a: Armed, obs: Observation, delta: WindowDelta, window: ReadonlyMap<string, number>): void {
    a.done = true;
    const cls = a.card.metadata_class;
    let action: FallbackEvent['action'] = 'alert';
    if (isSwitchable(cls)) {
      if (controlModes(this.shared)[cls] === 'legacy') action = 'already_legacy';
      else {
        setControlMode(this.shared, cls, 'legacy');
        action = 'force_legacy';
      }
    }
    const evidence: Record<string, number> = {};
    for (const [k, v] of window) if (classOfKey(parseKey(k)) === cls) evidence[k] = v;
    this.events.push({
      time: new Date().toISOString(),
      cell: this.cellId,
      round: this.round,
      connection: delta.connection,
      window: delta.window,
      metadata_class: cls,
      trigger: a.rule.id,
      wording: a.rule.wording,
      profile: a.profile,
      observation: obs,
      action,
      fallback_action: a.card.fallback_action,
      evidence,
    });
  }
}

/** Parses `--kill-switch ID=latch` or `ID=K/N`. */
export function parseProfile(text: string): KillSwitchProfile | null {
  if (text === 'latch') return { kind: 'latch' };
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (m === null) return null;
  const k = Number(m[1]);
  const n = Number(m[2]);
  return k >= 1 && n >= 1 ? { kind: 'k_of_n', k, n } : null;
}
