// LU factorization with partial pivoting for small dense square systems (row-major Float64Array).

/** Solve A X = B (A n×n, B n×m row-major), returning X; throws on an exactly singular pivot. */
export function solveGeneral(a: Float64Array, n: number, b: Float64Array, m = 1): Float64Array {
  const lu = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let k = 0; k < n; k++) {
    let piv = k;
    let best = Math.abs(lu[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k]);
      if (v > best) {
        best = v;
        piv = i;
      }
    }
    if (best === 0) throw new Error(`solveGeneral: singular matrix (column ${k})`);
    if (piv !== k) {
      for (let j = 0; j < n; j++) {
        const t = lu[k * n + j];
        lu[k * n + j] = lu[piv * n + j];
        lu[piv * n + j] = t;
      }
      for (let j = 0; j < m; j++) {
        const t = x[k * m + j];
        x[k * m + j] = x[piv * m + j];
        x[piv * m + j] = t;
      }
    }
    const pivot = lu[k * n + k];
    for (let i = k + 1; i < n; i++) {
      const f = lu[i * n + k] / pivot;
      if (f === 0) continue;
      lu[i * n + k] = f;
      for (let j = k + 1; j < n; j++) lu[i * n + j] -= f * lu[k * n + j];
      for (let j = 0; j < m; j++) x[i * m + j] -= f * x[k * m + j];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let j = 0; j < m; j++) {
      let s = x[i * m + j];
      for (let k = i + 1; k < n; k++) s -= lu[i * n + k] * x[k * m + j];
      x[i * m + j] = s / lu[i * n + i];
    }
  }
  return x;
}

/** Inverse of a small square matrix. */
export function invert(a: Float64Array, n: number): Float64Array {
  const eye = new Float64Array(n * n);
  for (let i = 0; i < n; i++) eye[i * n + i] = 1;
  return solveGeneral(a, n, eye, n);
}
