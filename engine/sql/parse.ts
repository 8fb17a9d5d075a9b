// The engine's statement language: just enough SQL-shaped text to give the
// parse cache, the compile cache and the schema cookie real work.
//
//   SELECT <col> FROM <page>
//   SELECT SUM(<col>) FROM <page> TO <page>        (half-open range)
//   UPDATE <page> SET <col> = <int>
//   UPDATE <page> SET <col> = <col> + <int>        (or -)
//   ALTER ADD COLUMN <col> | ALTER DROP COLUMN <col>   (DDL)
//
// <page> and <int> are integer literals or `?` parameters, bound in order.

import { EngineError } from '../errors.ts';

export type Operand = { kind: 'lit'; value: number } | { kind: 'param'; index: number };

export type Statement =
  | { kind: 'select'; column: string; page: Operand }
  | { kind: 'sum'; column: string; from: Operand; to: Operand }
  | { kind: 'assign'; page: Operand; column: string; value: Operand }
  | { kind: 'add'; page: Operand; column: string; source: string; delta: Operand; sign: 1 | -1 }
  | { kind: 'alter'; action: 'add' | 'drop'; column: string };

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseStatement(text: string): Statement {
  const tokens =
    text
      .trim()
      .replace(/;$/, '')
      .match(/\?|[A-Za-z_][A-Za-z0-9_]*|-?\d+|[(),=+-]/g) ?? [];
  let pos = 0;
  let params = 0;
  const err = (what: string): never => {
    throw new EngineError('misuse', `cannot parse statement "${text}": expected ${what} at token ${pos + 1}`, { statement: text });
  };
  const peek = (): string => tokens[pos] ?? '';
  const kw = (word: string): void => {
    if (peek().toUpperCase() !== word) err(word);
    pos++;
  };
  const ident = (): string => {
    const t = peek();
    if (!IDENT.test(t)) err('a column name');
    pos++;
    return t;
  };
  const operand = (): Operand => {
    const t = peek();
    pos++;
    if (t === '?') return { kind: 'param', index: params++ };
    if (/^-?\d+$/.test(t)) return { kind: 'lit', value: Number(t) };
    return err('an integer or ?');
  };
  const end = <S extends Statement>(s: S): S => {
    if (pos !== tokens.length) err('end of statement');
    return s;
  };
  const head = peek().toUpperCase();
  pos++;
  if (head === 'SELECT') {
    if (peek().toUpperCase() === 'SUM') {
      pos++;
      kw('(');
      const column = ident();
      kw(')');
      kw('FROM');
      const from = operand();
      kw('TO');
      return end({ kind: 'sum', column, from, to: operand() });
    }
    const column = ident();
    kw('FROM');
    return end({ kind: 'select', column, page: operand() });
  }
  if (head === 'UPDATE') {
    const page = operand();
    kw('SET');
    const column = ident();
    kw('=');
    if (IDENT.test(peek())) {
      const source = ident();
      const op = peek();
      if (op !== '+' && op !== '-') err('+ or -');
      pos++;
      return end({ kind: 'add', page, column, source, delta: operand(), sign: op === '+' ? 1 : -1 });
    }
    return end({ kind: 'assign', page, column, value: operand() });
  }
  if (head === 'ALTER') {
    const action = peek().toUpperCase();
    if (action !== 'ADD' && action !== 'DROP') err('ADD or DROP');
    pos++;
    kw('COLUMN');
    return end({ kind: 'alter', action: action === 'ADD' ? 'add' : 'drop', column: ident() });
  }
  return err('SELECT, UPDATE or ALTER');
}
