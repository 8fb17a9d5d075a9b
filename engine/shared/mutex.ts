// A futex-style mutex over one Int32 word (0 free, 1 held, 2 held with
// waiters): uncontended lock and unlock are a single CAS each, and waiters
// sleep in Atomics.wait instead of spinning.

const FREE = 0;
const HELD = 1;
const CONTENDED = 2;

export function tryLock(word: Int32Array, index: number): boolean {
  return Atomics.compareExchange(word, index, FREE, HELD) === FREE;
}

/** Acquires the mutex; returns false if `timeoutMs` elapsed first. */
export function lock(word: Int32Array, index: number, timeoutMs = Infinity): boolean {
  let c = Atomics.compareExchange(word, index, FREE, HELD);
  if (c === FREE) return true;
  const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
  do {
    if (c === CONTENDED || Atomics.compareExchange(word, index, HELD, CONTENDED) !== FREE) {
      const left = deadline === Infinity ? Infinity : deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(word, index, CONTENDED, left);
    }
    c = Atomics.compareExchange(word, index, FREE, CONTENDED);
  } while (c !== FREE);
  return true;
}

export function unlock(word: Int32Array, index: number): void {
  if (Atomics.sub(word, index, 1) !== HELD) {
    Atomics.store(word, index, FREE);
    Atomics.notify(word, index, 1);
  }
}

/** True while someone holds the mutex (diagnostics and tests only). */
export function isLocked(word: Int32Array, index: number): boolean {
  return Atomics.load(word, index) !== FREE;
}
