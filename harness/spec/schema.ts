// The workload spec: declarative data (JSON or YAML), never code. One file
// per workload in workloads/. The zod schema is the single definition of the
// format: it gives the TypeScript type and the validation with field paths.

import { z } from 'zod';
import { BACKENDS, FSYNC_POLICIES, METADATA_CLASSES } from '../../engine/index.ts';

/** Operation kinds a workload mixes. One operation is one transaction (or one DDL, checkpoint, wait). */
export const OP_KINDS = ['read', 'write', 'concurrent_write', 'ddl', 'checkpoint', 'prepare', 'wait'] as const;
export type OpKind = (typeof OP_KINDS)[number];

const positiveInt = z.number().int().positive();

const keys = z.discriminatedUnion('distribution', [
  z.object({ distribution: z.literal('uniform') }).strict(),
  /** YCSB-style zipfian over the key range; theta in (0, 1). */
  z.object({ distribution: z.literal('zipfian'), theta: z.number().gt(0).lt(1).default(0.99) }).strict(),
  /** A hot set: `hot_fraction` of the keys receive `hot_probability` of the accesses. */
  z
    .object({
      distribution: z.literal('hotset'),
      hot_fraction: z.number().gt(0).lt(1),
      hot_probability: z.number().gt(0).max(1),
    })
    .strict(),
  /** Every connection owns its own slice of the key range (no two writers touch a key). */
  z.object({ distribution: z.literal('disjoint') }).strict(),
]);

const load = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('closed') }).strict(),
  /** Open loop: operations are scheduled at this rate per connection; latency counts from the intended start. */
  z.object({ mode: z.literal('open'), rate_per_sec: z.number().positive() }).strict(),
]);

const mix = z
  .object(Object.fromEntries(OP_KINDS.map((k) => [k, z.number().min(0).default(0)])) as Record<OpKind, z.ZodDefault<z.ZodNumber>>)
  .strict()
  .refine((m) => Object.values(m).some((w) => w > 0), { message: 'at least one operation kind needs a positive weight' });

const amount = z
  .object({ duration_ms: positiveInt.optional(), operations: positiveInt.optional() })
  .strict()
  .refine((a) => (a.duration_ms === undefined) !== (a.operations === undefined), { message: 'give exactly one of duration_ms or operations' });

export const workloadSpecSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    description: z.string().min(1),
    /** The metadata classes and card verification lines this workload serves. */
    serves: z
      .object({
        classes: z.array(z.enum(METADATA_CLASSES)).min(1),
        verification: z.array(z.string().min(1)).min(1),
      })
      .strict(),
    backends: z.array(z.enum(BACKENDS)).min(1),
    concurrency: z.array(z.number().int().min(1).max(64)).min(1),
    engine: z
      .object({
        pageSize: z.number().int().min(512).max(65536).default(4096),
        pageCount: z
          .number()
          .int()
          .min(16)
          .max(1 << 20)
          .default(2048),
        fsync: z.enum(FSYNC_POLICIES).default('normal'),
        versionsPerPage: z.number().int().min(2).max(64).default(8),
      })
      .strict()
      .default({ pageSize: 4096, pageCount: 2048, fsync: 'normal', versionsPerPage: 8 }),
    /** The fixture every cell starts from: `rows` pages with column `balance` = `initial_balance`. */
    fixture: z
      .object({
        rows: positiveInt,
        initial_balance: z.number().int().default(1000),
        /** SHA-256 of the fixture database's state; a mismatch stops the run. */
        sha256: z
          .string()
          .regex(/^[0-9a-f]{64}$/)
          .optional(),
      })
      .strict(),
    mix,
    transaction: z
      .object({
        /** Statements per read or write transaction (at most 255: a trace stores an op's key count in one byte). */
        statements: positiveInt.max(255).default(4),
        /** Retries of a transaction that failed with a retryable error (busy, conflict); then it counts as failed. */
        max_retries: z.number().int().min(0).default(50),
      })
      .strict()
      .default({ statements: 4, max_retries: 50 }),
    keys,
    load: load.default({ mode: 'closed' }),
    run: amount,
    warmup: amount.optional(),
    /** Wait operations give up after this long. */
    wait_timeout_ms: positiveInt.default(5),
    /** Overrides for the quick suite (`npm run bench`). */
    quick: z
      .object({ run: amount.optional(), warmup: amount.optional(), concurrency: z.array(z.number().int().min(1).max(64)).min(1).optional() })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.fixture.rows >= s.engine.pageCount) {
      ctx.addIssue({ code: 'custom', path: ['fixture', 'rows'], message: `must be below engine.pageCount (${s.engine.pageCount})` });
    }
    if (s.concurrency.includes(1) && OP_KINDS.every((k) => k === 'wait' || s.mix[k] === 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['mix'],
        message: 'only waits: a one-connection cell drops its waits (there is no other commit to wait for), so concurrency 1 would run nothing',
      });
    }
  });

export type WorkloadSpec = z.output<typeof workloadSpecSchema>;
export type WorkloadInput = z.input<typeof workloadSpecSchema>;
export type KeySpec = WorkloadSpec['keys'];
export type AmountSpec = NonNullable<WorkloadSpec['warmup']>;
