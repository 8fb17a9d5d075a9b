// What every metadata-class module needs from its connection: where to send
// field records (null when nobody listens), the current trace id, and the
// injected faults, resolved once per class.

import type { ClassFaults } from '../config.ts';
import type { FieldRecord, MetadataClass, RecordByClass, RecordHook } from '../fields.ts';
import { epochNs, nowMs } from '../shared/clock.ts';
import type { Xorshift32 } from '../shared/random.ts';

export interface ClassContext {
  hook: RecordHook | null;
  traceId: string;
  /** Connection slot, the lane of M12. */
  slot: number;
  rng: Xorshift32;
}

export interface ClassFaultState extends ClassFaults {
  delay_ns: number;
}

export function faultState(f: ClassFaults | undefined): ClassFaultState {
  return { ...f, delay_ns: f?.delay_ns ?? 0 };
}

/** A record without the fields every record shares. */
export type Payload<C extends MetadataClass> = Omit<RecordByClass[C], 'trace_id' | 'start_ns' | 'end_ns'>;

/** Sends one record; callers check `ctx.hook !== null` first so nothing is built when nobody listens. */
export function emit<C extends MetadataClass>(ctx: ClassContext, t0: number, payload: Payload<C>): void {
  const record = { ...payload, trace_id: ctx.traceId, start_ns: epochNs(t0), end_ns: epochNs(nowMs()) } as RecordByClass[C];
  ctx.hook?.(record as FieldRecord);
}
