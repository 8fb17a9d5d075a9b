// The database as Kysely sees it, derived from the typed models: one table
// per domain, one column per model field, typed as stored. JSON fields are
// text, booleans are 0/1 on SQLite; table.ts encodes and decodes, and zod
// validates every row on the way in and out.

import type { z } from 'zod';
import type { MODELS } from './models.ts';

/** A field's stored type: strings (and their enums) and numbers as they are, booleans as stored by either dialect, anything else as JSON text. */
type Stored<T> = T extends null ? null : T extends string ? T : T extends number ? number : T extends boolean ? boolean | number : string;

type TableOf<Row> = { [K in keyof Row]-?: Stored<Row[K]> };

type Model = (typeof MODELS)[number];

export type Database = { [M in Model as M['domain']]: TableOf<z.infer<M['schema']>> };
