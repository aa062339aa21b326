// Hungarian assignment (Kuhn–Munkres with potentials, O(n^2 m)) for rectangular cost matrices.
// Used to match learned dictionary elements to ground truth (bars test) and similar evaluations.

/**
 * Minimum-cost assignment of each of the n rows of `cost` (n×m row-major, n ≤ m) to a distinct
 * column. Returns `rowToCol` (length n) and the total cost. For maximization pass negated scores.
 */
export function hungarian(cost: ArrayLike<number>, n: number, m: number): { rowToCol: Int32Array; total: number } {
  if (n > m) throw new Error(`hungarian: need rows ≤ columns, got ${n}×${m} (transpose the matrix)`);
  if (cost.length !== n * m) throw new Error(`hungarian: cost has ${cost.length} entries, expected ${n}×${m}`);
  const INF = Number.POSITIVE_INFINITY;
  // 1-based potentials u (rows), v (cols); p[j] = row matched to column j; way[j] = previous column on the path.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(INF);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const rowToCol = new Int32Array(n).fill(-1);
  let total = 0;
  for (let j = 1; j <= m; j++) {
    if (p[j] !== 0) {
      rowToCol[p[j] - 1] = j - 1;
      total += cost[(p[j] - 1) * m + (j - 1)];
    }
  }
  return { rowToCol, total };
}
