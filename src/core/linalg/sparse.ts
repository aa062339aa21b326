// Compressed sparse row (CSR) matrices: SpMV, SOR sweeps, and the 5-point Laplacian.

export interface Csr {
  rows: number;
  cols: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float64Array;
}

/** y = A x (2·nnz flops). */
export function spmv(a: Csr, x: ArrayLike<number>, out: Float64Array = new Float64Array(a.rows)): Float64Array {
  const { rowPtr, colIdx, values } = a;
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) s += values[k] * x[colIdx[k]];
    out[i] = s;
  }
  return out;
}

/** y = Aᵀ x (2·nnz flops). */
export function spmvTransposed(a: Csr, x: ArrayLike<number>, out: Float64Array = new Float64Array(a.cols)): Float64Array {
  out.fill(0);
  const { rowPtr, colIdx, values } = a;
  for (let i = 0; i < a.rows; i++) {
    const xi = x[i];
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) out[colIdx[k]] += values[k] * xi;
  }
  return out;
}

/** Diagonal of a square CSR matrix (zeros where no entry is stored). */
export function diagonal(a: Csr): Float64Array {
  const d = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) if (a.colIdx[k] === i) d[i] += a.values[k];
  }
  return d;
}

/** CSR from a dense row-major matrix, dropping exact zeros. */
export function csrFromDense(dense: ArrayLike<number>, rows: number, cols: number): Csr {
  const rowPtr = new Int32Array(rows + 1);
  const ci: number[] = [];
  const vs: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = dense[i * cols + j];
      if (v !== 0) {
        ci.push(j);
        vs.push(v);
      }
    }
    rowPtr[i + 1] = ci.length;
  }
  return { rows, cols, rowPtr, colIdx: Int32Array.from(ci), values: Float64Array.from(vs) };
}

/** A + shift·I for a square CSR matrix whose diagonal entries are all stored. */
export function shiftDiagonal(a: Csr, shift: number): Csr {
  const values = Float64Array.from(a.values);
  for (let i = 0; i < a.rows; i++) {
    let found = false;
    for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) {
      if (a.colIdx[k] === i) {
        values[k] += shift;
        found = true;
        break;
      }
    }
    if (!found) throw new Error(`shiftDiagonal: row ${i} stores no diagonal entry`);
  }
  return { ...a, values };
}

/**
 * 5-point finite-difference Laplacian (Dirichlet boundary) on an m x m interior grid, unscaled:
 * 4 on the diagonal, -1 for each of the up to four neighbours (row-major grid ordering, n = m^2),
 * the matrix of MATLAB's delsq(numgrid('S', m + 2)).
 */
export function laplacian5(m: number): Csr {
  const n = m * m;
  const rowPtr = new Int32Array(n + 1);
  const ci: number[] = [];
  const vs: number[] = [];
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < m; c++) {
      const i = r * m + c;
      const push = (j: number, v: number) => {
        ci.push(j);
        vs.push(v);
      };
      if (r > 0) push(i - m, -1);
      if (c > 0) push(i - 1, -1);
      push(i, 4);
      if (c < m - 1) push(i + 1, -1);
      if (r < m - 1) push(i + m, -1);
      rowPtr[i + 1] = ci.length;
    }
  }
  return { rows: n, cols: n, rowPtr, colIdx: Int32Array.from(ci), values: Float64Array.from(vs) };
}

/**
 * One forward SOR sweep in place: x <- x + (D/ω + L)^{-1} (b − A x), row by row
 * (x_i <- (1 − ω) x_i + ω (b_i − Σ_{j≠i} a_ij x_j) / a_ii with the newest x_j). 2·nnz + 3n flops.
 */
export function sorSweep(a: Csr, diag: Float64Array, b: ArrayLike<number>, x: Float64Array, omega: number): void {
  const { rowPtr, colIdx, values } = a;
  for (let i = 0; i < a.rows; i++) {
    let s = b[i];
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) {
      const j = colIdx[k];
      if (j !== i) s -= values[k] * x[j];
    }
    x[i] += omega * (s / diag[i] - x[i]);
  }
}

/**
 * One forward SOR sweep on a SYMMETRIC matrix that also leaves the exact residual b − A x_new in
 * `r` and returns ‖r‖². Row j's residual is formed from the values seen during its update and then
 * corrected as later unknowns change: x_j's change Δ_j affects rows i < j through a_ij = a_ji, the
 * lower entries of row j. Cost ≈ 2·nnz + nnz_lower flops, about 2/3 of a sweep plus an SpMV.
 */
export function sorSweepResidual(a: Csr, diag: Float64Array, b: Float64Array, x: Float64Array, omega: number, r: Float64Array): number {
  const { rowPtr, colIdx, values } = a;
  const n = a.rows;
  for (let j = 0; j < n; j++) {
    let s = b[j];
    const start = rowPtr[j];
    const end = rowPtr[j + 1];
    for (let k = start; k < end; k++) {
      const i = colIdx[k];
      if (i !== j) s -= values[k] * x[i];
    }
    const old = x[j];
    const next = old + omega * (s / diag[j] - old);
    x[j] = next;
    r[j] = s - diag[j] * next;
    const delta = next - old;
    for (let k = start; k < end; k++) {
      const i = colIdx[k];
      if (i < j) r[i] -= values[k] * delta;
    }
  }
  let r2 = 0;
  for (let i = 0; i < n; i++) r2 += r[i] * r[i];
  return r2;
}

/**
 * SSOR preconditioner z = M⁻¹ r for a symmetric CSR matrix, M = (D + ωL) D⁻¹ (D + ωU) / (ω(2 − ω)):
 * a forward then a backward SOR-type triangular solve (≈ 2·nnz + 4n flops).
 */
export function ssorPrecondition(a: Csr, diag: Float64Array, omega: number, r: Float64Array, z: Float64Array): void {
  const { rowPtr, colIdx, values } = a;
  const n = a.rows;
  const scale = omega * (2 - omega);
  for (let i = 0; i < n; i++) {
    let s = scale * r[i];
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) {
      const j = colIdx[k];
      if (j < i) s -= omega * values[k] * z[j];
    }
    z[i] = s / diag[i];
  }
  for (let i = 0; i < n; i++) z[i] *= diag[i];
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) {
      const j = colIdx[k];
      if (j > i) s -= omega * values[k] * z[j];
    }
    z[i] = s / diag[i];
  }
}
