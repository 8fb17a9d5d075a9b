// A connection's request slot: a SharedArrayBuffer the worker and the peer
// host thread hand messages through. The worker blocks in Atomics.wait (the
// Driver is synchronous); the host waits with Atomics.waitAsync, so its event
// loop keeps serving the peer's pipes.
//
// Int32 words: [state, length]; then `length` bytes of UTF-8 JSON.
//   IDLE ─worker─► REQUEST ─host─► PENDING ─host─► RESPONSE ─worker─► IDLE

export const IDLE = 0;
export const REQUEST = 1;
export const PENDING = 2;
export const RESPONSE = 3;

const HEADER = 8;
/** Room for one message: requests are small; a response carries its field records. */
export const SLOT_BYTES = 1 << 18;

export const newSlot = (): SharedArrayBuffer => new SharedArrayBuffer(HEADER + SLOT_BYTES);

export class Slot {
  readonly words: Int32Array;
  private readonly bytes: Buffer;
  constructor(sab: SharedArrayBuffer) {
    this.words = new Int32Array(sab, 0, 2);
    this.bytes = Buffer.from(sab, HEADER, SLOT_BYTES);
  }

  get state(): number {
    return Atomics.load(this.words, 0);
  }

  /** Writes a message and moves to `state`, waking whoever waits on the slot. */
  put(text: string, state: number): void {
    const n = this.bytes.write(text, 'utf8');
    if (n === SLOT_BYTES) throw new Error(`external engine: message of ${Buffer.byteLength(text)} bytes does not fit a ${SLOT_BYTES}-byte slot`);
    Atomics.store(this.words, 1, n);
    Atomics.store(this.words, 0, state);
    Atomics.notify(this.words, 0);
  }

  take(): string {
    return this.bytes.toString('utf8', 0, Atomics.load(this.words, 1));
  }

  set(state: number): void {
    Atomics.store(this.words, 0, state);
  }
}
