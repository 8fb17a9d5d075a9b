// Compact operation traces for record and replay. One file per connection:
// a JSON header line, then per operation: kind (u8), key count (u8), and per
// key a u32 key and a u8 delta. A kind of 255 marks where a slice ended
// (version 1 traces have one, after the warm-up). Replay reads the same
// operations in the same order per connection, slice by slice.

import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { OP_KINDS, type OpKind } from '../spec/schema.ts';
import type { Op, OpStream } from './stream.ts';

export interface TraceHeader {
  format: 'shadowbench-trace';
  version: 1 | 2;
  workload: string;
  seed: number;
  connection: number;
  connections: number;
}

const KIND_INDEX = new Map<OpKind, number>(OP_KINDS.map((k, i) => [k, i]));
const PHASE_MARK = 255;

export class TraceWriter {
  private readonly fd: number;
  private buf = new Uint8Array(64 * 1024);
  private len = 0;

  constructor(
    readonly path: string,
    header: Omit<TraceHeader, 'format' | 'version'>,
  ) {
    this.fd = openSync(path, 'w');
    const line = new TextEncoder().encode(`${JSON.stringify({ format: 'shadowbench-trace', version: 2, ...header })}\n`);
    writeSync(this.fd, line);
  }

  append(op: Op): void {
    const need = 2 + op.keys.length * 5;
    if (this.len + need > this.buf.byteLength) this.flush();
    const dv = new DataView(this.buf.buffer);
    dv.setUint8(this.len, KIND_INDEX.get(op.kind)!);
    dv.setUint8(this.len + 1, op.keys.length);
    let o = this.len + 2;
    for (let i = 0; i < op.keys.length; i++) {
      dv.setUint32(o, op.keys[i]!, true);
      dv.setUint8(o + 4, op.deltas[i]!);
      o += 5;
    }
    this.len = o;
  }

  /** Marks the end of a slice. */
  markSliceEnd(): void {
    if (this.len + 1 > this.buf.byteLength) this.flush();
    this.buf[this.len++] = PHASE_MARK;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.len > 0) writeSync(this.fd, this.buf, 0, this.len);
    this.len = 0;
  }
}

export function readTraceHeader(bytes: Uint8Array, path: string): { header: TraceHeader; body: number } {
  const nl = bytes.indexOf(10);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(0, nl)));
  } catch {
    header = null;
  }
  const h = header as Partial<TraceHeader> | null;
  if (nl < 0 || h === null || h.format !== 'shadowbench-trace' || (h.version !== 1 && h.version !== 2))
    throw new Error(`${path}: not a shadowbench trace (bad header)`);
  return { header: h as TraceHeader, body: nl + 1 };
}

/** Replays a recorded stream: `next()` returns null at each slice mark and at the end. */
export function traceStream(path: string): OpStream & { header: TraceHeader } {
  const bytes = new Uint8Array(readFileSync(path));
  const { header, body } = readTraceHeader(bytes, path);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = body;
  return {
    header,
    next(): Op | null {
      if (o >= bytes.byteLength) return null;
      if (dv.getUint8(o) === PHASE_MARK) {
        o++;
        return null;
      }
      const kind = OP_KINDS[dv.getUint8(o)];
      const n = dv.getUint8(o + 1);
      if (kind === undefined || o + 2 > bytes.byteLength || o + 2 + n * 5 > bytes.byteLength) throw new Error(`${path}: corrupt trace at byte ${o}`);
      o += 2;
      const keys: number[] = [];
      const deltas: number[] = [];
      for (let i = 0; i < n; i++) {
        keys.push(dv.getUint32(o, true));
        deltas.push(dv.getUint8(o + 4));
        o += 5;
      }
      return { kind, keys, deltas };
    },
  };
}
