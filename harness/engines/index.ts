// The adapters a run may use, by variant.

import type { EngineAdapter } from './adapter.ts';
import { externalAdapter, type ExternalOptions } from './external/adapter.ts';
import { referenceAdapter } from './reference.ts';
import { sqliteAdapter } from './sqlite/adapter.ts';
import type { EngineVariant } from './variants.ts';

export type EngineAdapters = Partial<Record<EngineVariant, EngineAdapter>>;

export class EngineConfigError extends Error {
  override readonly name = 'EngineConfigError';
}

/** The adapters for `variants`; the external one needs its command. */
export function engineAdapters(variants: readonly EngineVariant[], external: ExternalOptions | null): EngineAdapters {
  const out: EngineAdapters = {};
  for (const v of variants) {
    if (v === 'reference') out.reference = referenceAdapter;
    else if (v === 'sqlite') out.sqlite = sqliteAdapter;
    else if (external === null) throw new EngineConfigError('the external variant needs --engine-cmd "<command that starts the peer>"');
    else out.external = externalAdapter(external);
  }
  return out;
}

export * from './adapter.ts';
export * from './variants.ts';
export type { ExternalOptions } from './external/adapter.ts';
export { DEFAULT_EXTERNAL_TIMEOUT_MS } from './external/adapter.ts';
