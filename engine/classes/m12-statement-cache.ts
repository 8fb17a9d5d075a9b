// M12 — parse cache + compiled statement cache, per connection (LRU). Parsed
// statements survive schema changes; compiled programs are keyed by the
// schema generation and dropped when it changes. Never shared across
// connections.

import { COL, kindOf } from '../records/columns.ts';
import { compile, type Program, type Schema } from '../sql/compile.ts';
import { parseStatement, type Statement } from '../sql/parse.ts';
import { injectDelay, type ClassContext } from './context.ts';

const C = COL.M12;
const PARSE_HIT = kindOf('M12', 'parse_hit');
const PARSE_MISS = kindOf('M12', 'parse_miss');
const COMPILE_HIT = kindOf('M12', 'compile_hit');
const COMPILE_MISS = kindOf('M12', 'compile_miss');
const INVALIDATE = kindOf('M12', 'invalidate');

const CAPACITY = 128;

/** A Map used as an LRU: re-inserting on hit keeps the newest last. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > CAPACITY) this.map.delete(this.map.keys().next().value!);
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}

export class M12StatementCache {
  private readonly parsed = new Lru<Statement>();
  private readonly compiled = new Lru<Program>();
  private generation = -1;
  constructor(private readonly ctx: ClassContext) {}

  parse(text: string, cookie: number, generation: number): Statement {
    const t0 = this.start();
    injectDelay(this.ctx, 'M12');
    let stmt = this.parsed.get(text);
    const hit = stmt !== undefined;
    if (stmt === undefined) {
      stmt = parseStatement(text);
      this.parsed.set(text, stmt);
    }
    this.record(hit ? PARSE_HIT : PARSE_MISS, t0, cookie, generation, this.parsed.size);
    return stmt;
  }

  /** The program for `text` under the given schema, compiled at most once per schema generation. */
  program(text: string, schema: Schema, cookie: number, generation: number): Program {
    if (generation !== this.generation) this.invalidate(cookie, generation);
    const stmt = this.parse(text, cookie, generation);
    const t0 = this.start();
    let prog = this.compiled.get(text);
    const hit = prog !== undefined;
    if (prog === undefined) {
      prog = compile(stmt, schema);
      this.compiled.set(text, prog);
    }
    this.record(hit ? COMPILE_HIT : COMPILE_MISS, t0, cookie, generation, this.compiled.size);
    return prog;
  }

  /** Drops compiled programs (a schema change). */
  invalidate(cookie: number, generation: number): void {
    const t0 = this.start();
    const had = this.compiled.size;
    this.compiled.clear();
    const first = this.generation < 0;
    this.generation = generation;
    if (!first) this.record(INVALIDATE, t0, cookie, generation, had);
  }

  private start(): number {
    const sink = this.ctx.sink;
    return sink === null ? 0 : sink.start();
  }

  private record(kind: number, t0: number, cookie: number, generation: number, size: number): void {
    const sink = this.ctx.sink;
    if (sink === null) return;
    const o = sink.open(kind, t0);
    const r = sink.rows;
    r[o + C.schema_cookie] = cookie;
    r[o + C.schema_generation] = generation;
    r[o + C.cache_size] = size;
    r[o + C.lane_id] = this.ctx.slot;
    sink.done();
  }
}
