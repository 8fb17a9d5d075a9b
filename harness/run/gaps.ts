// Observability gaps: a class the cell must have exercised that reported no
// record, or a record missing one of its card's required fields. Either
// makes the cell's figures unusable for a gate. A class the engine declared
// it does not report is no gap: it is listed as not reported by this engine.

import { METADATA_CLASSES, REQUIRED_FIELDS, type Backend, type MetadataClass } from '../../engine/index.ts';
import { parseKey } from '../record/keys.ts';
import type { WorkloadSpec } from '../spec/schema.ts';

/** The classes a workload on a backend necessarily drives. */
export function expectedClasses(spec: WorkloadSpec, backend: Backend): MetadataClass[] {
  const m = spec.mix;
  const statements = m.read + m.write + m.concurrent_write + m.prepare > 0;
  const writes = m.write + m.concurrent_write + m.ddl > 0;
  const out = new Set<MetadataClass>(['M1', 'M6']);
  if (statements) ['M2', 'M3', 'M10', 'M12'].forEach((c) => out.add(c as MetadataClass));
  if (m.read > 0) out.add('M4');
  if (writes) out.add('M11');
  if (backend === 'memory') {
    out.add('M9');
    if (m.write > 0) out.add('M5');
  } else {
    out.add('M7');
    out.add('M8');
  }
  return [...out].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
}

export interface GapReport {
  gaps: string[];
  /** Expected classes the engine declared it cannot report, with their card fields. */
  not_reported: string[];
}

export function findGaps(
  spec: WorkloadSpec,
  backend: Backend,
  counters: ReadonlyMap<string, number>,
  reported: readonly MetadataClass[] = METADATA_CLASSES,
): GapReport {
  const gaps: string[] = [];
  const not_reported: string[] = [];
  for (const cls of expectedClasses(spec, backend)) {
    if (!reported.includes(cls)) {
      not_reported.push(`${cls} (${REQUIRED_FIELDS[cls].join(', ')})`);
      continue;
    }
    const seen = [...counters.entries()].some(([k, v]) => {
      const key = parseKey(k);
      return v > 0 && key.kind === 'record_count' && key.cls === cls;
    });
    if (!seen) gaps.push(`${cls}: no field record (fields ${REQUIRED_FIELDS[cls].join(', ')} never reported)`);
  }
  for (const [k, v] of counters) {
    const key = parseKey(k);
    if (key.kind === 'gap' && v > 0) gaps.push(`${key.cls}: required field ${key.field} missing from its records`);
  }
  return { gaps, not_reported };
}
