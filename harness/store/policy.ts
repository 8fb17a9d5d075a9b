// The policy matrix (harness/store/policy.json): which domains the store
// persists, how strictly each needs a typed model, its model and its one owner
// module. Its canonical JSON's SHA-256 is the trace_correlation every store
// event carries, so events can be tied to the exact policy they were judged by.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const POLICY_FILE = fileURLToPath(new URL('./policy.json', import.meta.url));
/** The repository root; owner modules are named relative to it. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const Classification = z.enum(['mandatory', 'should_use', 'optional']);
export type Classification = z.infer<typeof Classification>;

export const DomainPolicy = z.strictObject({
  domain: z.string().regex(/^[a-z][a-z0-9_]*$/),
  classification: Classification,
  category: z.string().min(1),
  model_name: z.string(),
  model_version: z.string().regex(/^\d+\.\d+\.\d+$/, 'semantic version major.minor.patch'),
  source: z.enum(['hand_authored', 'codegen']),
  typed_model_defined: z.boolean(),
  owner_module: z.string().min(1),
  rationale: z.string().min(1),
  /** codegen domains only: where the schema comes from and when to regenerate. */
  schema_source: z.string().optional(),
  regeneration: z.string().optional(),
});
export type DomainPolicy = z.infer<typeof DomainPolicy>;

export const PolicyMatrix = z.strictObject({
  schema: z.literal('shadowbench.store-policy/1'),
  description: z.string(),
  domains: z.array(DomainPolicy),
});
export type PolicyMatrix = z.infer<typeof PolicyMatrix>;

/** JSON with sorted keys and no whitespace: the same matrix always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, o[k]]),
    );
  });
}

export function traceCorrelation(matrix: unknown): string {
  return createHash('sha256').update(canonicalJson(matrix)).digest('hex');
}

export function loadPolicy(file = POLICY_FILE): PolicyMatrix {
  return PolicyMatrix.parse(JSON.parse(readFileSync(file, 'utf8')));
}

let cached: PolicyMatrix | undefined;
/** The committed matrix, read once per process. */
export function committedPolicy(): PolicyMatrix {
  return (cached ??= loadPolicy());
}
