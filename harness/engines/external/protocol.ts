// The line protocol between shadowbench and an external engine, version 1:
// newline-delimited JSON on the peer's stdin/stdout, one request per line,
// one answer per request, matched by `id` (answers may come out of order:
// a `wait` answers when a commit lands or its timeout passes). docs/variants.md,
// "External engines", documents it with a complete session.

import { z } from 'zod';
import { METADATA_CLASSES, OPERATIONS } from '../../../engine/index.ts';
import { LATENCY_FIELDS, VALUE_FIELDS } from '../../record/fields.ts';

export const PROTOCOL_VERSION = 1;

const primitive = z.union([z.number(), z.string(), z.boolean(), z.null()]);

/** A card field record: `metadata_class`, `operation` and the card's fields; trace_id and timings optional. Fields the recorder measures must be numbers. */
export const fieldRecordSchema = z
  .object({ metadata_class: z.enum(METADATA_CLASSES), operation: z.string() })
  .catchall(primitive)
  .superRefine((r, ctx) => {
    const operations: readonly string[] = OPERATIONS[r.metadata_class];
    if (!operations.includes(r.operation)) {
      ctx.addIssue({
        code: 'custom',
        path: ['operation'],
        message: `${r.metadata_class} has no operation ${JSON.stringify(r.operation)} (its card's: ${operations.join(', ')})`,
      });
    }
    for (const { field } of [...(LATENCY_FIELDS[r.metadata_class] ?? []), ...(VALUE_FIELDS[r.metadata_class] ?? [])]) {
      if (r[field] !== undefined && typeof r[field] !== 'number')
        ctx.addIssue({ code: 'custom', path: [field], message: `${r.metadata_class}.${field} must be a number` });
    }
  });

export const answerSchema = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), result: z.unknown().optional(), fields: z.array(fieldRecordSchema).optional() }).strict(),
  z.object({ id: z.number().int(), ok: z.literal(false), error: z.string().min(1), message: z.string().optional() }).strict(),
]);
export type Answer = z.infer<typeof answerSchema>;

export const helloSchema = z
  .object({
    protocol: z.literal(PROTOCOL_VERSION),
    engine: z.string().min(1),
    /** Card fields the engine reports, per metadata class. Classes left out are "not reported by this engine". */
    fields: z.partialRecord(z.enum(METADATA_CLASSES), z.array(z.string())),
  })
  .strict();
export type Hello = z.infer<typeof helloSchema>;

/** The error an answer names when the host, not the peer, failed the request (peer died, garbage, …). */
export const PEER_FAILED = 'peer_failed';
