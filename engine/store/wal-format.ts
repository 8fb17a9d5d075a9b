// On-disk formats of the file backend.
//
// Database file: a 512-byte header, then page p at 512 + p * pageSize.
// WAL file:      a 32-byte header, then frames of 40-byte header + page.
// Every WAL frame carries its page number, commit sequence, the WAL
// generation's salts and a running checksum chained from the previous frame
// (seeded by the header's), so a torn or corrupt frame, or one left over from
// an earlier generation, is detected and never applied. The last frame of a
// transaction carries the database size after the commit: only then is the
// transaction complete.

export const DB_HEADER_SIZE = 512;
export const DB_MAGIC = 0x53424442; // 'SBDB'
export const WAL_HEADER_SIZE = 32;
export const WAL_MAGIC = 0x53424957; // 'SBIW'
export const WAL_VERSION = 1;
export const FRAME_HEADER_SIZE = 40;

export interface DbHeader {
  pageSize: number;
  pageCount: number;
  commit_seq: number;
  db_size: number;
  schema_cookie: number;
  schema_generation: number;
  checkpoint_seq: number;
}

export interface WalHeader {
  pageSize: number;
  checkpoint_seq: number;
  salt1: number;
  salt2: number;
  cksum1: number;
  cksum2: number;
}

export interface FrameHeader {
  pgno: number;
  commit_seq: number;
  /** Database size after the commit on a commit frame; 0 on the others. */
  db_size: number;
  schema_cookie: number;
  schema_generation: number;
  salt1: number;
  salt2: number;
  cksum1: number;
  cksum2: number;
}

/** SQLite-style running checksum over 32-bit little-endian words. */
export function checksum(bytes: Uint8Array, s1: number, s2: number): [number, number] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let a = s1 | 0;
  let b = s2 | 0;
  for (let i = 0; i + 8 <= bytes.byteLength; i += 8) {
    a = (a + dv.getInt32(i, true) + b) | 0;
    b = (b + dv.getInt32(i + 4, true) + a) | 0;
  }
  return [a >>> 0, b >>> 0];
}

export function encodeDbHeader(h: DbHeader): Uint8Array {
  const buf = new Uint8Array(DB_HEADER_SIZE);
  const dv = new DataView(buf.buffer);
  const words = [DB_MAGIC, 1, h.pageSize, h.pageCount, h.commit_seq, h.db_size, h.schema_cookie, h.schema_generation, h.checkpoint_seq];
  words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
  const [c1, c2] = checksum(buf.subarray(0, 40), 0, 0);
  dv.setUint32(40, c1, true);
  dv.setUint32(44, c2, true);
  return buf;
}

export function decodeDbHeader(buf: Uint8Array): DbHeader | string {
  if (buf.byteLength < DB_HEADER_SIZE) return 'file shorter than its header';
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) !== DB_MAGIC) return 'not a shadowbench database (bad magic)';
  const [c1, c2] = checksum(buf.subarray(0, 40), 0, 0);
  if (dv.getUint32(40, true) !== c1 || dv.getUint32(44, true) !== c2) return 'header checksum mismatch';
  return {
    pageSize: dv.getUint32(8, true),
    pageCount: dv.getUint32(12, true),
    commit_seq: dv.getUint32(16, true),
    db_size: dv.getUint32(20, true),
    schema_cookie: dv.getUint32(24, true),
    schema_generation: dv.getUint32(28, true),
    checkpoint_seq: dv.getUint32(32, true),
  };
}

export function encodeWalHeader(pageSize: number, checkpoint_seq: number, salt1: number, salt2: number): { bytes: Uint8Array; header: WalHeader } {
  const buf = new Uint8Array(WAL_HEADER_SIZE);
  const dv = new DataView(buf.buffer);
  [WAL_MAGIC, WAL_VERSION, pageSize, checkpoint_seq, salt1, salt2].forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
  const [c1, c2] = checksum(buf.subarray(0, 24), 0, 0);
  dv.setUint32(24, c1, true);
  dv.setUint32(28, c2, true);
  return { bytes: buf, header: { pageSize, checkpoint_seq, salt1: salt1 >>> 0, salt2: salt2 >>> 0, cksum1: c1, cksum2: c2 } };
}

export function decodeWalHeader(buf: Uint8Array): WalHeader | null {
  if (buf.byteLength < WAL_HEADER_SIZE) return null;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) !== WAL_MAGIC || dv.getUint32(4, true) !== WAL_VERSION) return null;
  const [c1, c2] = checksum(buf.subarray(0, 24), 0, 0);
  if (dv.getUint32(24, true) !== c1 || dv.getUint32(28, true) !== c2) return null;
  return {
    pageSize: dv.getUint32(8, true),
    checkpoint_seq: dv.getUint32(12, true),
    salt1: dv.getUint32(16, true),
    salt2: dv.getUint32(20, true),
    cksum1: c1,
    cksum2: c2,
  };
}

/**
 * Writes one frame (header + page) into `out` at `offset`, chaining the
 * checksum from (s1, s2); returns the frame's checksum for the next one.
 */
export function encodeFrame(
  out: Uint8Array,
  offset: number,
  f: Omit<FrameHeader, 'cksum1' | 'cksum2'>,
  page: Uint8Array,
  s1: number,
  s2: number,
): [number, number] {
  const dv = new DataView(out.buffer, out.byteOffset + offset, FRAME_HEADER_SIZE);
  [f.pgno, f.commit_seq, f.db_size, f.schema_cookie, f.schema_generation, f.salt1, f.salt2, 0].forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
  out.set(page, offset + FRAME_HEADER_SIZE);
  let [a, b] = checksum(out.subarray(offset, offset + 32), s1, s2);
  [a, b] = checksum(page, a, b);
  dv.setUint32(32, a, true);
  dv.setUint32(36, b, true);
  return [a, b];
}

export function decodeFrameHeader(buf: Uint8Array, offset: number): FrameHeader {
  const dv = new DataView(buf.buffer, buf.byteOffset + offset, FRAME_HEADER_SIZE);
  const u = (i: number): number => dv.getUint32(i * 4, true);
  return { pgno: u(0), commit_seq: u(1), db_size: u(2), schema_cookie: u(3), schema_generation: u(4), salt1: u(5), salt2: u(6), cksum1: u(8), cksum2: u(9) };
}

/** Verifies a frame against the running checksum; returns the next checksum or null if it is torn or corrupt. */
export function verifyFrame(buf: Uint8Array, offset: number, pageSize: number, s1: number, s2: number): [number, number] | null {
  const h = decodeFrameHeader(buf, offset);
  let [a, b] = checksum(buf.subarray(offset, offset + 32), s1, s2);
  [a, b] = checksum(buf.subarray(offset + FRAME_HEADER_SIZE, offset + FRAME_HEADER_SIZE + pageSize), a, b);
  return a === h.cksum1 && b === h.cksum2 ? [a, b] : null;
}
