// Efficient Global Optimization of Two-layer ReLU Networks: quadratic-time ADMM (Bai, Gautam,
// Sojoudi, SIMODS 2023), spec optimizers.md §11.
// Two-layer ReLU training with squared loss and weight decay, f(X) = Σ_j (X u_j)_+ α_j, has an exact
// convex reformulation over activation patterns D_i = diag(𝟙[X h_i ≥ 0]):
//   min ½‖Σ_i D_i X (v_i − w_i) − y‖² + β Σ_i (‖v_i‖ + ‖w_i‖)  s.t. (2D_i − I) X v_i ≥ 0, (2D_i − I) X w_i ≥ 0.
// The sampled convex program (SCP) keeps P random patterns. ADMM splits u = (v, w) from a copy z
// (group-ℓ2 term) and slacks t_i = (2D_i − I) X u_i ≥ 0: (1) u-update = one linear system whose
// matrix never changes (Cholesky once ⇒ quadratic cost per iteration), (2) group soft-threshold,
// (3) projection onto t ≥ 0, (4) scaled dual ascent. Baseline: SGD on the non-convex network.
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../../core/experiment';
import { encodeNpy } from '../../core/io/npy';
import { choleskyInPlace, choleskySolveInPlace } from '../../core/linalg/cholesky';
import { Rng } from '../../core/rng';
import { loadDataset, median, withBias, type Dataset } from './data';

/** Two interleaved spirals in the plane, labels ±1 (n/2 each), with Gaussian jitter. */
export function twoSpirals(rng: Rng, n: number, turns = 1.5, noise = 0.05): Dataset {
  const X = new Float64Array(n * 2);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    const t = (Math.floor(i / 2) / Math.ceil(n / 2)) * turns * 2 * Math.PI + 0.5;
    const r = t / (turns * 2 * Math.PI + 0.5);
    const sgn = cls === 0 ? 1 : -1;
    X[i * 2] = sgn * r * Math.cos(t) + noise * rng.normal();
    X[i * 2 + 1] = sgn * r * Math.sin(t) + noise * rng.normal();
    y[i] = cls === 0 ? 1 : -1;
  }
  return { X, y, n, d: 2 };
}

/** P sampled activation patterns D_i = 𝟙[X h_i ≥ 0], h_i ~ N(0, I); duplicates and all-zero patterns dropped. */
export function samplePatterns(ds: Dataset, P: number, rng: Rng, maxTries = 20): Uint8Array[] {
  const { X, n, d } = ds;
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (let tries = 0; out.length < P && tries < P * maxTries; tries++) {
    const h = rng.fillNormal(new Float64Array(d));
    const D = new Uint8Array(n);
    let any = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += X[i * d + j] * h[j];
      D[i] = s >= 0 ? 1 : 0;
      any += D[i];
    }
    const key = D.join('');
    if (any === 0 || seen.has(key)) continue;
    seen.add(key);
    out.push(D);
  }
  return out;
}

export interface ScpProblem {
  ds: Dataset;
  patterns: Uint8Array[];
  beta: number;
}

/** Number of blocks (v then w blocks) and block size d. */
const blocks = (p: ScpProblem) => 2 * p.patterns.length;
const sign = (p: ScpProblem, b: number) => (b < p.patterns.length ? 1 : -1);
const patternOf = (p: ScpProblem, b: number) => p.patterns[b % p.patterns.length];

/** Prediction Σ_b s_b D_b X u_b of the convex model. */
export function scpPredict(p: ScpProblem, u: Float64Array): Float64Array {
  const { X, n, d } = p.ds;
  const f = new Float64Array(n);
  for (let b = 0; b < blocks(p); b++) {
    const D = patternOf(p, b);
    const s = sign(p, b);
    for (let i = 0; i < n; i++) {
      if (!D[i]) continue;
      let a = 0;
      for (let j = 0; j < d; j++) a += X[i * d + j] * u[b * d + j];
      f[i] += s * a;
    }
  }
  return f;
}

/** SCP objective ½‖Σ s_b D_b X u_b − y‖² + β Σ_b ‖u_b‖ and the worst cone violation max(0, −(2D−I)X u_b). */
export function scpObjective(p: ScpProblem, u: Float64Array): { objective: number; violation: number } {
  const { X, y, n, d } = p.ds;
  const f = scpPredict(p, u);
  let loss = 0;
  for (let i = 0; i < n; i++) loss += 0.5 * (f[i] - y[i]) ** 2;
  let reg = 0;
  let violation = 0;
  for (let b = 0; b < blocks(p); b++) {
    let nb = 0;
    for (let j = 0; j < d; j++) nb += u[b * d + j] ** 2;
    reg += Math.sqrt(nb);
    const D = patternOf(p, b);
    for (let i = 0; i < n; i++) {
      let a = 0;
      for (let j = 0; j < d; j++) a += X[i * d + j] * u[b * d + j];
      violation = Math.max(violation, -(2 * D[i] - 1) * a);
    }
  }
  return { objective: loss + p.beta * reg, violation };
}

export interface AdmmOptions {
  rho: number;
  /** Over-relaxation α ∈ [1, 2): the z/t/dual steps use αu + (1 − α)z_old (Boyd et al. 2011, §3.4.3); 1 = plain ADMM. */
  relaxation: number;
  /** Residual balancing of ρ (a standard ADMM practice; the paper's fixed-ρ variant is adaptiveRho = false). */
  adaptiveRho: boolean;
  maxIters: number;
  tol: number;
}

export interface AdmmTrace {
  iter: number;
  objective: number;
  primalResidual: number;
  dualResidual: number;
}

/**
 * Lagrangian lower bound on the SCP optimum from multipliers μ_b ≥ 0 of the cone constraints:
 * g(ξ, μ) = −½‖ξ‖² − ξᵀy, feasible when ‖F_bᵀξ − G_bᵀμ_b‖ ≤ β for every block b. We take
 * ξ = c·(Fu − y) and μ = c·μ̂ with c ∈ [0, c_max] chosen to make every block feasible and maximize g.
 * Any u and μ̂ give a valid bound, so primal − bound certifies how far u is from the global optimum.
 */
export function scpDualBound(p: ScpProblem, u: Float64Array, muHat: Float64Array, nnlsIters = 200): number {
  const { X, y, n, d } = p.ds;
  const f = scpPredict(p, u);
  const xi = Float64Array.from(f, (v, i) => v - y[i]);
  // per block, refine μ_b ≥ 0 by projected-gradient NNLS on ½‖F_bᵀξ − G_bᵀμ_b‖², warm-started at μ̂_b
  let lmax = 0; // ‖G_b‖² = λ_max(XᵀX) for every block, bounded by the trace
  for (let q = 0; q < n * d; q++) lmax += X[q] * X[q];
  let worst = 0;
  const mu = new Float64Array(n);
  const vec = new Float64Array(d);
  const residualOf = (b: number, D: Uint8Array, s: number) => {
    vec.fill(0);
    for (let i = 0; i < n; i++) {
      const c = (D[i] ? s * xi[i] : 0) - (2 * D[i] - 1) * mu[i];
      if (c !== 0) for (let j = 0; j < d; j++) vec[j] += c * X[i * d + j];
    }
  };
  for (let b = 0; b < blocks(p); b++) {
    const D = patternOf(p, b);
    const s = sign(p, b);
    for (let i = 0; i < n; i++) mu[i] = muHat[b * n + i];
    for (let k = 0; k < nnlsIters; k++) {
      residualOf(b, D, s);
      // gradient wrt μ_i of ½‖vec‖² is −(2D_i − 1) x_iᵀvec
      for (let i = 0; i < n; i++) {
        let gx = 0;
        for (let j = 0; j < d; j++) gx += X[i * d + j] * vec[j];
        mu[i] = Math.max(0, mu[i] + ((2 * D[i] - 1) * gx) / lmax);
      }
    }
    residualOf(b, D, s);
    worst = Math.max(worst, Math.hypot(...vec));
  }
  const cMax = worst > 0 ? p.beta / worst : Infinity;
  let xx = 0;
  let xy = 0;
  for (let i = 0; i < n; i++) {
    xx += xi[i] * xi[i];
    xy += xi[i] * y[i];
  }
  const c = Math.max(0, Math.min(cMax, xx > 0 ? -xy / xx : 0));
  return -0.5 * c * c * xx - c * xy;
}

/** ADMM for the SCP. Returns the group-sparse copy z (the solution), cone multipliers μ = max(0, −ρν) and the last residuals. */
export function admmScp(p: ScpProblem, o: AdmmOptions, onIter?: (t: AdmmTrace) => void, check?: () => void): { z: Float64Array; mu: Float64Array; iterations: number; primalResidual: number; dualResidual: number } {
  const { X, y, n, d } = p.ds;
  const B = blocks(p);
  const N = B * d;
  let rho = o.rho;
  // u-update matrix M = FᵀF + Bd with F = [s_b D_b X]_b (n × N) and Bd = ρ(I + I_B ⊗ XᵀX), since
  // G_bᵀG_b = Xᵀ(2D_b − I)²X = XᵀX. Bd is block-diagonal with one repeated d×d block, and FᵀF has
  // rank ≤ n, so by Woodbury M⁻¹ = Bd⁻¹ − Bd⁻¹Fᵀ C⁻¹ F Bd⁻¹ with C = I_n + F Bd⁻¹ Fᵀ (n × n).
  // C is factored once; each solve then costs O(n·N + n²) instead of O(N²).
  const K = new Float64Array(d * d); // (ρ(I + XᵀX))⁻¹ via its Cholesky factor, column by column
  const C = new Float64Array(n * n);
  const XK = new Float64Array(n * d);
  const P = p.patterns.length;
  const factor = () => {
    K.fill(0);
    C.fill(0);
    XK.fill(0);
    const A = new Float64Array(d * d);
    for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let c = 0; c < d; c++) A[a * d + c] += rho * X[i * d + a] * X[i * d + c];
    for (let a = 0; a < d; a++) A[a * d + a] += rho;
    choleskyInPlace(A, d);
    for (let c = 0; c < d; c++) {
      const e = new Float64Array(d);
      e[c] = 1;
      choleskySolveInPlace(A, d, e);
      for (let a = 0; a < d; a++) K[a * d + c] = e[a];
    }
    // C_ik = δ_ik + (x_iᵀ K x_k) · Σ_b D_b[i] D_b[k]  (v and w blocks of a pattern both count)
    for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let c = 0; c < d; c++) XK[i * d + a] += X[i * d + c] * K[c * d + a];
    for (let i = 0; i < n; i++) {
    for (let k = i; k < n; k++) {
      let co = 0;
      for (let q = 0; q < P; q++) co += p.patterns[q][i] & p.patterns[q][k];
      if (co === 0 && i !== k) continue;
      let kern = 0;
      for (let a = 0; a < d; a++) kern += XK[i * d + a] * X[k * d + a];
      const v = 2 * co * kern;
      C[i * n + k] += v;
      if (k !== i) C[k * n + i] += v;
    }
      C[i * n + i] += 1;
    }
    choleskyInPlace(C, n); // factored once per ρ (step 1 of every iteration reuses it)
  };
  factor();
  const applyK = (v: Float64Array) => {
    const tmp = new Float64Array(d);
    for (let bb = 0; bb < B; bb++) {
      for (let a = 0; a < d; a++) {
        let acc = 0;
        for (let c = 0; c < d; c++) acc += K[a * d + c] * v[bb * d + c];
        tmp[a] = acc;
      }
      for (let a = 0; a < d; a++) v[bb * d + a] = tmp[a];
    }
  };
  const Fw = new Float64Array(n);
  /** u ← M⁻¹ u (Woodbury). */
  const solveM = (v: Float64Array) => {
    applyK(v); // w = Bd⁻¹ r
    Fw.fill(0);
    for (let bb = 0; bb < B; bb++) {
      const D = patternOf(p, bb);
      const sg = sign(p, bb);
      for (let i = 0; i < n; i++) {
        if (!D[i]) continue;
        let acc = 0;
        for (let j = 0; j < d; j++) acc += X[i * d + j] * v[bb * d + j];
        Fw[i] += sg * acc;
      }
    }
    choleskySolveInPlace(C, n, Fw); // C⁻¹ F w
    const corr = new Float64Array(N); // Fᵀ C⁻¹ F w
    for (let bb = 0; bb < B; bb++) {
      const D = patternOf(p, bb);
      const sg = sign(p, bb);
      for (let i = 0; i < n; i++) {
        if (!D[i]) continue;
        const c = sg * Fw[i];
        for (let j = 0; j < d; j++) corr[bb * d + j] += c * X[i * d + j];
      }
    }
    applyK(corr);
    for (let a = 0; a < N; a++) v[a] -= corr[a];
  };
  const Fty = new Float64Array(N);
  for (let bb = 0; bb < B; bb++) {
    const D = patternOf(p, bb);
    const sg = sign(p, bb);
    for (let i = 0; i < n; i++) if (D[i]) for (let j = 0; j < d; j++) Fty[bb * d + j] += sg * X[i * d + j] * y[i];
  }

  const u = new Float64Array(N);
  const zc = new Float64Array(N);
  const lam = new Float64Array(N); // scaled dual of u = z
  const t = new Float64Array(B * n); // slacks t_b = (2D_b − I) X u_b ≥ 0
  const nu = new Float64Array(B * n); // scaled dual of the slack equation
  const Gu = new Float64Array(B * n);
  const uRel = new Float64Array(N);
  const tPrev = new Float64Array(B * n);
  const rhs = new Float64Array(N);
  let it: number;
  let rPrim = Infinity;
  let rDual = Infinity;
  for (it = 1; it <= o.maxIters; it++) {
    check?.();
    // (1) u-update: M u = Fᵀy + ρ(z − λ) + ρ Σ_b G_bᵀ(t_b − ν_b)
    for (let a = 0; a < N; a++) rhs[a] = Fty[a] + rho * (zc[a] - lam[a]);
    for (let b = 0; b < B; b++) {
      const D = patternOf(p, b);
      for (let i = 0; i < n; i++) {
        const c = rho * (2 * D[i] - 1) * (t[b * n + i] - nu[b * n + i]);
        if (c !== 0) for (let j = 0; j < d; j++) rhs[b * d + j] += c * X[i * d + j];
      }
    }
    u.set(rhs);
    solveM(u);
    // (2) z-update: group soft-threshold of ū + λ at β/ρ, ū = αu + (1 − α)z (relaxed)
    const al = o.relaxation;
    for (let a = 0; a < N; a++) uRel[a] = al * u[a] + (1 - al) * zc[a];
    let dz = 0;
    for (let b = 0; b < B; b++) {
      let nb = 0;
      for (let j = 0; j < d; j++) nb += (uRel[b * d + j] + lam[b * d + j]) ** 2;
      nb = Math.sqrt(nb);
      const scale = nb > p.beta / rho ? 1 - p.beta / rho / nb : 0;
      for (let j = 0; j < d; j++) {
        const zn = scale * (uRel[b * d + j] + lam[b * d + j]);
        dz += (zn - zc[b * d + j]) ** 2;
        zc[b * d + j] = zn;
      }
    }
    // (3) slack update: projection onto t ≥ 0 of the (relaxed) G_b u_b + ν_b
    tPrev.set(t);
    let dt = 0;
    for (let b = 0; b < B; b++) {
      const D = patternOf(p, b);
      for (let i = 0; i < n; i++) {
        let a = 0;
        for (let j = 0; j < d; j++) a += X[i * d + j] * u[b * d + j];
        const g = al * (2 * D[i] - 1) * a + (1 - al) * t[b * n + i];
        Gu[b * n + i] = g;
        const tn = Math.max(0, g + nu[b * n + i]);
        dt += (tn - t[b * n + i]) ** 2;
        t[b * n + i] = tn;
      }
    }
    // (4) scaled dual ascent, and residuals
    let rp = 0;
    for (let a = 0; a < N; a++) {
      lam[a] += uRel[a] - zc[a];
      rp += (u[a] - zc[a]) ** 2;
    }
    for (let k = 0; k < B * n; k++) {
      nu[k] += Gu[k] - t[k];
      // unrelaxed primal residual G u − t, recovered from the relaxed value
      const r = al === 1 ? Gu[k] - t[k] : (Gu[k] - (1 - al) * tPrev[k]) / al - t[k];
      rp += r * r;
    }
    rPrim = Math.sqrt(rp);
    rDual = rho * Math.sqrt(dz + dt);
    // residual balancing (Boyd et al. 2011, §3.4.1): keep primal and dual residuals within ×10;
    // the scaled duals are rescaled by ρ_old/ρ_new and the n×n factor is rebuilt (cheap)
    if (o.adaptiveRho && it % 20 === 0 && (rPrim > 10 * rDual || rDual > 10 * rPrim)) {
      const f = rPrim > 10 * rDual ? 2 : 0.5;
      rho *= f;
      for (let a = 0; a < N; a++) lam[a] /= f;
      for (let k = 0; k < B * n; k++) nu[k] /= f;
      factor();
    }
    if (onIter && (it % 10 === 0 || it === 1)) onIter({ iter: it, objective: scpObjective(p, zc).objective, primalResidual: rPrim, dualResidual: rDual });
    if (rPrim < o.tol && rDual < o.tol) break;
  }
  const mu = Float64Array.from(nu, (v) => Math.max(0, -rho * v)); // constraint Gu − t = 0 with t ≥ 0: μ = −ρν
  return { z: zc, mu, iterations: Math.min(it, o.maxIters), primalResidual: rPrim, dualResidual: rDual };
}

export interface ReluNet {
  /** First layer (m × d), row-major. */
  U: Float64Array;
  /** Output weights (m). */
  alpha: Float64Array;
  m: number;
  d: number;
}

/** Network from the convex solution: per nonzero block u_j = z_b/√‖z_b‖, α_j = s_b√‖z_b‖. */
export function networkFromScp(p: ScpProblem, zc: Float64Array): ReluNet {
  const d = p.ds.d;
  const rows: number[][] = [];
  const alphas: number[] = [];
  for (let b = 0; b < blocks(p); b++) {
    const zb = zc.subarray(b * d, b * d + d);
    const nb = Math.hypot(...zb);
    if (nb === 0) continue;
    rows.push(Array.from(zb, (x) => x / Math.sqrt(nb)));
    alphas.push(sign(p, b) * Math.sqrt(nb));
  }
  return { U: Float64Array.from(rows.flat()), alpha: Float64Array.from(alphas), m: alphas.length, d };
}

/**
 * Regularized non-convex objective ½‖Σ_j (X u_j)_+ α_j − y‖² + (β/2)(‖U‖² + ‖α‖²) on rows `idx`
 * (all rows if omitted, with the full weight decay); gradients into gU, gAlpha when given.
 */
export function reluObjective(ds: Dataset, net: ReluNet, beta: number, gU?: Float64Array, gAlpha?: Float64Array, idx?: ArrayLike<number>, regScale = 1): number {
  const { X, y, d } = ds;
  const { U, alpha, m } = net;
  if (gU) gU.fill(0);
  if (gAlpha) gAlpha.fill(0);
  const rowsN = idx ? idx.length : ds.n;
  const h = new Float64Array(m);
  let loss = 0;
  for (let r = 0; r < rowsN; r++) {
    const i = idx ? idx[r] : r;
    let f = 0;
    for (let j = 0; j < m; j++) {
      let a = 0;
      for (let k = 0; k < d; k++) a += X[i * d + k] * U[j * d + k];
      h[j] = a > 0 ? a : 0;
      f += h[j] * alpha[j];
    }
    const res = f - y[i];
    loss += 0.5 * res * res;
    if (gU && gAlpha) {
      for (let j = 0; j < m; j++) {
        gAlpha[j] += res * h[j];
        if (h[j] > 0) {
          const c = res * alpha[j];
          for (let k = 0; k < d; k++) gU[j * d + k] += c * X[i * d + k];
        }
      }
    }
  }
  let reg = 0;
  for (let q = 0; q < U.length; q++) reg += U[q] * U[q];
  for (let j = 0; j < m; j++) reg += alpha[j] * alpha[j];
  if (gU && gAlpha) {
    for (let q = 0; q < U.length; q++) gU[q] += beta * regScale * U[q];
    for (let j = 0; j < m; j++) gAlpha[j] += beta * regScale * alpha[j];
  }
  return loss + 0.5 * beta * regScale * reg;
}

/** Minibatch SGD on the non-convex objective (each batch carries its share of the weight decay). */
export function sgdRelu(ds: Dataset, m: number, beta: number, lr: number, epochs: number, batch: number, rng: Rng, onEpoch?: (e: number, obj: number) => void, check?: () => void): { net: ReluNet; objective: number } {
  const d = ds.d;
  const net: ReluNet = { U: rng.fillNormal(new Float64Array(m * d), 0, Math.sqrt(2 / d)), alpha: rng.fillNormal(new Float64Array(m), 0, Math.sqrt(1 / m)), m, d };
  const gU = new Float64Array(m * d);
  const gA = new Float64Array(m);
  const order = Array.from({ length: ds.n }, (_, i) => i);
  for (let e = 1; e <= epochs; e++) {
    check?.();
    rng.shuffle(order);
    for (let s = 0; s < ds.n; s += batch) {
      const idx = order.slice(s, s + batch);
      // scale so that one epoch of batch gradients sums to the full-objective gradient
      reluObjective(ds, net, beta, gU, gA, idx, idx.length / ds.n);
      for (let q = 0; q < net.U.length; q++) net.U[q] -= lr * gU[q];
      for (let j = 0; j < m; j++) net.alpha[j] -= lr * gA[j];
    }
    if (onEpoch && (e % 10 === 0 || e === epochs)) onEpoch(e, reluObjective(ds, net, beta));
  }
  return { net, objective: reluObjective(ds, net, beta) };
}

export interface CompareOptions {
  neurons: number;
  beta: number;
  rho: number;
  relaxation: number;
  adaptiveRho: boolean;
  admmIters: number;
  tol: number;
  sgdSeeds: number;
  sgdEpochs: number;
  sgdBatch: number;
  sgdLrs: number[];
}

export interface CompareOutcome {
  admm: { objective: number; networkObjective: number; violation: number; iterations: number; primalResidual: number; dualResidual: number; neurons: number; dualBound: number; wall_s: number };
  reference: { objective: number; rho: number };
  sgd: { objectives: number[]; best: number; median: number; lr: number[]; wall_s: number };
  admmZ: Float64Array;
  patterns: number;
}

/** ADMM on the SCP (plus a second ADMM run with another ρ as a reference optimum), then SGD from several seeds with the best lr of a grid. */
export function compareConvexVsSgd(ds: Dataset, o: CompareOptions, rng: Rng, log?: (step: number, m: Record<string, number>) => void, check?: () => void): CompareOutcome {
  const patterns = samplePatterns(ds, o.neurons, rng.fork());
  const p: ScpProblem = { ds, patterns, beta: o.beta };
  let t0 = performance.now();
  const res = admmScp(p, { rho: o.rho, maxIters: o.admmIters, tol: o.tol, relaxation: o.relaxation, adaptiveRho: o.adaptiveRho }, (t) => log?.(t.iter, { 'admm/objective': t.objective, 'admm/primal_residual': t.primalResidual, 'admm/dual_residual': t.dualResidual, wall_s: (performance.now() - t0) / 1000 }), check);
  const admmWall = (performance.now() - t0) / 1000;
  const sc = scpObjective(p, res.z);
  const net = networkFromScp(p, res.z);
  // reference optimum: an independent ADMM run with another ρ and three times the iterations
  const refRho = o.rho * 3;
  const ref = admmScp(p, { rho: refRho, maxIters: 3 * o.admmIters, tol: o.tol / 10, relaxation: o.relaxation, adaptiveRho: o.adaptiveRho }, undefined, check);
  const refObj = scpObjective(p, ref.z).objective;
  t0 = performance.now();
  const objectives: number[] = [];
  const lrs: number[] = [];
  for (let s = 0; s < o.sgdSeeds; s++) {
    const seedRng = rng.fork();
    let best = Infinity;
    let bestLr = NaN;
    for (const lr of o.sgdLrs) {
      const r = sgdRelu(ds, 2 * o.neurons, o.beta, lr, o.sgdEpochs, o.sgdBatch, new Rng(seedRng.nextUint32() ^ s), s === 0 && lr === o.sgdLrs[0] ? (e, obj) => log?.(e, { [`sgd/objective`]: obj }) : undefined, check);
      const obj = Number.isFinite(r.objective) ? r.objective : Infinity;
      if (obj < best) {
        best = obj;
        bestLr = lr;
      }
    }
    objectives.push(best);
    lrs.push(bestLr);
  }
  return {
    admm: { objective: sc.objective, networkObjective: reluObjective(ds, net, o.beta), violation: sc.violation, iterations: res.iterations, primalResidual: res.primalResidual, dualResidual: res.dualResidual, neurons: net.m, dualBound: scpDualBound(p, res.z, res.mu), wall_s: admmWall },
    reference: { objective: refObj, rho: refRho },
    sgd: { objectives, best: Math.min(...objectives), median: median(objectives), lr: lrs, wall_s: (performance.now() - t0) / 1000 },
    admmZ: res.z,
    patterns: patterns.length,
  };
}

const schema = z
  .object({
    dataX: z.string().default('').describe('X (n×d) as .npy or .json; empty = generate two spirals. A bias column is appended'),
    dataY: z.string().default('').describe('real targets (e.g. ±1 labels) as .npy or .json (may be empty for a {"X","y"} JSON)'),
    n: z.number().int().min(4).max(5000).default(200).describe('generated examples'),
    neurons: z.number().int().min(1).max(512).default(64).describe('P: sampled activation patterns (the SCP has up to 2P neurons)'),
    beta: z.number().positive().default(1e-3).describe('weight decay β (group-ℓ2 weight in the convex program)'),
    rho: z.number().positive().default(0.003).describe('ADMM penalty ρ (small values suit ±1 targets and weak β)'),
    relaxation: z.number().min(1).lt(2).default(1.6).describe('ADMM over-relaxation α (1 = plain ADMM as in the paper; 1.6 converges faster here)'),
    adaptiveRho: z.boolean().default(false).describe('residual-balancing updates of ρ (not in the paper)'),
    admmIters: z.number().int().min(1).default(3000).describe('ADMM iteration cap'),
    tol: z.number().positive().default(1e-6).describe('stop when primal and dual residuals are below this'),
    sgdSeeds: z.number().int().min(1).max(50).default(5).describe('random initializations of the non-convex SGD baseline'),
    sgdEpochs: z.number().int().min(1).default(400).describe('SGD epochs per run'),
    sgdBatch: z.number().int().min(1).default(20).describe('SGD minibatch size'),
    sgdLrs: z.array(z.number().positive()).min(1).default([0.003, 0.01, 0.03]).describe('SGD learning rates tried per seed (best kept)'),
  })
  .strict();
type Config = z.infer<typeof schema>;

async function run(ctx: RunContext<Config>) {
  const c = ctx.config;
  const raw = c.dataX ? loadDataset(c.dataX, c.dataY, { xField: 'dataX', yField: 'dataY', labels: 'real' }) : twoSpirals(ctx.rng.fork(), c.n);
  const ds = withBias(raw);
  const total = c.admmIters * 5 + c.sgdSeeds * c.sgdLrs.length * c.sgdEpochs;
  let done = 0;
  const out = compareConvexVsSgd(ds, c, ctx.rng.fork(), (step, m) => ctx.log(step, m), () => {
    ctx.throwIfCancelled();
    if (++done % 50 === 0) ctx.progress(done, total);
  });
  ctx.progress(total, total);
  ctx.artifact('admm_solution.npy', encodeNpy(out.admmZ, [2 * out.patterns, ds.d]));
  ctx.artifact('sgd_objectives.npy', encodeNpy(Float64Array.from(out.sgd.objectives)));
  const summary = { patterns: out.patterns, admm: out.admm, reference: out.reference, sgd: out.sgd };
  ctx.artifact('summary.json', summary);
  return summary;
}

export const convexReluAdmm = defineExperiment({
  id: 'convex-relu-admm',
  title: 'Convex two-layer ReLU training by ADMM (sampled convex program) vs SGD on the non-convex net',
  paper: 'Efficient Global Optimization of Two-layer ReLU Networks: Quadratic-time Algorithms and Adversarial Training',
  kind: 'optimizer',
  tasks: ['two-spirals'],
  schema,
  keyMetric: 'admm/objective',
  lowerIsBetter: true,
  run,
  claim: {
    statement:
      'ADMM solves the sampled convex program of a two-layer ReLU network to its optimum (objective within 1% of an independent longer ADMM run, small cone violation), and the recovered network has a lower regularized training loss than SGD on the non-convex network from every one of several seeds.',
    async fast({ seed }) {
      const rng = new Rng(seed);
      const ds = withBias(twoSpirals(rng.fork(), 100));
      const o = compareConvexVsSgd(ds, { neurons: 32, beta: 1e-3, rho: 0.003, relaxation: 1.6, adaptiveRho: false, admmIters: 2000, tol: 1e-6, sgdSeeds: 3, sgdEpochs: 300, sgdBatch: 10, sgdLrs: [0.003, 0.01, 0.03] }, rng.fork());
      return verdict(o);
    },
    async full({ seeds }) {
      const rows = seeds.map((seed) => {
        const rng = new Rng(seed);
        const ds = withBias(twoSpirals(rng.fork(), 200));
        return verdict(compareConvexVsSgd(ds, { neurons: 64, beta: 1e-3, rho: 0.003, relaxation: 1.6, adaptiveRho: false, admmIters: 4000, tol: 1e-6, sgdSeeds: 5, sgdEpochs: 600, sgdBatch: 20, sgdLrs: [0.003, 0.01, 0.03] }, rng.fork()));
      });
      const measured: Record<string, number> = {};
      rows.forEach((r, i) => {
        measured[`seed${seeds[i]}_admm_network_objective`] = r.measured.admm_network_objective as number;
        measured[`seed${seeds[i]}_sgd_best_objective`] = r.measured.sgd_best_objective as number;
      });
      return { pass: rows.every((r) => r.pass), measured, summary: rows.map((r) => r.summary).join(' | ') };
    },
  },
});

function verdict(o: CompareOutcome) {
  const relGap = Math.abs(o.admm.objective - o.reference.objective) / Math.max(o.reference.objective, 1e-12);
  const converged = relGap < 1e-2 && o.admm.violation < 0.05;
  const pass = converged && o.admm.networkObjective < o.sgd.best;
  return {
    pass,
    measured: {
      admm_objective: o.admm.objective,
      admm_network_objective: o.admm.networkObjective,
      reference_objective: o.reference.objective,
      admm_iterations: o.admm.iterations,
      admm_violation: o.admm.violation,
      admm_dual_bound: o.admm.dualBound,
      sgd_best_objective: o.sgd.best,
      sgd_median_objective: o.sgd.median,
    },
    summary: `ADMM (${o.patterns} patterns, ${o.admm.iterations} it) objective ${o.admm.objective.toFixed(4)} (reference ${o.reference.objective.toFixed(4)}, violation ${o.admm.violation.toExponential(1)}), network ${o.admm.networkObjective.toFixed(4)}; SGD best of ${o.sgd.objectives.length} seeds ${o.sgd.best.toFixed(4)} (median ${o.sgd.median.toFixed(4)})`,
  };
}
