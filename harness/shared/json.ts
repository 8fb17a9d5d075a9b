// Canonical JSON: every `--json` output and stored report is written through
// this, so the same value always prints the same bytes.

/** JSON with object keys sorted at every level (arrays keep their order), so output is stable. */
export function stableJson(value: unknown, indent = 2): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? sortKeys(v as Record<string, unknown>) : v),
    indent,
  );
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}
