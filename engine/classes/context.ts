// What every metadata-class module needs from its connection: where to send
// field records (null when nobody listens), the current trace id, and the
// injected faults, resolved once per class.

import type { DatabaseConfig } from '../config.ts';
import { METADATA_CLASSES, type FieldRecord, type MetadataClass, type RecordByClass, type RecordHook } from '../fields.ts';
import { epochNs, nowMs, spinDelay } from '../shared/clock.ts';
import type { Xorshift32 } from '../shared/random.ts';

export interface ClassContext {
  hook: RecordHook | null;
  traceId: string;
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

/** A record without the fields every record shares. */
export type Payload<C extends MetadataClass> = Omit<RecordByClass[C], 'trace_id' | 'start_ns' | 'end_ns'>;

/** Sends one record; callers check `ctx.hook !== null` first so nothing is built when nobody listens. */
export function emit<C extends MetadataClass>(ctx: ClassContext, t0: number, payload: Payload<C>): void {
  // Completing the caller's fresh literal in place is several times cheaper than spreading it.
  const record = payload as Payload<C> & { trace_id: string; start_ns: number; end_ns: number };
  record.trace_id = ctx.traceId;
  record.start_ns = epochNs(t0);
  record.end_ns = epochNs(nowMs());
  ctx.hook?.(record as unknown as FieldRecord);
}
