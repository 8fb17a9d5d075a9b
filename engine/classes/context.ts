// What every metadata-class module needs from its connection: where to write
// field records (null when nobody listens; the sink knows the current
// transaction's trace id) and the injected faults, resolved once per class.

import type { DatabaseConfig } from '../config.ts';
import { METADATA_CLASSES, type MetadataClass, type ShadowVerdict } from '../fields.ts';
import { VERDICT } from '../records/columns.ts';
import type { RecordSink } from '../records/sink.ts';
import { spinDelay } from '../shared/clock.ts';
import type { Xorshift32 } from '../shared/random.ts';

export interface ClassContext {
  sink: RecordSink | null;
  /** Connection slot, the lane of M12. */
  slot: number;
  rng: Xorshift32;
  /** The injected `delay_ns` of each class (0 when off). */
  delayNs: Record<MetadataClass, number>;
  /** Whether shadow_compare compares in the current transaction (the sampled fraction). */
  shadowSampled: boolean;
}

export function delaysOf(config: DatabaseConfig): Record<MetadataClass, number> {
  const out = {} as Record<MetadataClass, number>;
  for (const c of METADATA_CLASSES) out[c] = config.faults[c]?.delay_ns ?? 0;
  return out;
}

/** The delay fault: costs CPU on the class's path, as a real regression would. */
export function injectDelay(ctx: ClassContext, cls: MetadataClass): void {
  const ns = ctx.delayNs[cls];
  if (ns > 0) spinDelay(ns);
}

/** A shadow verdict as its row column (an index into VERDICTS). */
export function verdictIndex(v: ShadowVerdict): number {
  return VERDICT[v];
}
