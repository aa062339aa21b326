// Singular values and the polar factor of a dense m×n matrix by one-sided Jacobi (Hestenes):
// rotate pairs of rows until all rows are mutually orthogonal. With J the accumulated rotation,
// J·A = Σ·Vᵀ (rows of norm σ_i), so A = Jᵀ Σ Vᵀ and the polar factor (nearest semi-orthogonal
// matrix, rows ≤ cols) is Jᵀ·Vᵀ. Ground truth for Newton–Schulz orthogonalization (optimizers.md §2).

export interface RowSvd {
  /** Singular values (length min(m, n)), decreasing. */
  s: Float64Array;
  /** Polar factor U Vᵀ, m×n row-major (for m ≤ n; rows of a rank-deficient input are left 0). */
  polar: Float64Array;
}

/** One-sided Jacobi on the rows of a (m ≤ n). Throws for m > n: transpose first. */
export function rowJacobiSvd(a: ArrayLike<number>, m: number, n: number, opts: { tol?: number; maxSweeps?: number } = {}): RowSvd {
  if (m > n) throw new Error(`rowJacobiSvd: expects rows ≤ cols, got ${m}×${n} (transpose first)`);
  if (a.length !== m * n) throw new Error(`rowJacobiSvd: ${m}×${n} needs ${m * n} values, got ${a.length}`);
  const tol = opts.tol ?? 1e-13;
  const maxSweeps = opts.maxSweeps ?? 60;
  const w = Float64Array.from(a);
  const q = new Float64Array(m * m); // accumulated rotation J
  for (let i = 0; i < m; i++) q[i * m + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let i = 0; i < m - 1; i++) {
      for (let j = i + 1; j < m; j++) {
        let alpha = 0, beta = 0, gamma = 0;
        const oi = i * n, oj = j * n;
        for (let k = 0; k < n; k++) {
          const x = w[oi + k], y = w[oj + k];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (Math.abs(gamma) <= tol * Math.sqrt(alpha * beta) || gamma === 0) continue;
        rotated = true;
        // rotation angle that zeroes the off-diagonal of the 2×2 Gram block
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t), s = c * t;
        for (let k = 0; k < n; k++) {
          const x = w[oi + k], y = w[oj + k];
          w[oi + k] = c * x - s * y;
          w[oj + k] = s * x + c * y;
        }
        for (let k = 0; k < m; k++) {
          const x = q[i * m + k], y = q[j * m + k];
          q[i * m + k] = c * x - s * y;
          q[j * m + k] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += w[i * n + k] ** 2;
    norms[i] = Math.sqrt(s);
  }
  const scale = Math.max(...norms) || 1;
  // Vᵀ rows = normalized rows of J·A; polar = Jᵀ Vᵀ
  const polar = new Float64Array(m * n);
  for (let r = 0; r < m; r++) {
    if (norms[r] <= 1e-14 * scale) continue;
    const inv = 1 / norms[r];
    for (let i = 0; i < m; i++) {
      const qri = q[r * m + i] * inv; // Jᵀ[i][r] = J[r][i]
      if (qri === 0) continue;
      for (let k = 0; k < n; k++) polar[i * n + k] += qri * w[r * n + k];
    }
  }
  const s = Float64Array.from(norms).sort().reverse();
  return { s, polar };
}

/** Transposes a row-major rows×cols matrix. */
export function transposeDense(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}
