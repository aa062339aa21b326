// AdaSketch-Newton (Hong, Na, Mahoney, Kolar, ICML 2023): equality-constrained nonlinear programs
// min f(x) s.t. c(x) = 0 by SQP/Newton on the KKT system, where each Newton system
//   K d = −(∇_xL; c),   K = [[B, Gᵀ], [G, 0]]
// is solved INEXACTLY by randomized Kaczmarz (a row sketch of K), to an adaptive accuracy that
// guarantees descent on the exact augmented Lagrangian merit
//   L_η(x, λ) = f + λᵀc + (η₁/2)‖c‖² + (η₂/2)‖∇_xL‖²,
// with penalty/accuracy updates when the descent test fails and Armijo backtracking on L_η.
// Baseline: the same SQP with exact (dense LU) solves of K. Every floating-point operation of both
// runs is counted (evaluation, Hessian, solver, merit) so the comparison is in flops, not seconds.
// Problem (the paper's second experiment, synthetic data): equality-constrained logistic
// regression with linear constraints C x = e and one nonlinear constraint ‖x‖² = R².
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../experiment';
import { encodeNpy } from '../io/npy';
import { loadProblemFile, ProblemFileError } from '../io/problem-file';
import { Rng } from '../rng';
import { dot, denseSolveFlops, norm2 } from '../linalg/dense';
import { solveGeneral } from '../linalg/lu';
import { log1pExp, sigmoid } from '../linalg/logistic';
import { symmetricEigenvalues } from '../linalg/symmetric-eigen';

// ---------------------------------------------------------------------------------------------
// Problem: equality-constrained logistic regression

export interface ConstrainedLogistic {
  /** Samples N, variables n, linear constraints mLin (+1 if the norm constraint is on). */
  N: number;
  n: number;
  features: Float64Array; // N × n
  labels: Float64Array; // ±1
  ridge: number;
  C: Float64Array; // mLin × n
  e: Float64Array;
  mLin: number;
  /** R² of the constraint ‖x‖² = R², or 0 for no nonlinear constraint. */
  radius2: number;
}

export function constraintCount(p: ConstrainedLogistic): number {
  return p.mLin + (p.radius2 > 0 ? 1 : 0);
}

/** Flop ledger: one entry per kind of work. */
export class Flops {
  evaluation = 0;
  hessian = 0;
  solver = 0;
  merit = 0;
  get total(): number {
    return this.evaluation + this.hessian + this.solver + this.merit;
  }
}

interface FirstOrder {
  f: number;
  grad: Float64Array;
  c: Float64Array;
  G: Float64Array; // m × n
  /** σ(z_i a_iᵀx)(1 − σ) per sample, kept for the Hessian. */
  curv: Float64Array;
}

/** f, ∇f, c and its Jacobian G at x: 4Nn + 2 m n + O(N + n) flops. */
export function evaluateFirstOrder(p: ConstrainedLogistic, x: Float64Array, flops: Flops): FirstOrder {
  const { N, n, features } = p;
  const m = constraintCount(p);
  let f = 0;
  const grad = new Float64Array(n);
  const curv = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const off = i * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += features[off + j] * x[j];
    const zi = p.labels[i] * s;
    f += log1pExp(-zi) / N; // log(1 + e^{−z_i a_iᵀx})
    const sg = sigmoid(zi);
    curv[i] = sg * (1 - sg);
    const coef = (-(1 - sg) * p.labels[i]) / N;
    for (let j = 0; j < n; j++) grad[j] += coef * features[off + j];
  }
  let xx = 0;
  for (let j = 0; j < n; j++) xx += x[j] * x[j];
  f += (p.ridge / 2) * xx;
  for (let j = 0; j < n; j++) grad[j] += p.ridge * x[j];
  const c = new Float64Array(m);
  const G = new Float64Array(m * n);
  for (let k = 0; k < p.mLin; k++) {
    let s = -p.e[k];
    for (let j = 0; j < n; j++) {
      s += p.C[k * n + j] * x[j];
      G[k * n + j] = p.C[k * n + j];
    }
    c[k] = s;
  }
  if (p.radius2 > 0) {
    // (‖x‖² − R²)/(2R): scaled so that its gradient x/R has unit norm on the constraint set
    const R = Math.sqrt(p.radius2);
    c[m - 1] = (xx - p.radius2) / (2 * R);
    for (let j = 0; j < n; j++) G[(m - 1) * n + j] = x[j] / R;
  }
  flops.evaluation += 4 * N * n + 20 * N + 2 * p.mLin * n + 6 * n;
  return { f, grad, c, G, curv };
}

/** ∇²f = (1/N) Aᵀ diag(σ(1−σ)) A + ridge·I (symmetric: N n(n+1) flops). */
export function logisticHessian(p: ConstrainedLogistic, curv: Float64Array, flops: Flops): Float64Array {
  const { N, n, features } = p;
  const h = new Float64Array(n * n);
  for (let i = 0; i < N; i++) {
    const w = curv[i] / N;
    if (w === 0) continue;
    const off = i * n;
    for (let j = 0; j < n; j++) {
      const aj = w * features[off + j];
      const row = j * n;
      for (let k = j; k < n; k++) h[row + k] += aj * features[off + k];
    }
  }
  for (let j = 0; j < n; j++) {
    h[j * n + j] += p.ridge;
    for (let k = j + 1; k < n; k++) h[k * n + j] = h[j * n + k];
  }
  flops.hessian += N * n * (n + 1) + N;
  return h;
}

/**
 * Random instance: features N(0, 1/n), labels from a planted x♮ with 10 % flips, constraint rows
 * of unit norm, and e = C x_f for a point x_f with ‖x_f‖ = R (so the constraints are consistent).
 */
export function randomConstrainedLogistic(rng: Rng, N: number, n: number, mLin: number, radius: number, ridge: number): ConstrainedLogistic {
  const features = Float64Array.from({ length: N * n }, () => rng.normal() / Math.sqrt(n));
  const planted = Float64Array.from({ length: n }, () => rng.normal());
  const labels = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += features[i * n + j] * planted[j];
    labels[i] = (s >= 0 ? 1 : -1) * (rng.uniform() < 0.1 ? -1 : 1);
  }
  const C = Float64Array.from({ length: mLin * n }, () => rng.normal());
  for (let k = 0; k < mLin; k++) {
    const nk = norm2(C.subarray(k * n, (k + 1) * n));
    for (let j = 0; j < n; j++) C[k * n + j] /= nk;
  }
  const xf = Float64Array.from({ length: n }, () => rng.normal());
  const s = radius > 0 ? radius / norm2(xf) : 1 / norm2(xf);
  for (let j = 0; j < n; j++) xf[j] *= s;
  const e = new Float64Array(mLin);
  for (let k = 0; k < mLin; k++) e[k] = dot(C.subarray(k * n, (k + 1) * n), xf);
  return { N, n, features, labels, ridge, C, e, mLin, radius2: radius > 0 ? radius * radius : 0 };
}

/**
 * Problem file: JSON {"features": N×n, "labels": [N] (±1 or 0/1), "C": m×n, "e": [m]}; the ridge
 * and R come from the config. A .npy is not enough to describe this problem and is rejected.
 */
export function loadConstrainedLogistic(path: string, radius: number, ridge: number): ConstrainedLogistic {
  if (path.toLowerCase().endsWith('.npy')) {
    throw new ProblemFileError(`${path}: adasketch-newton needs a JSON problem {"features", "labels", "C", "e"} (fields may point to .npy files), not a single .npy array`);
  }
  const data = loadProblemFile(path);
  const features = Float64Array.from(data.get('features', ['N', 'n']));
  const labels = Float64Array.from(data.get('labels', ['N']));
  const C = Float64Array.from(data.get('C', ['m', 'n']));
  const e = Float64Array.from(data.get('e', ['m']));
  const N = data.dims.get('N')!;
  const n = data.dims.get('n')!;
  const mLin = data.dims.get('m')!;
  for (let i = 0; i < N; i++) {
    if (labels[i] === 0) labels[i] = -1;
    else if (labels[i] !== 1 && labels[i] !== -1) throw new ProblemFileError(`${path}: labels[${i}] = ${labels[i]}, expected ±1 or 0/1`);
  }
  if (mLin + (radius > 0 ? 1 : 0) >= n) throw new ProblemFileError(`${path}: ${mLin} constraints (+ the norm constraint) must be fewer than the ${n} variables`);
  return { N, n, features, labels, ridge, C, e, mLin, radius2: radius > 0 ? radius * radius : 0 };
}

// ---------------------------------------------------------------------------------------------
// Linear-system solvers for K d = b

function frobenius(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** K = [[B, Gᵀ], [G, 0]] as a dense s × s matrix. */
function kktMatrix(B: Float64Array, G: Float64Array, n: number, m: number): Float64Array {
  const s = n + m;
  const K = new Float64Array(s * s);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) K[i * s + j] = B[i * n + j];
  for (let k = 0; k < m; k++) {
    for (let j = 0; j < n; j++) {
      K[(n + k) * s + j] = G[k * n + j];
      K[j * s + n + k] = G[k * n + j];
    }
  }
  return K;
}

export interface KaczmarzResult {
  d: Float64Array;
  steps: number;
  residual: number;
  converged: boolean;
}

/**
 * Randomized Kaczmarz for K d = b from d = 0 (row i picked uniformly — the paper code's canonical
 * sketch — or ∝ ‖K_i‖²): d ← d − ((K_i d − b_i)/‖K_i‖²) K_iᵀ (4s flops). The full residual is
 * checked every `checkEvery` steps (2s² flops) against ‖r‖ ≤ threshold.
 */
export function randomizedKaczmarz(
  K: Float64Array,
  s: number,
  b: Float64Array,
  threshold: number,
  rng: Rng,
  o: { checkEvery: number; maxSteps: number; sampling: 'uniform' | 'row-norm'; rowNorms: Float64Array; cumulative?: Float64Array },
  flops: Flops,
): KaczmarzResult {
  const d = new Float64Array(s);
  const r = new Float64Array(s);
  const residual = () => {
    let acc = 0;
    for (let i = 0; i < s; i++) {
      let v = -b[i];
      const off = i * s;
      for (let j = 0; j < s; j++) v += K[off + j] * d[j];
      r[i] = v;
      acc += v * v;
    }
    flops.solver += 2 * s * s;
    return Math.sqrt(acc);
  };
  let res = norm2(b);
  let steps = 0;
  const total = o.cumulative ? o.cumulative[s - 1] : 0;
  while (res > threshold && steps < o.maxSteps) {
    let batch = 0;
    for (; batch < o.checkEvery && steps < o.maxSteps; batch++, steps++) {
      let i: number;
      if (o.sampling === 'uniform') i = rng.int(s);
      else {
        const u = rng.uniform() * total;
        let lo = 0;
        let hi = s - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (o.cumulative![mid] > u) hi = mid;
          else lo = mid + 1;
        }
        i = lo;
      }
      const off = i * s;
      let v = -b[i];
      for (let j = 0; j < s; j++) v += K[off + j] * d[j];
      const step = v / o.rowNorms[i];
      for (let j = 0; j < s; j++) d[j] -= step * K[off + j];
    }
    flops.solver += 4 * s * batch;
    res = residual();
  }
  return { d, steps, residual: res, converged: res <= threshold };
}

// ---------------------------------------------------------------------------------------------
// The SQP loop (shared by AdaSketch-Newton and the exact-solve baseline)

export interface SqpOptions {
  solver: 'sketch' | 'exact';
  maxIter: number;
  kktTol: number;
  eta1: number;
  eta2: number;
  delta: number;
  xiB: number;
  beta: number;
  nu: number;
  theta: number;
  psiScale: number;
  deltaFloor: number;
  checkEvery: number;
  maxSketchSteps: number;
  sampling: 'uniform' | 'row-norm';
  /** 'code': ‖K‖ψ‖r‖ ≤ θδ‖b‖ with δ ≤ δ_trial (official code); 'forcing': ‖r‖ ≤ θδ‖b‖. */
  accuracyRule: 'code' | 'forcing';
  /** Reduced-Hessian threshold below which B = ∇²L + (ξ_B + ‖∇²L‖_F) I (code: 1e-2). */
  curvatureThreshold: number;
}

export interface SqpIteration {
  iteration: number;
  kkt: number;
  objective: number;
  constraintNorm: number;
  stepSize: number;
  sketchSteps: number;
  flops: number;
  solverFlops: number;
  wall_s: number;
}

export interface SqpResult {
  x: Float64Array;
  lambda: Float64Array;
  iterations: number;
  kkt: number;
  converged: boolean;
  flops: Flops;
  trace: SqpIteration[];
  totalSketchSteps: number;
  eta1: number;
  eta2: number;
}

export function sqpSolve(p: ConstrainedLogistic, o: SqpOptions, rng: Rng, onIteration?: (it: SqpIteration) => void, x0?: Float64Array): SqpResult {
  const n = p.n;
  const m = constraintCount(p);
  const s = n + m;
  const flops = new Flops();
  // code: x₀ = ones; scaled to unit norm
  const x = x0 ? Float64Array.from(x0) : new Float64Array(n).fill(1 / Math.sqrt(n));
  const lambda = new Float64Array(m).fill(1);
  let { eta1, eta2, delta } = o;
  const t0 = performance.now();
  const trace: SqpIteration[] = [];
  let totalSketch = 0;

  // ∇_xL = ∇f + Gᵀλ (2mn flops)
  const lagGrad = (ev: FirstOrder, lam: Float64Array) => {
    const g = Float64Array.from(ev.grad);
    for (let k = 0; k < m; k++) for (let j = 0; j < n; j++) g[j] += ev.G[k * n + j] * lam[k];
    flops.evaluation += 2 * m * n;
    return g;
  };
  const meritValue = (ev: FirstOrder, lam: Float64Array, gl: Float64Array) => {
    flops.merit += 2 * m + 2 * m + 2 * n + 6;
    return ev.f + dot(lam, ev.c) + (eta1 / 2) * dot(ev.c, ev.c) + (eta2 / 2) * dot(gl, gl);
  };

  let ev = evaluateFirstOrder(p, x, flops);
  let gl = lagGrad(ev, lambda);
  const kktOf = (g: Float64Array, c: Float64Array) => Math.sqrt(dot(g, g) + dot(c, c));
  let kkt = kktOf(gl, ev.c);
  let k = 0;
  const record = (stepSize: number, sketchSteps: number) => {
    const it = {
      iteration: k,
      kkt,
      objective: ev.f,
      constraintNorm: norm2(ev.c),
      stepSize,
      sketchSteps,
      flops: flops.total,
      solverFlops: flops.solver,
      wall_s: (performance.now() - t0) / 1000,
    };
    trace.push(it);
    onIteration?.(it);
  };
  record(0, 0);
  while (kkt > o.kktTol && k < o.maxIter) {
    // Hessian of the Lagrangian: ∇²f + (λ_norm/R) I (the linear constraints have zero curvature)
    const H = logisticHessian(p, ev.curv, flops);
    const normCurvature = p.radius2 > 0 ? lambda[m - 1] / Math.sqrt(p.radius2) : 0;
    for (let j = 0; j < n; j++) H[j * n + j] += normCurvature;
    // ∇²_xxL ∇_xL for the merit gradient (before any modification)
    const hg = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let j = 0; j < n; j++) acc += H[i * n + j] * gl[j];
      hg[i] = acc;
    }
    // Hessian modification. ∇²f ⪰ ridge·I for this problem, so the reduced Hessian's smallest
    // eigenvalue is at least ridge + λ_norm/R: the code's eigmin test, with that bound in place
    // of an O(n³) eigen-decomposition (identical for both solvers).
    const HF = frobenius(H);
    flops.hessian += 2 * n * n;
    if (p.ridge + normCurvature < o.curvatureThreshold) {
      const t = o.xiB + HF;
      for (let j = 0; j < n; j++) H[j * n + j] += t;
    }
    const B = H;
    const K = kktMatrix(B, ev.G, n, m);
    const rhs = new Float64Array(s);
    for (let j = 0; j < n; j++) rhs[j] = -gl[j];
    for (let q = 0; q < m; q++) rhs[n + q] = -ev.c[q];
    // gradient of the merit: (∇_xL + η₂ ∇²_xxL ∇_xL + η₁ Gᵀc ; c + η₂ G ∇_xL) — the exact
    // gradient (the paper code uses ∇²f for ∇²_xxL in the first block)
    const gtc = new Float64Array(n);
    const ggl = new Float64Array(m);
    for (let q = 0; q < m; q++) {
      let acc = 0;
      for (let j = 0; j < n; j++) {
        gtc[j] += ev.G[q * n + j] * ev.c[q];
        acc += ev.G[q * n + j] * gl[j];
      }
      ggl[q] = acc;
    }
    flops.merit += 2 * n * n + 4 * m * n;
    const meritGrad = (e1: number, e2: number) => {
      const g = new Float64Array(s);
      for (let j = 0; j < n; j++) g[j] = gl[j] + e2 * hg[j] + e1 * gtc[j];
      for (let q = 0; q < m; q++) g[n + q] = ev.c[q] + e2 * ggl[q];
      flops.merit += 4 * s;
      return g;
    };
    const bnorm = norm2(rhs);
    let dir: Float64Array;
    let sketchSteps = 0;
    if (o.solver === 'exact') {
      dir = solveGeneral(K, s, rhs);
      flops.solver += denseSolveFlops(s);
      // same penalty safeguard as the sketch method (the exact direction rarely needs it)
      for (let guard = 0; guard < 60; guard++) {
        const q1 = dot(meritGrad(eta1, eta2), dir);
        if (q1 <= -(eta2 / 2) * bnorm * bnorm || eta1 > 1e8 || eta2 < 1e-8) break;
        eta1 *= o.nu * o.nu;
        eta2 /= o.nu;
      }
    } else {
      // adaptive accuracy constants (Frobenius norms, as Julia's norm() on matrices)
      const GGt = new Float64Array(m * m);
      for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) GGt[a * m + b] = dot(ev.G.subarray(a * n, (a + 1) * n), ev.G.subarray(b * n, (b + 1) * n));
      const xiG = symmetricEigenvalues(GGt, m)[0];
      flops.solver += 2 * m * m * n + 30 * m * m * m;
      if (xiG < 1e-2) throw new Error(`adasketch-newton: constraint Jacobian is (nearly) rank deficient (λ_min(GGᵀ) = ${xiG.toExponential(2)})`);
      const BF = frobenius(B);
      const GF = frobenius(ev.G);
      const psi = (o.psiScale * Math.max(BF * BF, 1)) / (Math.min(xiG, 1) * Math.min(o.xiB, 1));
      const upsilon = Math.max(GF, HF, 1);
      const codeRule = o.accuracyRule === 'code';
      // δ_trial is the worst-case accuracy of the analysis; the forcing rule keeps δ until a descent test fails
      const deltaTrial = () => (codeRule ? ((0.5 - o.beta) * eta2) / ((1 + eta1 + eta2) * upsilon * upsilon * psi * psi) : Infinity);
      delta = Math.max(Math.min(delta, deltaTrial()), o.deltaFloor);
      const KF = frobenius(K);
      const rowNorms = new Float64Array(s);
      for (let i = 0; i < s; i++) rowNorms[i] = dot(K.subarray(i * s, (i + 1) * s), K.subarray(i * s, (i + 1) * s));
      let cumulative: Float64Array | undefined;
      if (o.sampling === 'row-norm') {
        cumulative = new Float64Array(s);
        let acc = 0;
        for (let i = 0; i < s; i++) cumulative[i] = acc += rowNorms[i];
      }
      flops.solver += 4 * s * s + 2 * n * n + 2 * m * n;
      for (;;) {
        // accuracy: ‖K‖ ψ ‖r‖ ≤ θ δ ‖b‖ (code) or ‖r‖ ≤ θ δ ‖b‖ (forcing)
        const threshold = codeRule ? (o.theta * delta * bnorm) / (KF * psi) : o.theta * delta * bnorm;
        const sol = randomizedKaczmarz(K, s, rhs, threshold, rng, { checkEvery: o.checkEvery, maxSteps: o.maxSketchSteps, sampling: o.sampling, rowNorms, cumulative }, flops);
        sketchSteps += sol.steps;
        dir = sol.d;
        const q1 = dot(meritGrad(eta1, eta2), dir);
        if (eta1 > 1e8 || eta2 < 1e-8) break;
        if (q1 > -(eta2 / 2) * bnorm * bnorm) {
          // not a sufficient descent direction: raise η₁, lower η₂, tighten δ and re-solve
          eta1 *= o.nu * o.nu;
          eta2 /= o.nu;
          delta = Math.max(Math.min(delta / o.nu ** 4, deltaTrial()), o.deltaFloor);
        } else break;
      }
      totalSketch += sketchSteps;
    }
    // Armijo backtracking on L_η
    const slope = dot(meritGrad(eta1, eta2), dir);
    const merit0 = meritValue(ev, lambda, gl);
    let alpha = 1;
    const xt = new Float64Array(n);
    const lt = new Float64Array(m);
    let evT = ev;
    let glT = gl;
    for (let ls = 0; ls < 60; ls++) {
      for (let j = 0; j < n; j++) xt[j] = x[j] + alpha * dir[j];
      for (let q = 0; q < m; q++) lt[q] = lambda[q] + alpha * dir[n + q];
      evT = evaluateFirstOrder(p, xt, flops);
      glT = lagGrad(evT, lt);
      if (meritValue(evT, lt, glT) <= merit0 + alpha * o.beta * slope) break;
      alpha /= 2;
    }
    x.set(xt);
    lambda.set(lt);
    ev = evT;
    gl = glT;
    kkt = kktOf(gl, ev.c);
    k++;
    record(alpha, sketchSteps);
  }
  return { x, lambda, iterations: k, kkt, converged: kkt <= o.kktTol, flops, trace, totalSketchSteps: totalSketch, eta1, eta2 };
}

// ---------------------------------------------------------------------------------------------
// Experiment

export const adaSketchSchema = z
  .object({
    samples: z.number().int().min(2).max(100000).default(50).describe('Data points N of the logistic loss; ignored with problemFile'),
    variables: z.number().int().min(3).max(2000).default(300).describe('Variables n; ignored with problemFile'),
    linearConstraints: z.number().int().min(0).max(1000).default(10).describe('Random linear constraints C x = e (paper code: 10 + 1 nonlinear)'),
    radius: z.number().min(0).max(1e6).default(0.5).describe('Nonlinear constraint ‖x‖² = radius² (scaled as (‖x‖² − R²)/(2R)); 0 = linear constraints only'),
    ridge: z.number().min(0).max(1e6).default(1).describe('Ridge μ of the objective (μ/2)‖x‖² (keeps the KKT matrix well conditioned)'),
    maxIter: z.number().int().min(1).max(10000).default(100).describe('SQP iterations cap (code: 1e4)'),
    kktTol: z.number().positive().max(1).default(1e-6).describe('Stop when ‖(∇_xL, c)‖ ≤ kktTol (code: 1e-4)'),
    eta1: z.number().positive().default(1).describe('Initial η₁ (penalty on ‖c‖²)'),
    eta2: z.number().positive().default(0.1).describe('Initial η₂ (penalty on ‖∇_xL‖²)'),
    delta: z.number().positive().max(1).default(0.1).describe('Initial accuracy parameter δ'),
    xiB: z.number().positive().default(0.1).describe('ξ_B: Hessian-modification shift / curvature constant'),
    beta: z.number().positive().max(0.5).default(0.1).describe('Armijo constant β (also in δ_trial)'),
    nu: z.number().min(1.01).max(10).default(1.5).describe('Penalty update factor ν (η₁ ← η₁ν², η₂ ← η₂/ν, δ ← δ/ν⁴)'),
    theta: z.number().positive().max(10).default(1).describe('θ in the accuracy test ‖K‖ψ‖r‖ ≤ θδ‖b‖ (code: 1)'),
    psiScale: z.number().positive().max(1e6).default(20).describe('Constant of ψ = psiScale·max(‖B‖², 1)/(min(ξ_G,1)·min(ξ_B,1)) (code: 20)'),
    deltaFloor: z.number().positive().max(1).default(1e-6).describe('Lower bound on δ (the code floors δ at 1e-6 for numerical reasons)'),
    checkEvery: z.number().int().min(0).max(1000000).default(0).describe('Kaczmarz steps between full residual checks (2s² flops each); 0 = s (one pass over the rows)'),
    maxSketchSteps: z.number().int().min(1).max(100000000).default(1000000).describe('Kaczmarz step cap per solve (code: 1e6)'),
    accuracyRule: z
      .enum(['code', 'forcing'])
      .default('forcing')
      .describe("Inexactness test: 'forcing' = ‖r‖ ≤ θδ‖b‖, δ tightened (÷ν⁴) whenever the merit-descent test fails; 'code' = ‖K‖ψ‖r‖ ≤ θδ‖b‖ with δ ≤ δ_trial as in the official Julia code (worst-case constants: near-exact solves, more flops than LU at these sizes). Unverified which the paper's experiments used"),
    sampling: z.enum(['uniform', 'row-norm']).default('uniform').describe('Kaczmarz row choice: uniform (paper code) or ∝ ‖K_i‖² (Strohmer–Vershynin)'),
    problemFile: z.string().default('').describe('Optional JSON {"features": N×n, "labels": [N], "C": m×n, "e": [m]}'),
  })
  .strict();

export type AdaSketchConfig = z.infer<typeof adaSketchSchema>;

export function sqpOptionsFrom(cfg: AdaSketchConfig, solver: 'sketch' | 'exact', s: number): SqpOptions {
  return {
    solver,
    maxIter: cfg.maxIter,
    kktTol: cfg.kktTol,
    eta1: cfg.eta1,
    eta2: cfg.eta2,
    delta: cfg.delta,
    xiB: cfg.xiB,
    beta: cfg.beta,
    nu: cfg.nu,
    theta: cfg.theta,
    psiScale: cfg.psiScale,
    deltaFloor: cfg.deltaFloor,
    checkEvery: cfg.checkEvery > 0 ? cfg.checkEvery : s,
    maxSketchSteps: cfg.maxSketchSteps,
    sampling: cfg.sampling,
    accuracyRule: cfg.accuracyRule,
    curvatureThreshold: 1e-2,
  };
}

export interface AdaSketchComparison {
  problem: ConstrainedLogistic;
  sketch: SqpResult;
  exact: SqpResult;
  solutionDistance: number;
}

export function compareAdaSketch(p: ConstrainedLogistic, cfg: AdaSketchConfig, rng: Rng, hooks: { onSketch?: (it: SqpIteration) => void; onExact?: (it: SqpIteration) => void } = {}): AdaSketchComparison {
  const s = p.n + constraintCount(p);
  const sketch = sqpSolve(p, sqpOptionsFrom(cfg, 'sketch', s), rng.fork(), hooks.onSketch);
  const exact = sqpSolve(p, sqpOptionsFrom(cfg, 'exact', s), rng.fork(), hooks.onExact);
  let d2 = 0;
  for (let j = 0; j < p.n; j++) d2 += (sketch.x[j] - exact.x[j]) ** 2;
  return { problem: p, sketch, exact, solutionDistance: Math.sqrt(d2) };
}

async function run(ctx: RunContext<AdaSketchConfig>) {
  const cfg = ctx.config;
  const problem = cfg.problemFile
    ? loadConstrainedLogistic(cfg.problemFile, cfg.radius, cfg.ridge)
    : randomConstrainedLogistic(ctx.rng.fork(), cfg.samples, cfg.variables, cfg.linearConstraints, cfg.radius, cfg.ridge);
  const log = (prefix: string, offset: number) => (it: SqpIteration) => {
    ctx.throwIfCancelled();
    ctx.log(it.iteration, {
      iteration: it.iteration,
      [`${prefix}/residual`]: it.kkt,
      [`${prefix}/objective`]: it.objective,
      [`${prefix}/constraint_norm`]: it.constraintNorm,
      [`${prefix}/step_size`]: it.stepSize,
      [`${prefix}/flops`]: it.flops,
      [`${prefix}/solver_flops`]: it.solverFlops,
      [`${prefix}/sketch_steps`]: it.sketchSteps,
      [`${prefix}/wall_s`]: it.wall_s,
    });
    ctx.progress(offset + it.iteration, 2 * cfg.maxIter, { metric: `${prefix}/residual`, value: it.kkt });
  };
  const cmp = compareAdaSketch(problem, cfg, ctx.rng, { onSketch: log('adasketch', 0), onExact: log('sqp_exact', cfg.maxIter) });
  ctx.artifact('x_adasketch.npy', encodeNpy(cmp.sketch.x));
  ctx.artifact('x_sqp_exact.npy', encodeNpy(cmp.exact.x));
  ctx.artifact('lambda_adasketch.npy', encodeNpy(cmp.sketch.lambda));
  const summary = {
    variables: problem.n,
    constraints: constraintCount(problem),
    samples: problem.N,
    adasketch_iterations: cmp.sketch.iterations,
    adasketch_kkt: cmp.sketch.kkt,
    adasketch_converged: cmp.sketch.converged,
    adasketch_flops: cmp.sketch.flops.total,
    adasketch_solver_flops: cmp.sketch.flops.solver,
    adasketch_sketch_steps: cmp.sketch.totalSketchSteps,
    sqp_exact_iterations: cmp.exact.iterations,
    sqp_exact_kkt: cmp.exact.kkt,
    sqp_exact_converged: cmp.exact.converged,
    sqp_exact_flops: cmp.exact.flops.total,
    sqp_exact_solver_flops: cmp.exact.flops.solver,
    solution_distance: cmp.solutionDistance,
    objective_adasketch: cmp.sketch.trace.at(-1)!.objective,
    objective_sqp_exact: cmp.exact.trace.at(-1)!.objective,
    flop_ratio_total: cmp.exact.flops.total / cmp.sketch.flops.total,
    flop_ratio_solver: cmp.exact.flops.solver / cmp.sketch.flops.solver,
  };
  ctx.artifact('summary.json', summary);
  return summary;
}

// ---------------------------------------------------------------------------------------------
// Claim

interface AdaFigures {
  sketchFlops: number;
  exactFlops: number;
  sketchSolverFlops: number;
  exactSolverFlops: number;
  solutionDistance: number;
  bothConverged: boolean;
}

function adaFigures(cfg: AdaSketchConfig, seed: number): AdaFigures {
  const rng = new Rng(seed);
  const p = randomConstrainedLogistic(rng.fork(), cfg.samples, cfg.variables, cfg.linearConstraints, cfg.radius, cfg.ridge);
  const cmp = compareAdaSketch(p, cfg, rng);
  return {
    sketchFlops: cmp.sketch.flops.total,
    exactFlops: cmp.exact.flops.total,
    sketchSolverFlops: cmp.sketch.flops.solver,
    exactSolverFlops: cmp.exact.flops.solver,
    solutionDistance: cmp.solutionDistance,
    bothConverged: cmp.sketch.converged && cmp.exact.converged,
  };
}

/** Same KKT point (both within kktTol, iterates within 1e-4) and fewer total and linear-solver flops. */
const judgeAda = (f: AdaFigures) => f.bothConverged && f.solutionDistance <= 1e-4 && f.sketchFlops < f.exactFlops && f.sketchSolverFlops < f.exactSolverFlops;

const FAST_ADA: Partial<AdaSketchConfig> = {};
const FULL_ADA: Partial<AdaSketchConfig> = { variables: 500, samples: 50 };

export const adaSketchExperiment = defineExperiment({
  id: 'adasketch-newton',
  title: 'AdaSketch-Newton (exact augmented Lagrangian + randomized Kaczmarz) vs SQP with exact solves',
  paper: 'Constrained Optimization via Exact Augmented Lagrangian and Randomized Iterative Sketching',
  kind: 'solver',
  tasks: ['constrained-logistic'],
  schema: adaSketchSchema,
  keyMetric: 'adasketch/residual',
  lowerIsBetter: true,
  run,
  claim: {
    statement:
      'On equality-constrained logistic regression, AdaSketch-Newton (inexact Newton directions from randomized sketching, adaptive accuracy, exact augmented Lagrangian merit) reaches the same KKT point as SQP with exact solves using fewer floating-point operations.',
    async fast({ seed }) {
      const cfg = adaSketchSchema.parse(FAST_ADA);
      const f = adaFigures(cfg, seed);
      return {
        pass: judgeAda(f),
        measured: { ...f },
        summary: `n=${cfg.variables}, m=${cfg.linearConstraints + (cfg.radius > 0 ? 1 : 0)}, N=${cfg.samples}: total flops ${f.sketchFlops.toExponential(2)} vs exact ${f.exactFlops.toExponential(2)} (${(f.exactFlops / f.sketchFlops).toFixed(2)}×), solver flops ${(f.exactSolverFlops / f.sketchSolverFlops).toFixed(2)}×, ‖x_sketch − x_exact‖ = ${f.solutionDistance.toExponential(1)}`,
      };
    },
    async full({ seeds }) {
      const cfg = adaSketchSchema.parse(FULL_ADA);
      const all = seeds.map((s) => adaFigures(cfg, s));
      const mean = (k: 'sketchFlops' | 'exactFlops' | 'sketchSolverFlops' | 'exactSolverFlops') => all.reduce((s, f) => s + f[k], 0) / all.length;
      return {
        pass: all.every(judgeAda),
        measured: {
          seeds: seeds.length,
          total_flop_ratio: mean('exactFlops') / mean('sketchFlops'),
          solver_flop_ratio: mean('exactSolverFlops') / mean('sketchSolverFlops'),
          max_solution_distance: Math.max(...all.map((f) => f.solutionDistance)),
        },
        summary: `n=${cfg.variables}, N=${cfg.samples}, ${seeds.length} seeds: exact/sketch flops ${(mean('exactFlops') / mean('sketchFlops')).toFixed(2)}× total, ${(mean('exactSolverFlops') / mean('sketchSolverFlops')).toFixed(2)}× in the linear solves`,
      };
    },
  },
});
