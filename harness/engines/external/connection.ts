// A connection onto an external engine, from a pool worker: each call is one
// request through the connection's slot, answered synchronously (the worker
// blocks in Atomics.wait until the host thread hands the answer back, or the
// timeout passes). Typed errors come back as EngineError; a timeout, a dead
// or babbling peer breaks the connection with a cause that names the command.

import { EngineError, writeRecord, type EngineErrorCode, type FieldRecord, type TxnKind } from '../../../engine/index.ts';
import { Xorshift32 } from '../../shared/random.ts';
import type { ConnectionSinks, EngineConnection } from '../connection.ts';
import { IDLE, REQUEST, RESPONSE, Slot } from './channel.ts';
import type { ExternalHandle } from './handle.ts';
import { fieldRecordSchema, PEER_FAILED } from './protocol.ts';

const ERROR_CODES: ReadonlySet<string> = new Set<EngineErrorCode>([
  'busy',
  'write_conflict',
  'schema_changed',
  'session_not_found',
  'corrupt',
  'io',
  'misuse',
  'config',
]);

interface RawAnswer {
  ok: boolean;
  result?: unknown;
  fields?: unknown;
  error?: string;
  message?: string;
}

export class ExternalConnection implements EngineConnection {
  private readonly slot: Slot;
  private tx = false;
  /** Set once the peer failed this connection: every later call throws it again. */
  private broken: Error | null = null;
  /** Trace ids of this connection's transactions (the peer has none of its own). */
  private readonly traceRng: Xorshift32;

  constructor(
    private readonly h: ExternalHandle,
    private readonly conn: number,
    private readonly sinks: ConnectionSinks,
  ) {
    const sab = h.slots[conn];
    if (sab === undefined) throw new Error(`external engine: no slot for connection ${conn} (${h.slots.length} slots)`);
    this.slot = new Slot(sab);
    this.traceRng = new Xorshift32(0x5eed + conn * 104729);
    this.call('connect', {});
  }

  get inTransaction(): boolean {
    return this.tx;
  }

  begin(kind: TxnKind): void {
    const r = this.traceRng;
    this.sinks.rows?.beginTransaction(r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32());
    this.call('begin', { kind });
    this.tx = true;
  }

  exec(sql: string, params: readonly number[]): number {
    return this.number('exec', this.call('exec', { sql, params }));
  }

  /** A failed commit leaves the transaction open: the Driver rolls it back. */
  commit(): void {
    this.call('commit', {});
    this.tx = false;
  }

  rollback(): void {
    // On a broken connection the error that broke it is the one to report.
    if (this.broken !== null) return;
    this.tx = false;
    this.call('rollback', {});
  }

  schemaChange(ddl: string): void {
    this.call('ddl', { sql: ddl });
  }

  checkpoint(): void {
    this.call('checkpoint', {});
  }

  prepare(sql: string): { run(): number } {
    const stmt = this.number('prepare', this.call('prepare', { sql }));
    return { run: () => this.number('run', this.call('run', { stmt })) };
  }

  waitForCommit(seq: number, timeoutMs: number): boolean {
    const r = this.call('wait', { seq, timeout_ms: timeoutMs }, timeoutMs);
    if (typeof r !== 'boolean') throw this.break(`answered wait with ${JSON.stringify(r)}, not true or false`);
    return r;
  }

  visibleCommitSeq(): number {
    return this.number('visible', this.call('visible', {}));
  }

  close(): void {
    if (this.broken === null) this.call('disconnect', {});
    this.broken ??= new Error('external engine: connection closed');
  }

  private number(op: string, r: unknown): number {
    if (typeof r !== 'number') throw this.break(`answered ${op} with ${JSON.stringify(r)}, not a number`);
    return r;
  }

  private break(what: string): Error {
    this.broken = new Error(`external engine \`${this.h.command}\` ${what} (connection ${this.conn})`);
    return this.broken;
  }

  /** `extraMs`: an operation that may legitimately take that long (a wait) gets it on top of the timeout. */
  private call(op: string, body: Record<string, unknown>, extraMs = 0): unknown {
    if (this.broken !== null) throw this.broken;
    this.slot.put(JSON.stringify({ op, conn: this.conn, ...body }), REQUEST);
    const deadline = performance.now() + this.h.timeout_ms + extraMs;
    for (let s = this.slot.state; s !== RESPONSE; s = this.slot.state) {
      const left = deadline - performance.now();
      if (left <= 0) throw this.break(`did not answer ${op} within ${this.h.timeout_ms + extraMs} ms`);
      Atomics.wait(this.slot.words, 0, s, left);
    }
    const text = this.slot.take();
    this.slot.set(IDLE);
    let a: RawAnswer;
    try {
      a = JSON.parse(text) as RawAnswer;
    } catch {
      throw this.break(`answered ${op} with garbage`);
    }
    if (!a.ok) {
      if (a.error === PEER_FAILED) {
        this.broken = new Error(a.message ?? `external engine \`${this.h.command}\` failed`);
        throw this.broken;
      }
      if (a.error === undefined || !ERROR_CODES.has(a.error)) throw this.break(`answered ${op} with unknown error ${JSON.stringify(a.error)}`);
      throw new EngineError(a.error as EngineErrorCode, `external engine: ${op}: ${a.error}${a.message === undefined ? '' : ` (${a.message})`}`);
    }
    if (a.fields !== undefined) this.report(op, a.fields);
    return a.result;
  }

  private report(op: string, fields: unknown): void {
    const rows = this.sinks.rows;
    if (rows === null) return;
    const parsed = fieldRecordSchema.array().safeParse(fields);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw this.break(`answered ${op} with a malformed field record: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`);
    }
    // The peer's records carry no times of their own: they are placed at the answer.
    const now = performance.now();
    for (const r of parsed.data) writeRecord(rows, r as unknown as FieldRecord, now, now);
  }
}
