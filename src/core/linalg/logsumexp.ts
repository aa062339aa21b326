// Stable log-sum-exp: log Σ exp(v_i) without overflow (shift by the maximum).

/** log Σ_i exp(v[i]) for the slice [start, start + len) with stride `stride`. */
export function logSumExp(v: ArrayLike<number>, start = 0, len = v.length - start, stride = 1): number {
  let m = -Infinity;
  for (let k = 0, i = start; k < len; k++, i += stride) if (v[i] > m) m = v[i];
  if (m === -Infinity) return -Infinity;
  if (m === Infinity) return Infinity;
  let s = 0;
  for (let k = 0, i = start; k < len; k++, i += stride) s += Math.exp(v[i] - m);
  return m + Math.log(s);
}
