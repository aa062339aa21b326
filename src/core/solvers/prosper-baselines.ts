// Baselines for the ProSper bars test: standard L1 sparse coding (alternating FISTA codes and
// least-squares dictionary with unit-norm atoms, Olshausen–Field / Lee et al. 2007 style) and NMF
// (Lee–Seung multiplicative updates for the Frobenius loss). Data are N×D row-major (one point per row);
// dictionaries are returned D×H row-major like the ProSper models'.
import type { Rng } from '../rng';
import { solveSpd } from '../linalg/cholesky';

export interface BaselineOptions {
  iterations: number;
  rng: Rng;
  onIteration?: (it: { iteration: number; objective: number; wall_s: number }) => void;
  throwIfCancelled?: () => void;
}

/** Largest eigenvalue of the symmetric H×H matrix G by power iteration (a few steps suffice for a step size). */
function lambdaMax(G: Float64Array, H: number): number {
  let v = new Float64Array(H).fill(1 / Math.sqrt(H));
  let lam = 0;
  for (let it = 0; it < 50; it++) {
    const w = new Float64Array(H);
    for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) w[i] += G[i * H + j] * v[j];
    const nrm = Math.sqrt(w.reduce((a, x) => a + x * x, 0));
    if (nrm === 0) return 0;
    lam = nrm;
    for (let i = 0; i < H; i++) w[i] /= nrm;
    v = w;
  }
  return lam;
}

/**
 * L1 sparse coding: min_{W, S} Σ_n ½‖y_n − W s_n‖² + λ‖s_n‖₁ with ‖W_h‖ = 1.
 * Each iteration: 20 warm-started FISTA steps on all codes, then W = Y Sᵀ (S Sᵀ + εI)⁻¹ and column
 * normalization (unused atoms are re-drawn from the data).
 */
export function l1SparseCoding(Y: Float64Array, N: number, D: number, H: number, o: BaselineOptions & { lambda: number; fistaSteps?: number }): { W: Float64Array; objective: number; wall_s: number } {
  const t0 = performance.now();
  const W = new Float64Array(D * H);
  const pickColumn = (h: number) => {
    const n = o.rng.int(N);
    let nrm = 0;
    for (let d = 0; d < D; d++) nrm += Y[n * D + d] ** 2;
    nrm = Math.sqrt(nrm) || 1;
    for (let d = 0; d < D; d++) W[d * H + h] = Y[n * D + d] / nrm;
  };
  for (let h = 0; h < H; h++) pickColumn(h);
  const Scodes = new Float64Array(N * H);
  const steps = o.fistaSteps ?? 20;
  let objective = NaN;
  for (let it = 0; it < o.iterations; it++) {
    o.throwIfCancelled?.();
    // codes: FISTA on ½‖y − W s‖² + λ‖s‖₁ for each point (W fixed)
    const G = new Float64Array(H * H);
    for (let d = 0; d < D; d++) for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) G[i * H + j] += W[d * H + i] * W[d * H + j];
    const L = Math.max(lambdaMax(G, H), 1e-12);
    const b = new Float64Array(H), s = new Float64Array(H), z = new Float64Array(H), prev = new Float64Array(H), g = new Float64Array(H);
    objective = 0;
    for (let n = 0; n < N; n++) {
      b.fill(0);
      for (let d = 0; d < D; d++) { const y = Y[n * D + d]; for (let h = 0; h < H; h++) b[h] += W[d * H + h] * y; }
      for (let h = 0; h < H; h++) { s[h] = Scodes[n * H + h]; z[h] = s[h]; }
      let t = 1;
      for (let k = 0; k < steps; k++) {
        for (let i = 0; i < H; i++) { let a = -b[i]; for (let j = 0; j < H; j++) a += G[i * H + j] * z[j]; g[i] = a; }
        prev.set(s);
        for (let i = 0; i < H; i++) { const x = z[i] - g[i] / L; s[i] = Math.sign(x) * Math.max(Math.abs(x) - o.lambda / L, 0); }
        const tn = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
        for (let i = 0; i < H; i++) z[i] = s[i] + ((t - 1) / tn) * (s[i] - prev[i]);
        t = tn;
      }
      for (let h = 0; h < H; h++) Scodes[n * H + h] = s[h];
      let r = 0;
      for (let d = 0; d < D; d++) { let e = Y[n * D + d]; for (let h = 0; h < H; h++) e -= W[d * H + h] * s[h]; r += e * e; }
      let l1 = 0;
      for (let h = 0; h < H; h++) l1 += Math.abs(s[h]);
      objective += (0.5 * r + o.lambda * l1) / N;
    }
    // dictionary: least squares W = (Y Sᵀ)(S Sᵀ + εI)⁻¹, then unit-norm atoms (codes rescaled to match)
    const SS = new Float64Array(H * H), YS = new Float64Array(H * D);
    for (let n = 0; n < N; n++) for (let i = 0; i < H; i++) {
      const si = Scodes[n * H + i];
      if (si === 0) continue;
      for (let j = 0; j < H; j++) SS[i * H + j] += si * Scodes[n * H + j];
      for (let d = 0; d < D; d++) YS[i * D + d] += si * Y[n * D + d];
    }
    for (let i = 0; i < H; i++) SS[i * H + i] += 1e-8 * N;
    const Wt = solveSpd(SS, H, YS, D); // H×D = (SSᵀ)⁻¹ (S Y)
    for (let h = 0; h < H; h++) {
      let nrm = 0;
      for (let d = 0; d < D; d++) nrm += Wt[h * D + d] ** 2;
      nrm = Math.sqrt(nrm);
      if (nrm < 1e-10) { pickColumn(h); for (let n = 0; n < N; n++) Scodes[n * H + h] = 0; continue; }
      for (let d = 0; d < D; d++) W[d * H + h] = Wt[h * D + d] / nrm;
      for (let n = 0; n < N; n++) Scodes[n * H + h] *= nrm;
    }
    o.onIteration?.({ iteration: it + 1, objective, wall_s: (performance.now() - t0) / 1000 });
  }
  return { W, objective, wall_s: (performance.now() - t0) / 1000 };
}

/**
 * NMF by Lee–Seung multiplicative updates for ½‖V − W C‖²_F with V = max(Y, 0)ᵀ (D×N), W ≥ 0 (D×H),
 * C ≥ 0 (H×N). Negative data (Gaussian noise) are clipped to 0: NMF needs non-negative input.
 */
export function nmf(Y: Float64Array, N: number, D: number, H: number, o: BaselineOptions): { W: Float64Array; objective: number; wall_s: number } {
  const t0 = performance.now();
  const V = new Float64Array(D * N);
  let meanV = 0;
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) { const x = Math.max(Y[n * D + d], 0); V[d * N + n] = x; meanV += x / (N * D); }
  const scale = Math.sqrt(meanV / H);
  const W = Float64Array.from({ length: D * H }, () => scale * (0.5 + o.rng.uniform()));
  const C = Float64Array.from({ length: H * N }, () => scale * (0.5 + o.rng.uniform()));
  const eps = 1e-12;
  let objective = NaN;
  for (let it = 0; it < o.iterations; it++) {
    o.throwIfCancelled?.();
    // C ← C ∘ (WᵀV) / (WᵀW C)
    const WtW = new Float64Array(H * H);
    for (let d = 0; d < D; d++) for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) WtW[i * H + j] += W[d * H + i] * W[d * H + j];
    const WtV = new Float64Array(H * N);
    for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) { const w = W[d * H + h]; if (w === 0) continue; for (let n = 0; n < N; n++) WtV[h * N + n] += w * V[d * N + n]; }
    for (let h = 0; h < H; h++) for (let n = 0; n < N; n++) {
      let den = 0;
      for (let j = 0; j < H; j++) den += WtW[h * H + j] * C[j * N + n];
      C[h * N + n] *= WtV[h * N + n] / (den + eps);
    }
    // W ← W ∘ (V Cᵀ) / (W C Cᵀ)
    const CCt = new Float64Array(H * H);
    for (let i = 0; i < H; i++) for (let j = i; j < H; j++) { let s = 0; for (let n = 0; n < N; n++) s += C[i * N + n] * C[j * N + n]; CCt[i * H + j] = CCt[j * H + i] = s; }
    const VCt = new Float64Array(D * H);
    for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) { let s = 0; for (let n = 0; n < N; n++) s += V[d * N + n] * C[h * N + n]; VCt[d * H + h] = s; }
    for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) {
      let den = 0;
      for (let j = 0; j < H; j++) den += W[d * H + j] * CCt[j * H + h];
      W[d * H + h] *= VCt[d * H + h] / (den + eps);
    }
    if ((it + 1) % 10 === 0 || it === o.iterations - 1) {
      objective = 0;
      for (let d = 0; d < D; d++) for (let n = 0; n < N; n++) {
        let e = V[d * N + n];
        for (let h = 0; h < H; h++) e -= W[d * H + h] * C[h * N + n];
        objective += (0.5 * e * e) / N;
      }
      o.onIteration?.({ iteration: it + 1, objective, wall_s: (performance.now() - t0) / 1000 });
    }
  }
  return { W, objective, wall_s: (performance.now() - t0) / 1000 };
}
