// Table shapes in a small portable vocabulary, so SQLite and PostgreSQL can be
// compared with each other and with the models: what a model declares
// (derived from its zod shape), what a live database has (introspected), and
// the differences between two shapes, each named by table and column.

import { sql, type Kysely } from 'kysely';
import type { z } from 'zod';
import type { Dialect } from './connect.ts';
import type { Database } from './database.ts';
import type { ModelDef } from './models.ts';

/** Portable column types. JSON is stored as text; timestamps are ISO text (UTC). */
export type PortableType = 'integer' | 'double' | 'text' | 'boolean';
/** How a value is encoded for its column: `json` columns are text holding JSON. */
export type ColumnKind = PortableType | 'json';

/** An introspected type outside the vocabulary keeps its name, so drift reports can show it. */
export type ShapeType = PortableType | `unknown:${string}`;

export interface ColumnShape {
  name: string;
  type: ShapeType;
  nullable: boolean;
}

export interface TableShape {
  name: string;
  columns: ColumnShape[];
  primary_key: string[];
  /** Secondary indexes only, sorted by name. */
  indexes: { name: string; columns: string[]; unique: boolean }[];
}

export const portable = (kind: ColumnKind): PortableType => (kind === 'json' ? 'text' : kind);

interface ZodInternals {
  _zod: { def: { type: string; innerType?: unknown } };
  isInt?: boolean;
}

/** The column kind and nullability a zod field implies. */
export function columnKind(field: z.ZodType): { kind: ColumnKind; nullable: boolean } {
  const f = field as unknown as ZodInternals;
  const def = f._zod.def;
  if (def.type === 'nullable') return { kind: columnKind(def.innerType as z.ZodType).kind, nullable: true };
  switch (def.type) {
    case 'number':
      return { kind: f.isInt === true ? 'integer' : 'double', nullable: false };
    case 'boolean':
      return { kind: 'boolean', nullable: false };
    case 'string':
    case 'enum':
    case 'literal':
      return { kind: 'text', nullable: false };
    case 'object':
    case 'record':
    case 'array':
    case 'unknown':
      return { kind: 'json', nullable: false };
    default:
      // A model field whose storage we have not decided is a programming error, not drift.
      throw new Error(`store: no column mapping for zod type '${def.type}'`);
  }
}

export function columnKinds(m: ModelDef): Map<string, ColumnKind> {
  return new Map(Object.entries(m.schema.shape).map(([name, f]) => [name, columnKind(f as z.ZodType).kind]));
}

/** The table a model declares. */
export function modelShape(m: ModelDef): TableShape {
  const columns = Object.entries(m.schema.shape).map(([name, f]) => {
    const c = columnKind(f as z.ZodType);
    return { name, type: portable(c.kind), nullable: c.nullable };
  });
  return normalize({ name: m.domain, columns, primary_key: m.primary_key, indexes: m.indexes });
}

function normalize(t: TableShape): TableShape {
  return {
    name: t.name,
    columns: [...t.columns].sort((a, b) => a.name.localeCompare(b.name)),
    primary_key: [...t.primary_key],
    indexes: t.indexes.map((i) => ({ name: i.name, columns: [...i.columns], unique: i.unique })).sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** Maps a declared SQLite type or a PostgreSQL data_type to the portable vocabulary. */
export function portableType(declared: string): ShapeType {
  const t = declared.trim().toLowerCase();
  if (t === 'integer' || t === 'bigint' || t === 'int' || t === 'int8' || t === 'int4') return 'integer';
  if (t === 'double precision' || t === 'real' || t === 'double' || t === 'float8') return 'double';
  if (t === 'text') return 'text';
  if (t === 'boolean' || t === 'bool') return 'boolean';
  return `unknown:${t}`;
}

// Introspection queries go through raw SQL because they read catalogs, not domain tables.

async function sqliteShapes(db: Kysely<Database>): Promise<TableShape[]> {
  const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db);
  const out: TableShape[] = [];
  for (const { name } of tables.rows) {
    const cols = await sql<{ name: string; type: string; notnull: number; pk: number }>`select * from pragma_table_info(${name})`.execute(db);
    const idx = await sql<{ name: string; unique: number; origin: string }>`select * from pragma_index_list(${name})`.execute(db);
    const indexes: TableShape['indexes'] = [];
    for (const i of idx.rows.filter((r) => r.origin === 'c')) {
      const ic = await sql<{ name: string; seqno: number }>`select * from pragma_index_info(${i.name}) order by seqno`.execute(db);
      indexes.push({ name: i.name, columns: ic.rows.map((r) => r.name), unique: i.unique === 1 });
    }
    out.push(
      normalize({
        name,
        // SQLite lets a text primary key hold NULL unless declared NOT NULL, so notnull is taken at its word.
        columns: cols.rows.map((c) => ({ name: c.name, type: portableType(c.type), nullable: c.notnull === 0 })),
        primary_key: cols.rows
          .filter((c) => c.pk > 0)
          .sort((a, b) => a.pk - b.pk)
          .map((c) => c.name),
        indexes,
      }),
    );
  }
  return out;
}

async function postgresShapes(db: Kysely<Database>): Promise<TableShape[]> {
  const tables = await sql<{ name: string }>`select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(db);
  const cols = await sql<{ table: string; name: string; type: string; nullable: string }>`select table_name as table, column_name as name,
    data_type as type, is_nullable as nullable from information_schema.columns where table_schema = current_schema()`.execute(db);
  const idx = await sql<{ table: string; name: string; unique: boolean; primary: boolean; columns: string[] }>`
    select t.relname as table, i.relname as name, ix.indisunique as unique, ix.indisprimary as primary,
      array_agg(a.attname::text order by k.ord) as columns
    from pg_index ix
    join pg_class i on i.oid = ix.indexrelid
    join pg_class t on t.oid = ix.indrelid
    join pg_namespace n on n.oid = t.relnamespace
    cross join lateral unnest(ix.indkey) with ordinality as k(attnum, ord)
    join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum
    where n.nspname = current_schema()
    group by t.relname, i.relname, ix.indisunique, ix.indisprimary`.execute(db);
  return tables.rows.map(({ name }) => {
    const ti = idx.rows.filter((i) => i.table === name);
    return normalize({
      name,
      columns: cols.rows.filter((c) => c.table === name).map((c) => ({ name: c.name, type: portableType(c.type), nullable: c.nullable === 'YES' })),
      primary_key: ti.find((i) => i.primary)?.columns ?? [],
      indexes: ti.filter((i) => !i.primary).map((i) => ({ name: i.name, columns: i.columns, unique: i.unique })),
    });
  });
}

/** Every base table in the database (or the current PostgreSQL schema), in portable form. */
export function introspect(db: Kysely<Database>, dialect: Dialect): Promise<TableShape[]> {
  return dialect === 'sqlite' ? sqliteShapes(db) : postgresShapes(db);
}

/**
 * Differences from `expected` to `actual`, one line each, naming the table and
 * column or index (e.g. "runs.extra: column not declared by the model").
 */
export function diffShapes(expected: readonly TableShape[], actual: readonly TableShape[], what: { expected: string; actual: string }): string[] {
  const out: string[] = [];
  const byName = new Map(actual.map((t) => [t.name, t]));
  for (const e of expected) {
    const a = byName.get(e.name);
    if (a === undefined) {
      out.push(`${e.name}: table missing from ${what.actual}`);
      continue;
    }
    byName.delete(e.name);
    const ac = new Map(a.columns.map((c) => [c.name, c]));
    for (const c of e.columns) {
      const x = ac.get(c.name);
      if (x === undefined) out.push(`${e.name}.${c.name}: column missing from ${what.actual}`);
      else {
        if (x.type !== c.type) out.push(`${e.name}.${c.name}: type ${x.type} in ${what.actual}, ${c.type} in ${what.expected}`);
        if (x.nullable !== c.nullable)
          out.push(
            `${e.name}.${c.name}: ${x.nullable ? 'nullable' : 'not null'} in ${what.actual}, ${c.nullable ? 'nullable' : 'not null'} in ${what.expected}`,
          );
      }
      ac.delete(c.name);
    }
    for (const c of ac.keys()) out.push(`${e.name}.${c}: column not declared by ${what.expected}`);
    if (e.primary_key.join(',') !== a.primary_key.join(','))
      out.push(`${e.name}: primary key (${a.primary_key.join(', ')}) in ${what.actual}, (${e.primary_key.join(', ')}) in ${what.expected}`);
    const ai = new Map(a.indexes.map((i) => [i.name, i]));
    for (const i of e.indexes) {
      const x = ai.get(i.name);
      if (x === undefined) out.push(`${e.name}: index ${i.name} missing from ${what.actual}`);
      else if (x.unique !== i.unique || x.columns.join(',') !== i.columns.join(',')) {
        out.push(
          `${e.name}: index ${i.name} is ${x.unique ? 'unique ' : ''}(${x.columns.join(', ')}) in ${what.actual}, ${i.unique ? 'unique ' : ''}(${i.columns.join(', ')}) in ${what.expected}`,
        );
      }
      ai.delete(i.name);
    }
    for (const i of ai.keys()) out.push(`${e.name}: index ${i} not declared by ${what.expected}`);
  }
  for (const t of byName.keys()) out.push(`${t}: table not declared by ${what.expected}`);
  return out;
}
