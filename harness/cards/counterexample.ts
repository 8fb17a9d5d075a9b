// Counterexample bundles: what a fired trigger or a divergence leaves behind
// for the engineer who has to reproduce it — the event and its evidence, the
// field records of the class (a diverged record carries the oracle's and the
// candidate's value of every mismatching field), and one command that drives
// the same operation stream again.

import type { FieldRecord } from '../../engine/index.ts';
import type { FallbackEvent } from './evaluator.ts';

export interface Counterexample {
  event: FallbackEvent;
  /** The class's anomalous records of the round (oracle and candidate values inside), or samples when it had none. */
  records: FieldRecord[];
  /** Re-runs this cell with the same seed, so every connection gets the same operation stream. */
  replay: string;
}

const MAX_RECORDS = 50;

export function counterexample(event: FallbackEvent, anomalies: readonly FieldRecord[], samples: readonly FieldRecord[], replay: string): Counterexample {
  const ofClass = (rs: readonly FieldRecord[]): FieldRecord[] => rs.filter((r) => r.metadata_class === event.metadata_class).slice(0, MAX_RECORDS);
  const records = ofClass(anomalies);
  return { event, records: records.length > 0 ? records : ofClass(samples), replay };
}

const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command line that runs one cell again with the same operation streams, through the round the trigger fired in. */
export function replayCommand(o: {
  workloadFile: string;
  backend: string;
  concurrency: number;
  modes: string;
  seed: number;
  rounds: number;
  durationMs: number | null;
  inject: readonly string[];
  traceDir: string | null;
  runDir: string;
}): string {
  if (o.traceDir !== null)
    return `shadowbench replay ${quote(o.runDir)} --backend ${o.backend} --concurrency ${o.concurrency} --modes ${quote(o.modes)}${o.inject.map((i) => ` --inject ${quote(i)}`).join('')}`;
  const parts = [
    'shadowbench run',
    `--workload ${quote(o.workloadFile)}`,
    `--backend ${o.backend}`,
    `--concurrency ${o.concurrency}`,
    `--modes ${quote(o.modes)}`,
    `--seed ${o.seed}`,
    `--rounds ${o.rounds}`,
  ];
  if (o.durationMs !== null) parts.push(`--duration ${o.durationMs}`);
  for (const i of o.inject) parts.push(`--inject ${quote(i)}`);
  parts.push('--record');
  return parts.join(' ');
}
