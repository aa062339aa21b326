// Selection (Hoare's quickselect with median-of-three pivots): the k-th largest value of an
// array in O(n) expected time, without sorting. Used for magnitude thresholds and quantiles.

/**
 * The k-th largest value (k = 1 is the maximum) of `values`. `scratch` (length ≥ values.length)
 * may be passed to avoid an allocation; `values` itself is not modified.
 */
export function kthLargest(values: ArrayLike<number>, k: number, scratch?: Float64Array): number {
  const n = values.length;
  if (!(k >= 1 && k <= n)) throw new Error(`kthLargest: k must be in [1, ${n}], got ${k}`);
  const a = scratch && scratch.length >= n ? scratch : new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = values[i];
  // k-th largest = element of rank n − k in ascending order
  const target = n - k;
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three into a[mid]
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

/** The q-quantile (0 ≤ q ≤ 1, nearest-rank, lower) of `values`. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${q}`);
  const rank = Math.floor(q * (values.length - 1)); // ascending rank
  return kthLargest(values, values.length - rank);
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
