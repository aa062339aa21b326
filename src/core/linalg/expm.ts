// Matrix exponential of a small dense matrix by scaling and squaring with a [6/6] Padé
// approximant (Higham's classic scheme, as in NOTEARS' acyclicity h(W) = tr(exp(W∘W)) − d).
import { solveGeneral } from './lu';

function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  }
  return c;
}

/** exp(A) for an n×n row-major matrix. */
export function expm(a: Float64Array, n: number): Float64Array {
  let norm1 = 0; // 1-norm: max column sum
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.abs(a[i * n + j]);
    norm1 = Math.max(norm1, s);
  }
  const squarings = norm1 > 0.5 ? Math.max(0, Math.ceil(Math.log2(norm1 / 0.5))) : 0;
  const scale = 1 / 2 ** squarings;
  const x = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) x[i] = a[i] * scale;
  // Padé [q/q] coefficients c_k = (2q−k)! q! / ((2q)! k! (q−k)!), q = 6.
  const q = 6;
  const c = [1];
  for (let k = 1; k <= q; k++) c.push((c[k - 1] * (q - k + 1)) / (k * (2 * q - k + 1)));
  const num = new Float64Array(n * n);
  const den = new Float64Array(n * n);
  let power: Float64Array = new Float64Array(n * n);
  for (let i = 0; i < n; i++) power[i * n + i] = 1;
  for (let k = 0; k <= q; k++) {
    if (k > 0) power = matmul(power, x, n);
    const sign = k % 2 === 0 ? 1 : -1;
    for (let i = 0; i < n * n; i++) {
      num[i] += c[k] * power[i];
      den[i] += sign * c[k] * power[i];
    }
  }
  let result: Float64Array = solveGeneral(den, n, num, n);
  for (let s = 0; s < squarings; s++) result = matmul(result, result, n);
  return result;
}
