// The median of the first n values of a Float64Array, found in place
// (Hoare's selection, expected O(n)): a chunk's median latency, computed
// between chunks without sorting or allocating.

/** The median (the upper one for even n) of a[0..n); reorders them. NaN for n = 0. */
export function medianInPlace(a: Float64Array, n: number): number {
  if (n <= 0) return NaN;
  const k = n >> 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k]!;
}
