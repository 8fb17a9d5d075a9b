// `shadowbench list [--json]`: what this build can run — metadata classes and
// their control modes, card fields and injectable faults; backends, fsync
// policies, engines and workloads.
//
// JSON output (`--json`), keys sorted at every level:
//   schema          "shadowbench.list/1"
//   backends        engine storage backends, e.g. ["memory", "file"]
//   fsync_policies  file-backend durability policies
//   inject_syntax   how a fault is injected on the command line
//   engines         [{ name, description }]: engines a run can target
//   workloads       the canonical suite (workloads/), by name:
//     name, description, classes (the card classes it serves), backends, concurrency
//   triggers        [{ id, metadata_class, wording, threshold, kill_switch, fallback_action }]: live fallback triggers
//   classes         one object per metadata class, M1..M12 in order:
//     id, title             card id and title
//     switchable            true for the classes with a new primitive (M1, M6, M11)
//     primitive             "switchable" | "keep-local"
//     control_modes         ["legacy", "shadow_compare", <new>] or [] when keep-local
//     new_mode              the new primitive's mode name, or null
//     required_fields       the card's required logging fields, in card order
//     faults                [{ name, value, description, example }] injectable on this class

import {
  BACKENDS,
  CLASS_TITLE,
  FSYNC_POLICIES,
  METADATA_CLASSES,
  NEW_MODE,
  REQUIRED_FIELDS,
  isSwitchable,
  parseInject,
  type ClassFaults,
  type MetadataClass,
} from '../../engine/index.ts';
import { SpecError, loadSuite } from '../spec/load.ts';
import { TRIGGERS } from '../cards/cards.ts';
import { parseVerbArgs, type Io, type Verb } from './verb.ts';
import { stableJson } from '../shared/json.ts';
import { formatTable } from '../shared/table.ts';

interface FaultInfo {
  /** The class the fault belongs to, or 'any' for every class. */
  owner: MetadataClass | 'any';
  value: 'ns' | 'probability';
  example: number;
  description: string;
}

/** Mirrors engine/config.ts ClassFaults; the mapped type breaks the build if a fault is added there. */
const FAULTS: { [K in keyof Required<ClassFaults>]: FaultInfo } = {
  delay_ns: { owner: 'any', value: 'ns', example: 2000, description: "busy-wait this long on the class's path, per operation" },
  stale_publish: { owner: 'M6', value: 'probability', example: 0.01, description: "a publish carries the previous commit's state" },
  misroute: { owner: 'M11', value: 'probability', example: 0.01, description: 'a session is registered on a wrong shard' },
  torn_read: { owner: 'M1', value: 'probability', example: 0.01, description: 'a seqlock read returns fields of two publications' },
};

export interface FaultListing {
  name: keyof ClassFaults;
  value: FaultInfo['value'];
  description: string;
  example: string;
}

export interface ClassListing {
  id: MetadataClass;
  title: string;
  switchable: boolean;
  primitive: 'switchable' | 'keep-local';
  control_modes: string[];
  new_mode: string | null;
  required_fields: string[];
  faults: FaultListing[];
}

export interface WorkloadListing {
  name: string;
  description: string;
  classes: string[];
  backends: string[];
  concurrency: number[];
}

export interface Listing {
  schema: 'shadowbench.list/1';
  backends: string[];
  fsync_policies: string[];
  inject_syntax: string;
  engines: { name: string; description: string }[];
  workloads: WorkloadListing[];
  classes: ClassListing[];
  /** Live fallback triggers of the cards (ids for --threshold / --kill-switch). */
  triggers: TriggerListing[];
}

export interface TriggerListing {
  id: string;
  metadata_class: MetadataClass;
  wording: string;
  threshold: number;
  kill_switch: string;
  fallback_action: string;
}

function faultsOf(cls: MetadataClass): FaultListing[] {
  const out: FaultListing[] = [];
  for (const [name, info] of Object.entries(FAULTS) as [keyof ClassFaults, FaultInfo][]) {
    if (info.owner !== 'any' && info.owner !== cls) continue;
    const example = `${cls}.${name}=${info.example}`;
    parseInject(example); // the engine must accept the spelling we advertise
    out.push({ name, value: info.value, description: info.description, example });
  }
  return out;
}

export function buildListing(): Listing {
  const classes = METADATA_CLASSES.map((id): ClassListing => {
    const sw = isSwitchable(id);
    const newMode = sw ? NEW_MODE[id] : null;
    return {
      id,
      title: CLASS_TITLE[id],
      switchable: sw,
      primitive: sw ? 'switchable' : 'keep-local',
      control_modes: newMode === null ? [] : ['legacy', 'shadow_compare', newMode],
      new_mode: newMode,
      required_fields: [...REQUIRED_FIELDS[id]],
      faults: faultsOf(id),
    };
  });
  return {
    schema: 'shadowbench.list/1',
    backends: [...BACKENDS],
    fsync_policies: [...FSYNC_POLICIES],
    inject_syntax: '--inject CLASS.FAULT=VALUE',
    engines: [
      { name: 'reference', description: "this repository's engine (engine/): control modes, faults, every card field" },
      { name: 'sqlite', description: 'SQLite via better-sqlite3, WAL (memory backend: on /dev/shm); one mode set (n/a); reports no card fields' },
      { name: 'external', description: 'an engine in another process over the line protocol (--engine-cmd); reports the fields its hello declares' },
    ],
    workloads: loadSuite().map(({ spec }) => ({
      name: spec.name,
      description: spec.description,
      classes: [...spec.serves.classes],
      backends: [...spec.backends],
      concurrency: [...spec.concurrency],
    })),
    classes,
    triggers: [...TRIGGERS.values()].map(({ card, rule }) => ({
      id: rule.id,
      metadata_class: card.metadata_class,
      wording: rule.wording,
      threshold: rule.threshold,
      kill_switch: rule.profile.kind === 'latch' ? 'latch' : `${rule.profile.k}/${rule.profile.n}`,
      fallback_action: card.fallback_action,
    })),
  };
}

export function renderListing(l: Listing): string {
  const spelling = (c: ClassListing, f: FaultListing): string => `${c.id}.${f.name}=${f.value === 'ns' ? 'NS' : 'P'}`;
  const classRows = [
    ['class', 'title', 'switchable', 'control modes', 'faults (--inject CLASS.FAULT=VALUE)'],
    ...l.classes.map((c) => [
      c.id,
      c.title,
      c.switchable ? 'yes' : 'no',
      c.switchable ? c.control_modes.join(', ') : 'keep-local',
      c.faults.map((f) => spelling(c, f)).join(', '),
    ]),
  ];
  const fieldRows = l.classes.map((c) => [c.id, c.required_fields.join(', ')]);
  const faultRows = Object.entries(FAULTS).map(([name, f]) => [
    name,
    f.owner === 'any' ? 'every class' : f.owner,
    f.value === 'ns' ? 'NS >= 0' : 'P in [0,1]',
    f.description,
    `e.g. --inject ${f.owner === 'any' ? 'M6' : f.owner}.${name}=${f.example}`,
  ]);
  const engineRows = l.engines.map((e) => [e.name, e.description]);
  const workloadRows = [
    ['workload', 'classes', 'backends', 'concurrency'],
    ...l.workloads.map((w) => [w.name, w.classes.join(', '), w.backends.join(', '), w.concurrency.map((c) => `c${c}`).join(' ')]),
  ];
  return [
    'Metadata classes (decision cards M1-M12)',
    formatTable(classRows),
    '',
    'Required logging fields (per card)',
    formatTable(fieldRows),
    '',
    'Injectable faults (--inject CLASS.FAULT=VALUE, repeatable)',
    formatTable(faultRows),
    '',
    formatTable([
      ['backends', l.backends.join(', ')],
      ['fsync policies', `${l.fsync_policies.join(', ')} (file backend)`],
      ['engines', engineRows.map((r) => `${r[0]} - ${r[1]}`).join('; ')],
    ]),
    '',
    'Workloads (workloads/, the canonical suite)',
    l.workloads.length === 0 ? 'none yet' : formatTable(workloadRows),
    '',
    'Fallback triggers (--threshold ID=VALUE, --kill-switch ID=latch|K/N)',
    formatTable([['trigger', 'threshold', 'kill switch', 'card wording'], ...l.triggers.map((t) => [t.id, String(t.threshold), t.kill_switch, t.wording])]),
    '',
  ].join('\n');
}

const OPTIONS = { json: { type: 'boolean' } } as const;

const USAGE = `Usage: shadowbench list [--json]

Lists the metadata classes M1-M12 (title, control modes, required card
fields, injectable faults), backends, fsync policies, engines and workloads.

Options:
  --json      print one JSON object (keys sorted; see harness/cli/list.ts)
  -h, --help  show this help
`;

export const listVerb: Verb = {
  name: 'list',
  summary: 'list metadata classes, control modes, faults, backends, engines, workloads',
  usage: USAGE,
  options: OPTIONS,
  async run(argv: readonly string[], io: Io): Promise<number> {
    const { values } = parseVerbArgs('list', argv, OPTIONS);
    if (values.help === true) {
      io.out(USAGE);
      return 0;
    }
    let listing: Listing;
    try {
      listing = buildListing();
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      io.err(`shadowbench list: ${err.message}\n`);
      return 1;
    }
    io.out(values.json === true ? `${stableJson(listing)}\n` : renderListing(listing));
    return 0;
  },
};
