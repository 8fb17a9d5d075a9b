// Compiles a parsed statement against a schema: column names become byte
// offsets, so a compiled program is only valid for the schema generation it
// was compiled under (M12 and M10 key their caches on that).

import { EngineError } from '../errors.ts';
import type { Operand, Statement } from './parse.ts';

/** Column slots of every data page; a dropped column leaves a null hole. */
export interface Schema {
  columns: (string | null)[];
}

export type Program =
  | { op: 'select'; offset: number; page: Operand; params: number }
  | { op: 'sum'; offset: number; from: Operand; to: Operand; params: number }
  | { op: 'assign'; offset: number; page: Operand; value: Operand; params: number }
  | { op: 'add'; offset: number; source: number; page: Operand; delta: Operand; sign: 1 | -1; params: number };

export const COLUMN_WIDTH = 8;

export function columnOffset(schema: Schema, column: string): number {
  const i = schema.columns.indexOf(column);
  if (i < 0) throw new EngineError('misuse', `no such column: ${column}`, { column });
  return i * COLUMN_WIDTH;
}

const countParams = (...ops: Operand[]): number => ops.filter((o) => o.kind === 'param').length;

export function compile(stmt: Statement, schema: Schema): Program {
  switch (stmt.kind) {
    case 'select':
      return { op: 'select', offset: columnOffset(schema, stmt.column), page: stmt.page, params: countParams(stmt.page) };
    case 'sum':
      return { op: 'sum', offset: columnOffset(schema, stmt.column), from: stmt.from, to: stmt.to, params: countParams(stmt.from, stmt.to) };
    case 'assign':
      return { op: 'assign', offset: columnOffset(schema, stmt.column), page: stmt.page, value: stmt.value, params: countParams(stmt.page, stmt.value) };
    case 'add':
      return {
        op: 'add',
        offset: columnOffset(schema, stmt.column),
        source: columnOffset(schema, stmt.source),
        page: stmt.page,
        delta: stmt.delta,
        sign: stmt.sign,
        params: countParams(stmt.page, stmt.delta),
      };
    case 'alter':
      throw new EngineError('misuse', 'DDL runs through schemaChange(), not a prepared statement', {});
  }
}

/** Applies a DDL statement to a schema, returning the new one. */
export function applyDdl(schema: Schema, stmt: Statement, maxColumns: number): Schema {
  if (stmt.kind !== 'alter') throw new EngineError('misuse', 'schemaChange() takes ALTER ADD|DROP COLUMN', {});
  const columns = [...schema.columns];
  if (stmt.action === 'add') {
    if (columns.includes(stmt.column)) throw new EngineError('misuse', `column exists: ${stmt.column}`, { column: stmt.column });
    const hole = columns.indexOf(null);
    if (hole >= 0) columns[hole] = stmt.column;
    else if (columns.length < maxColumns) columns.push(stmt.column);
    else throw new EngineError('misuse', `no room for column ${stmt.column} (max ${maxColumns})`, {});
  } else {
    const i = columns.indexOf(stmt.column);
    if (i < 0) throw new EngineError('misuse', `no such column: ${stmt.column}`, { column: stmt.column });
    columns[i] = null;
  }
  return { columns };
}
