// Dense linear algebra on Float64Array (row-major): the small kernels classical solvers share.
// Every routine here is O(n) or O(n^2) except luFactor (O(n^3)); callers that count flops use
// the figures documented on each function.

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm2(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

export function norm1(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
}

export function normInf(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s = Math.max(s, Math.abs(a[i]));
  return s;
}

/** y <- y + alpha * x (in place). */
export function axpy(alpha: number, x: ArrayLike<number>, y: Float64Array): Float64Array {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
  return y;
}

/** y = A x for a rows x cols row-major A (2·rows·cols flops). */
export function matVec(a: Float64Array, rows: number, cols: number, x: ArrayLike<number>, out: Float64Array = new Float64Array(rows)): Float64Array {
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const off = i * cols;
    for (let j = 0; j < cols; j++) s += a[off + j] * x[j];
    out[i] = s;
  }
  return out;
}

/** y = Aᵀ x for a rows x cols row-major A (2·rows·cols flops). */
export function matTVec(a: Float64Array, rows: number, cols: number, x: ArrayLike<number>, out: Float64Array = new Float64Array(cols)): Float64Array {
  out.fill(0);
  for (let i = 0; i < rows; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const off = i * cols;
    for (let j = 0; j < cols; j++) out[j] += a[off + j] * xi;
  }
  return out;
}

/** Frobenius norm of a dense matrix stored in a Float64Array. */
export function frobenius(a: Float64Array): number {
  return norm2(a);
}

/** Flop count of a dense LU solve (factor + two triangular solves) of an n x n system. */
export function denseSolveFlops(n: number): number {
  return (2 / 3) * n * n * n + 2 * n * n;
}
