// Cholesky factorization of small symmetric positive-definite matrices (row-major Float64Array)
// and the triangular solves built on it. Used by per-node least squares (TOPO), the ProSper
// M-steps and ridge-type subproblems. O(n^3/3); meant for n up to a few dozen.

/** Error raised when a matrix is not (numerically) positive definite. */
export class NotPositiveDefiniteError extends Error {}

/**
 * In-place lower Cholesky factor L of the n×n SPD matrix `a` (A = L Lᵀ); the strict upper
 * triangle is zeroed. `jitter` is added to the diagonal first (regularization for near-singular
 * Gram matrices). Throws NotPositiveDefiniteError when a pivot is not positive.
 */
export function choleskyInPlace(a: Float64Array, n: number, jitter = 0): Float64Array {
  for (let i = 0; i < n; i++) a[i * n + i] += jitter;
  for (let j = 0; j < n; j++) {
    let diag = a[j * n + j];
    for (let k = 0; k < j; k++) diag -= a[j * n + k] * a[j * n + k];
    if (!(diag > 0)) throw new NotPositiveDefiniteError(`cholesky: pivot ${j} is ${diag} (matrix not positive definite)`);
    const ljj = Math.sqrt(diag);
    a[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / ljj;
    }
    for (let k = j + 1; k < n; k++) a[j * n + k] = 0;
  }
  return a;
}

/** Solve (L Lᵀ) x = b in place of b, given the lower factor L (n×n). */
export function choleskySolveInPlace(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * b[k];
    b[i] = s / l[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
    b[i] = s / l[i * n + i];
  }
  return b;
}

/** log det(A) from its Cholesky factor L. */
export function choleskyLogDet(l: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(l[i * n + i]);
  return 2 * s;
}

/**
 * Solve the SPD system A X = B for X (A n×n, B n×m, both row-major; returns a new n×m array).
 * If A is singular within rounding, retries with a relative diagonal jitter (1e-10·mean diag, ×100 each try).
 */
export function solveSpd(a: Float64Array, n: number, b: Float64Array, m = 1): Float64Array {
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += a[i * n + i];
  meanDiag = Math.max(meanDiag / Math.max(n, 1), 1e-300);
  let l: Float64Array | null = null;
  for (let attempt = 0, jitter = 0; attempt < 8; attempt++, jitter = jitter === 0 ? 1e-10 * meanDiag : jitter * 100) {
    try {
      l = choleskyInPlace(Float64Array.from(a), n, jitter);
      break;
    } catch (e) {
      if (!(e instanceof NotPositiveDefiniteError)) throw e;
    }
  }
  if (!l) throw new NotPositiveDefiniteError(`solveSpd: ${n}×${n} matrix is not positive definite even with jitter`);
  const x = new Float64Array(n * m);
  const col = new Float64Array(n);
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) col[i] = b[i * m + c];
    choleskySolveInPlace(l, n, col);
    for (let i = 0; i < n; i++) x[i * m + c] = col[i];
  }
  return x;
}
