// The engine variants a run can drive. Only the reference engine has control
// modes; the comparators run as one mode set, labelled `n/a`.

export const ENGINE_VARIANTS = ['reference', 'sqlite', 'external'] as const;
export type EngineVariant = (typeof ENGINE_VARIANTS)[number];

export const HAS_CONTROL_MODES: Readonly<Record<EngineVariant, boolean>> = { reference: true, sqlite: false, external: false };

/** The mode-set label of a variant without control modes. */
export const NO_MODES_LABEL = 'n/a';

export const isEngineVariant = (v: string): v is EngineVariant => (ENGINE_VARIANTS as readonly string[]).includes(v);
