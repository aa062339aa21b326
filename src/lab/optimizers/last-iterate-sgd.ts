// Revisiting the last-iterate convergence of stochastic gradient methods (Liu & Zhou, ICLR 2024),
// spec optimizers.md §17. Composite problem F(x) = f(x) + h(x), f(x) = (1/n) Σ ℓ(y_i a_iᵀx)
// (logistic: smooth; hinge: Lipschitz), h(x) = λ₁‖x‖₁ + (μ/2)‖x‖². Proximal SGD with one example
// per step (plus optional Gaussian or heavy-tailed Student-t gradient noise):
//   x_{t+1} = prox_{η_t h}(x_t − η_t g_t).
// We measure F(x_T) − F* for the last iterate and for the uniformly averaged iterate across
// horizons T. The paper's rates: last iterate Õ(1/√T) (convex), Õ(1/T) (strongly convex, μ > 0).
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../../core/experiment';
import { encodeNpy } from '../../core/io/npy';
import { sampleGamma } from '../../core/linalg/distributions';
import { log1pExp, sigmoid } from '../../core/linalg/logistic';
import { Rng } from '../../core/rng';
import { loadDataset, slope, type Dataset } from './data';

export type LossKind = 'logistic' | 'hinge';
export type NoiseKind = 'none' | 'gaussian' | 'student-t';

export interface CompositeProblem {
  ds: Dataset;
  loss: LossKind;
  l1: number;
  mu: number;
}

/** ℓ(m) and ℓ'(m) for margin m = y aᵀx. The hinge uses the subgradient −1 on m < 1, 0 otherwise. */
function lossAndSlope(kind: LossKind, m: number): [number, number] {
  if (kind === 'logistic') return [log1pExp(-m), -sigmoid(-m)];
  return m < 1 ? [1 - m, -1] : [0, 0];
}

/** F(x) = (1/n) Σ ℓ(y_i a_iᵀx) + λ₁‖x‖₁ + (μ/2)‖x‖²; writes ∇f (full batch, without h) into grad if given. */
export function compositeObjective(p: CompositeProblem, x: Float64Array, grad?: Float64Array): number {
  const { X, y, n, d } = p.ds;
  if (grad) grad.fill(0);
  let s = 0;
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < d; j++) m += X[i * d + j] * x[j];
    m *= y[i];
    const [l, dl] = lossAndSlope(p.loss, m);
    s += l;
    if (grad && dl !== 0) for (let j = 0; j < d; j++) grad[j] += (dl * y[i] * X[i * d + j]) / n;
  }
  let l1 = 0;
  let l2 = 0;
  for (let j = 0; j < d; j++) {
    l1 += Math.abs(x[j]);
    l2 += x[j] * x[j];
  }
  return s / n + p.l1 * l1 + 0.5 * p.mu * l2;
}

/** prox_{η h}(v) for h = λ₁‖·‖₁ + (μ/2)‖·‖²: soft-threshold at ηλ₁, then shrink by 1/(1 + ημ). In place. */
export function proxElasticNet(v: Float64Array, eta: number, l1: number, mu: number): Float64Array {
  const t = eta * l1;
  const scale = 1 / (1 + eta * mu);
  for (let j = 0; j < v.length; j++) {
    const a = Math.abs(v[j]) - t;
    v[j] = a > 0 ? Math.sign(v[j]) * a * scale : 0;
  }
  return v;
}

/** Student-t draw with ν degrees of freedom (ν > 2 for finite variance), scaled to unit variance. */
export function studentT(rng: Rng, nu: number): number {
  // t = N / sqrt(χ²_ν / ν); χ²_ν as a sum of ν squares is only for integer ν, so use a Gamma(ν/2, 2) draw.
  const chi2 = 2 * sampleGamma(rng, nu / 2);
  const t = rng.normal() / Math.sqrt(chi2 / nu);
  return t * Math.sqrt((nu - 2) / nu);
}


export interface SgdSchedule {
  /** 'horizon': η/√T; 'anytime': η/√t; 'strongly-convex': 1/(μ(t + t0)). */
  kind: 'horizon' | 'anytime' | 'strongly-convex';
  eta: number;
  t0: number;
  /** Cap η_t ≤ 1/(2L) (smooth case). */
  cap: number;
}

export function stepSize(s: SgdSchedule, t: number, T: number, mu: number): number {
  let e: number;
  if (s.kind === 'horizon') e = s.eta / Math.sqrt(T);
  else if (s.kind === 'anytime') e = s.eta / Math.sqrt(t);
  else e = 1 / (mu * (t + s.t0));
  return Math.min(e, s.cap);
}

export interface NoiseSpec {
  kind: NoiseKind;
  scale: number;
  nu: number;
}

/** Proximal SGD for T steps from x = 0; returns the last iterate and the uniform average of x_1..x_T. */
export function proxSgd(p: CompositeProblem, T: number, sched: SgdSchedule, noise: NoiseSpec, rng: Rng, onStep?: (t: number, x: Float64Array) => void): { last: Float64Array; average: Float64Array } {
  const { X, y, n, d } = p.ds;
  const x = new Float64Array(d);
  const avg = new Float64Array(d);
  for (let t = 1; t <= T; t++) {
    const i = rng.int(n);
    let m = 0;
    for (let j = 0; j < d; j++) m += X[i * d + j] * x[j];
    const [, dl] = lossAndSlope(p.loss, y[i] * m);
    const eta = stepSize(sched, t, T, p.mu);
    const c = dl * y[i];
    for (let j = 0; j < d; j++) {
      let g = c * X[i * d + j];
      if (noise.kind === 'gaussian') g += noise.scale * rng.normal();
      else if (noise.kind === 'student-t') g += noise.scale * studentT(rng, noise.nu);
      x[j] -= eta * g;
    }
    proxElasticNet(x, eta, p.l1, p.mu);
    for (let j = 0; j < d; j++) avg[j] += (x[j] - avg[j]) / t;
    onStep?.(t, x);
  }
  return { last: x, average: avg };
}

/** FISTA on the smooth (logistic) composite problem; the best objective value seen and its point. */
function fistaReference(p: CompositeProblem, iters: number): { fStar: number; xStar: Float64Array } {
  const { X, n, d } = p.ds;
  const g = new Float64Array(d);
  let L = 0; // L of f: λ_max((1/n) AᵀA)/4 ≤ (1/n) Σ‖a_i‖²/4
  for (let i = 0; i < n * d; i++) L += X[i] * X[i];
  L = L / n / 4;
  const x = new Float64Array(d);
  const yv = new Float64Array(d);
  let tk = 1;
  let best = Infinity;
  let bestX = new Float64Array(d);
  for (let k = 0; k < iters; k++) {
    compositeObjective(p, yv, g);
    const xNew = new Float64Array(d);
    for (let j = 0; j < d; j++) xNew[j] = yv[j] - g[j] / L;
    proxElasticNet(xNew, 1 / L, p.l1, p.mu);
    const tNext = (1 + Math.sqrt(1 + 4 * tk * tk)) / 2;
    for (let j = 0; j < d; j++) yv[j] = xNew[j] + ((tk - 1) / tNext) * (xNew[j] - x[j]);
    x.set(xNew);
    tk = tNext;
    if (k % 20 === 0 || k === iters - 1) {
      const F = compositeObjective(p, x);
      if (F < best) {
        best = F;
        bestX = Float64Array.from(x);
      }
    }
  }
  return { fStar: best, xStar: bestX };
}

/** Margins-weighted rows: K = diag(y)A, so (Kx)_i = y_i a_iᵀx. */
function marginsOf(ds: Dataset, x: ArrayLike<number>, out: Float64Array): Float64Array {
  const { X, y, n, d } = ds;
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < d; j++) m += X[i * d + j] * x[j];
    out[i] = y[i] * m;
  }
  return out;
}

/** Kᵀβ = Σ_i β_i y_i a_i. */
function marginsAdjoint(ds: Dataset, beta: ArrayLike<number>, out: Float64Array): Float64Array {
  const { X, y, n, d } = ds;
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const c = beta[i] * y[i];
    if (c !== 0) for (let j = 0; j < d; j++) out[j] += c * X[i * d + j];
  }
  return out;
}

/**
 * Lower bound on F* for the hinge problem from dual weights α ∈ [0,1]ⁿ (weak duality):
 * F* ≥ D(α) = (1/n)Σα_i − h*(w), w = (1/n)Σ α_i y_i a_i, with h* = Σ_j (|w_j| − λ₁)₊²/(2μ) for μ > 0;
 * for μ = 0, h* is the indicator of ‖w‖∞ ≤ λ₁, so α is first scaled by min(1, λ₁/‖w‖∞) to be feasible.
 */
export function hingeDualBound(p: CompositeProblem, alpha: ArrayLike<number>): number {
  const { n, d } = p.ds;
  const a = Float64Array.from(alpha, (v) => Math.min(1, Math.max(0, v)) / n);
  const w = marginsAdjoint(p.ds, a, new Float64Array(d));
  let sumA = 0;
  for (let i = 0; i < n; i++) sumA += a[i];
  if (p.mu > 0) {
    let hStar = 0;
    for (let j = 0; j < d; j++) hStar += Math.max(0, Math.abs(w[j]) - p.l1) ** 2 / (2 * p.mu);
    return sumA - hStar;
  }
  let wInf = 0;
  for (let j = 0; j < d; j++) wInf = Math.max(wInf, Math.abs(w[j]));
  return wInf > p.l1 ? (sumA * p.l1) / wInf : sumA;
}

export interface HingeReference {
  fStar: number;
  xStar: Float64Array;
  /** Weak-duality lower bound: the true F* lies in [lowerBound, fStar]. */
  lowerBound: number;
  iterations: number;
}

/**
 * F* of the hinge composite problem min_x (1/n)Σ max(0, 1 − y_i a_iᵀx) + λ₁‖x‖₁ + (μ/2)‖x‖² to a certified
 * precision: primal–dual hybrid gradient (Chambolle–Pock) on min_x Φ(Kx) + h(x), K = diag(y)A,
 * Φ(z) = (1/n)Σ max(0, 1 − z_i), Φ*(β) = Σβ_i on β ∈ [−1/n, 0]ⁿ:
 *   x⁺ = prox_{τh}(x − τKᵀβ),  β⁺ = clip(β + σK(2x⁺ − x) − σ, −1/n, 0),  τσ‖K‖² < 1,
 * with restarts to the running average whenever its duality gap has halved (a piecewise-linear problem
 * is sharp, so restarted PDHG converges linearly). Stops once F(x) − D(α) ≤ tol·max(1, |F|).
 */
export function hingeReference(p: CompositeProblem, o: { maxIters: number; tol: number; scale?: number }): HingeReference {
  const { n, d } = p.ds;
  // ‖K‖ by power iteration on KᵀK
  let v: Float64Array = new Float64Array(d).fill(1 / Math.sqrt(d));
  const kv = new Float64Array(n);
  let normK = 0;
  for (let it = 0; it < 60; it++) {
    marginsOf(p.ds, v, kv);
    const w = marginsAdjoint(p.ds, kv, new Float64Array(d));
    const nw = Math.hypot(...w);
    normK = Math.sqrt(nw);
    v = Float64Array.from(w, (x) => x / nw);
  }
  normK *= 1.01;
  // τ = s/‖K‖, σ = 1/(s‖K‖): the scale s balances primal entries (O(1)) against dual ones (in [−1/n, 0])
  const scale = o.scale ?? 0.2 * Math.sqrt(n);
  const tau = scale / normK;
  const sigma = 1 / (scale * normK);
  let x = new Float64Array(d);
  let beta = new Float64Array(n);
  const xSum = new Float64Array(d);
  const bSum = new Float64Array(n);
  let count = 0;
  const kt = new Float64Array(d);
  const kx = new Float64Array(n);
  const gapOf = (xx: Float64Array, bb: Float64Array) => {
    const F = compositeObjective(p, xx);
    const D = hingeDualBound(
      p,
      Float64Array.from(bb, (b) => -n * b),
    );
    return { F, D, gap: F - D };
  };
  let bestF = compositeObjective(p, x);
  let bestX = Float64Array.from(x);
  let lower = -Infinity;
  let lastRestartGap = Infinity;
  let it = 0;
  const checkEvery = 50;
  for (; it < o.maxIters; it++) {
    marginsAdjoint(p.ds, beta, kt);
    const xNew = new Float64Array(d);
    for (let j = 0; j < d; j++) xNew[j] = x[j] - tau * kt[j];
    proxElasticNet(xNew, tau, p.l1, p.mu);
    const xBar = Float64Array.from(xNew, (xj, j) => 2 * xj - x[j]);
    marginsOf(p.ds, xBar, kx);
    const bNew = new Float64Array(n);
    for (let i = 0; i < n; i++) bNew[i] = Math.min(0, Math.max(-1 / n, beta[i] + sigma * kx[i] - sigma));
    x = xNew;
    beta = bNew;
    for (let j = 0; j < d; j++) xSum[j] += x[j];
    for (let i = 0; i < n; i++) bSum[i] += beta[i];
    count++;
    if ((it + 1) % checkEvery !== 0) continue;
    const cur = gapOf(x, beta);
    const xAvg = Float64Array.from(xSum, (s) => s / count);
    const bAvg = Float64Array.from(bSum, (s) => s / count);
    const avg = gapOf(xAvg, bAvg);
    for (const [g, xx] of [
      [cur, x],
      [avg, xAvg],
    ] as const) {
      if (g.F < bestF) {
        bestF = g.F;
        bestX = Float64Array.from(xx);
      }
      lower = Math.max(lower, g.D);
    }
    if (bestF - lower <= o.tol * Math.max(1, Math.abs(bestF))) {
      it++;
      break;
    }
    const better = avg.gap < cur.gap ? { g: avg, x: xAvg, b: bAvg } : { g: cur, x, b: beta };
    if (better.g.gap <= 0.5 * lastRestartGap) {
      x = Float64Array.from(better.x);
      beta = Float64Array.from(better.b);
      xSum.fill(0);
      bSum.fill(0);
      count = 0;
      lastRestartGap = better.g.gap;
    }
  }
  return { fStar: bestF, xStar: bestX, lowerBound: lower, iterations: it };
}

/**
 * F* by a long full-batch run: FISTA for the smooth (logistic) loss; for the hinge, restarted PDHG with a
 * duality-gap certificate (the true F* lies within 1e-8·max(1, F*) below the returned value when it converged).
 */
export function referenceOptimum(p: CompositeProblem, iters: number): Reference {
  if (p.loss === 'logistic') return fistaReference(p, iters);
  return hingeReference(p, { maxIters: Math.max(iters, 20 * iters), tol: 1e-8 });
}

/** Random classification data a ~ N(0, I), y = sign(w*ᵀa) with a fraction of labels flipped (not separable). */
export function noisyLinearData(rng: Rng, n: number, d: number, flip: number): Dataset {
  const w = rng.fillNormal(new Float64Array(d));
  const X = rng.fillNormal(new Float64Array(n * d));
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < d; j++) m += X[i * d + j] * w[j];
    y[i] = (m >= 0 ? 1 : -1) * (rng.uniform() < flip ? -1 : 1);
  }
  return { X, y, n, d };
}

/** Per-sample smoothness of the logistic loss: max ‖a_i‖²/4 (0 for the nonsmooth hinge). */
function sampleSmoothness(p: CompositeProblem): number {
  if (p.loss === 'hinge') return 0;
  const { X, n, d } = p.ds;
  let m = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += X[i * d + j] ** 2;
    m = Math.max(m, s / 4);
  }
  return m;
}

export interface SweepOptions {
  horizons: number[];
  repeats: number;
  schedule: 'auto' | SgdSchedule['kind'];
  /** η of the convex schedules; 0 = D/G (see `distanceOverLipschitz`). */
  eta: number;
  t0: number;
  noise: NoiseSpec;
  referenceIters: number;
  /** A reference optimum computed beforehand (same problem), to reuse it across noise models. */
  reference?: Reference;
}

export interface Reference {
  fStar: number;
  xStar: Float64Array;
  /** Certified lower bound on F* (hinge only). */
  lowerBound?: number;
}

export interface SweepResult {
  fStar: number;
  horizons: number[];
  lastGap: number[];
  averageGap: number[];
  lastSlope: number;
  averageSlope: number;
  schedule: SgdSchedule;
  /** F* from the full-batch reference before any SGD value lowered it, and its certified lower bound (hinge). */
  reference: { fStar: number; lowerBound?: number };
}

/**
 * The Lipschitz-case step constant η = D/G of η_t = η/√T (the choice that balances the D²/(ηT) and
 * ηG² terms of the O((D²/η + ηG²)/√T) bound): D = ‖x* − x₀‖ with x₀ = 0 and x* the reference optimum,
 * G² = (1/n)Σ‖a_i‖² + d·σ² ≥ E‖g_t‖² (|ℓ'| ≤ 1 for hinge and logistic, σ = per-coordinate noise std).
 */
export function distanceOverLipschitz(p: CompositeProblem, xStar: Float64Array, noise: NoiseSpec): number {
  const { X, n, d } = p.ds;
  let rowSq = 0;
  for (let i = 0; i < n * d; i++) rowSq += X[i] * X[i];
  const G = Math.sqrt(rowSq / n + (noise.kind === 'none' ? 0 : d * noise.scale * noise.scale));
  const D = Math.hypot(...xStar);
  if (!(D > 0)) throw new Error('eta: the reference optimum is x* = 0, so the step rule D/G gives η = 0; set eta > 0');
  return D / G;
}

/** Runs proximal SGD for each horizon T (repeats averaged) and returns mean gaps F(x) − F* of last and averaged iterates. */
export function lastIterateSweep(p: CompositeProblem, o: SweepOptions, rng: Rng, onHorizon?: (k: number, r: { T: number; last: number; average: number }) => void, check?: () => void): SweepResult {
  const L = sampleSmoothness(p);
  const kind = o.schedule === 'auto' ? (p.mu > 0 ? 'strongly-convex' : 'horizon') : o.schedule;
  if (kind === 'strongly-convex' && !(p.mu > 0)) throw new Error('schedule: strongly-convex steps 1/(μ(t+t0)) need mu > 0');
  const cap = L > 0 ? 1 / (2 * L) : Infinity;
  const t0 = o.t0;
  const ref = o.reference ?? referenceOptimum(p, o.referenceIters);
  const eta = o.eta > 0 ? o.eta : distanceOverLipschitz(p, ref.xStar, o.noise);
  const schedule: SgdSchedule = { kind, eta, t0, cap };
  let fStar = ref.fStar;
  const rawLast: number[][] = [];
  const rawAvg: number[][] = [];
  for (let k = 0; k < o.horizons.length; k++) {
    const T = o.horizons[k];
    const ls: number[] = [];
    const as: number[] = [];
    for (let r = 0; r < o.repeats; r++) {
      check?.();
      const res = proxSgd(p, T, schedule, o.noise, rng.fork());
      ls.push(compositeObjective(p, res.last));
      as.push(compositeObjective(p, res.average));
    }
    rawLast.push(ls);
    rawAvg.push(as);
    fStar = Math.min(fStar, ...ls, ...as); // F* must lower-bound every value we measured
  }
  const meanGap = (vs: number[]) => vs.reduce((a, v) => a + (v - fStar), 0) / vs.length;
  const lastGap = rawLast.map(meanGap);
  const averageGap = rawAvg.map(meanGap);
  lastGap.forEach((v, k) => onHorizon?.(k, { T: o.horizons[k], last: v, average: averageGap[k] }));
  const lt = o.horizons.map(Math.log);
  const safeLog = (v: number) => Math.log(Math.max(v, 1e-16));
  return {
    fStar,
    horizons: o.horizons,
    lastGap,
    averageGap,
    lastSlope: slope(lt, lastGap.map(safeLog)),
    averageSlope: slope(lt, averageGap.map(safeLog)),
    schedule,
    reference: { fStar: ref.fStar, lowerBound: ref.lowerBound },
  };
}

/** The rate check: last-iterate gap·(rate)⁻¹ with rate = log T/√T (convex) or log T/T (strongly convex) must not grow by more than `slack` across T. */
export function withinRate(r: SweepResult, stronglyConvex: boolean, slack: number): { ok: boolean; normalized: number[] } {
  const rate = (T: number) => (stronglyConvex ? Math.log(T) / T : Math.log(T) / Math.sqrt(T));
  const normalized = r.horizons.map((T, k) => r.lastGap[k] / rate(T));
  const first = normalized[0];
  return { ok: normalized.every((v) => v <= slack * first), normalized };
}

const schema = z
  .object({
    dataX: z.string().default('').describe('X (n×d) as .npy or .json; empty = generate noisy linear data'),
    dataY: z.string().default('').describe('labels in {0,1} or {−1,+1} as .npy or .json (may be empty for a {"X","y"} JSON)'),
    n: z.number().int().min(10).max(100000).default(2000).describe('generated examples'),
    d: z.number().int().min(1).max(2000).default(100).describe('generated dimension'),
    labelFlip: z.number().min(0).max(0.5).default(0.1).describe('fraction of generated labels flipped'),
    loss: z.enum(['logistic', 'hinge']).default('logistic').describe('smooth logistic or Lipschitz hinge loss'),
    l1: z.number().min(0).default(1e-3).describe('λ₁ of h(x) = λ₁‖x‖₁ + (μ/2)‖x‖²'),
    mu: z.number().min(0).default(0).describe('μ: strong convexity of h (0 = merely convex problem)'),
    schedule: z.enum(['auto', 'horizon', 'anytime', 'strongly-convex']).default('auto').describe('η/√T, η/√t, or 1/(μ(t+t0)); auto picks by μ'),
    eta: z.number().min(0).default(1).describe('η of the convex schedules η/√T, η/√t; 0 = D/G (distance to the reference optimum over the gradient-norm bound), the Lipschitz-case rule'),
    t0: z.number().int().min(0).default(0).describe('offset t0 in 1/(μ(t+t0)); steps are capped at 1/(2L) for the smooth loss either way'),
    noise: z.enum(['none', 'gaussian', 'student-t']).default('student-t').describe('extra gradient noise (Student-t is heavy-tailed)'),
    noiseScale: z.number().min(0).default(0.5).describe('standard deviation of the extra gradient noise per coordinate'),
    nu: z.number().gt(2).default(2.5).describe('Student-t degrees of freedom (> 2: finite variance, heavy tails)'),
    horizons: z.array(z.number().int().min(2)).min(2).default([250, 1000, 4000, 16000]).describe('horizons T to sweep'),
    repeats: z.number().int().min(1).max(100).default(5).describe('independent runs averaged per horizon'),
    referenceIters: z.number().int().min(10).default(3000).describe('full-batch iterations for F*'),
  })
  .strict();
type Config = z.infer<typeof schema>;

async function run(ctx: RunContext<Config>) {
  const c = ctx.config;
  const ds = c.dataX ? loadDataset(c.dataX, c.dataY, { xField: 'dataX', yField: 'dataY', labels: 'binary' }) : noisyLinearData(ctx.rng.fork(), c.n, c.d, c.labelFlip);
  const p: CompositeProblem = { ds, loss: c.loss, l1: c.l1, mu: c.mu };
  const t0 = performance.now();
  let done = 0;
  const res = lastIterateSweep(
    p,
    { horizons: c.horizons, repeats: c.repeats, schedule: c.schedule, eta: c.eta, t0: c.t0, noise: { kind: c.noise, scale: c.noiseScale, nu: c.nu }, referenceIters: c.referenceIters },
    ctx.rng.fork(),
    (_k, r) => ctx.log(r.T, { 'last/objective_gap': r.last, 'average/objective_gap': r.average, wall_s: (performance.now() - t0) / 1000 }),
    () => {
      ctx.throwIfCancelled();
      ctx.progress(done++, c.horizons.length * c.repeats);
    },
  );
  ctx.progress(c.horizons.length * c.repeats, c.horizons.length * c.repeats);
  const table = new Float64Array(c.horizons.length * 3);
  c.horizons.forEach((T, k) => table.set([T, res.lastGap[k], res.averageGap[k]], k * 3));
  ctx.artifact('gaps.npy', encodeNpy(table, [c.horizons.length, 3]));
  const rate = withinRate(res, c.mu > 0, 2);
  const summary = {
    f_star: res.fStar,
    reference_f_star: res.reference.fStar,
    ...(res.reference.lowerBound !== undefined ? { reference_lower_bound: res.reference.lowerBound } : {}),
    schedule: res.schedule,
    horizons: res.horizons,
    last_gap: res.lastGap,
    average_gap: res.averageGap,
    last_slope: res.lastSlope,
    average_slope: res.averageSlope,
    gap_over_rate: rate.normalized,
    within_rate: rate.ok,
  };
  ctx.artifact('summary.json', summary);
  return summary;
}

/** One claim case: loss, strong convexity μ of h, gradient noise. Hinge steps use η = D/G (Lipschitz rule); logistic η = 1 capped at 1/(2L). */
interface ClaimCase {
  loss: LossKind;
  mu: number;
  noise: NoiseSpec;
}

function caseName(c: ClaimCase): string {
  return `${c.loss}_${c.noise.kind === 'none' ? 'no_noise' : c.noise.kind.replace('-', '_')}_${c.mu > 0 ? 'strongly_convex' : 'convex'}`;
}

function claimProblem(seed: number, n: number, d: number, c: ClaimCase): { p: CompositeProblem; rng: Rng } {
  const rng = new Rng(seed);
  const ds = noisyLinearData(rng.fork(), n, d, 0.1);
  return { p: { ds, loss: c.loss, l1: 1e-3, mu: c.mu }, rng };
}

/**
 * Pass: gap·rate⁻¹ grows by at most ×2 across T, the hinge reference is certified to 1% of the smallest gap,
 * and (when `requireSlope`) the last-iterate log–log slope is below −0.35 (convex) / −0.8 (strongly convex).
 * The slope test is skipped for the smooth loss in the full form: at d = 100 the 1/(2L) cap keeps its step
 * constant up to T ≈ 6 500, so the 1/√T decay only starts inside the horizon range (gap·rate⁻¹ is still bounded).
 */
function claimCase(seed: number, n: number, d: number, horizons: number[], repeats: number, c: ClaimCase, reference?: Reference, requireSlope = true) {
  const { p, rng } = claimProblem(seed, n, d, c);
  const r = lastIterateSweep(p, { horizons, repeats, schedule: 'auto', eta: c.loss === 'hinge' ? 0 : 1, t0: 0, noise: c.noise, referenceIters: 3000, reference }, rng.fork());
  const rate = withinRate(r, c.mu > 0, 2);
  // the reference must be exact on the scale of the gaps we measure (certificate: F* ∈ [lowerBound, fStar])
  const certified = r.reference.lowerBound === undefined || r.reference.fStar - r.reference.lowerBound <= 0.01 * r.lastGap.at(-1)!;
  const slopeOk = !requireSlope || (c.mu > 0 ? r.lastSlope < -0.8 : r.lastSlope < -0.35);
  return { r, rate, pass: rate.ok && certified && slopeOk, lastOverAverage: r.lastGap.at(-1)! / r.averageGap.at(-1)! };
}

export const lastIterateSgd = defineExperiment({
  id: 'last-iterate-sgd',
  title: 'Last iterate vs averaged iterate of proximal SGD on a composite problem',
  paper: 'Revisiting the Last-Iterate Convergence of Stochastic Gradient Methods',
  kind: 'optimizer',
  tasks: ['l1-logistic', 'l1-hinge-svm'],
  schema,
  keyMetric: 'last/objective_gap',
  lowerIsBetter: true,
  run,
  claim: {
    statement:
      'The last iterate of proximal SGD on composite problems — ℓ1-regularized logistic (smooth) and ℓ1-regularized hinge SVM (Lipschitz, non-smooth, steps D/(G√T)) — converges within the rate Õ(1/√T) (convex) and Õ(1/T) (strongly convex, steps 1/(μt)), heavy-tailed Student-t gradient noise included: gap·rate⁻¹ stays bounded across T.',
    async fast({ seed }) {
      const noise: NoiseSpec = { kind: 'student-t', scale: 0.5, nu: 2.5 };
      const horizons = [200, 800, 3200, 12800];
      const cases: [string, ClaimCase, number][] = [
        ['convex', { loss: 'logistic', mu: 0, noise }, seed],
        ['strongly_convex', { loss: 'logistic', mu: 0.2, noise }, seed + 1],
        ['hinge_convex', { loss: 'hinge', mu: 0, noise }, seed],
        ['hinge_strongly_convex', { loss: 'hinge', mu: 0.2, noise }, seed + 1],
      ];
      const measured: Record<string, number> = {};
      const parts: string[] = [];
      let pass = true;
      for (const [name, c, s] of cases) {
        const res = claimCase(s, 500, 20, horizons, 6, c);
        measured[`${name}_last_slope`] = res.r.lastSlope;
        measured[`${name}_average_slope`] = res.r.averageSlope;
        measured[`${name}_last_gap_T12800`] = res.r.lastGap.at(-1)!;
        measured[`${name}_average_gap_T12800`] = res.r.averageGap.at(-1)!;
        if (c.loss === 'hinge') measured[`${name}_reference_certificate`] = res.r.reference.fStar - res.r.reference.lowerBound!;
        pass = pass && res.pass;
        parts.push(`${name} ${res.r.lastSlope.toFixed(2)} (avg ${res.r.averageSlope.toFixed(2)}, rate ok ${res.rate.ok})`);
      }
      return {
        pass,
        measured,
        summary: `Student-t(2.5) noise, n=500, d=20, T=200…12800, last-iterate log–log slopes: ${parts.join('; ')}`,
      };
    },
    async full({ seeds }) {
      const horizons = [250, 1000, 4000, 16000];
      const measured: Record<string, number> = {};
      let pass = true;
      const noises: NoiseSpec[] = [
        { kind: 'none', scale: 0, nu: 2.5 },
        { kind: 'student-t', scale: 0.5, nu: 2.5 },
      ];
      const slopes = new Map<string, number[]>();
      for (const seed of seeds) {
        for (const loss of ['logistic', 'hinge'] as LossKind[]) {
          for (const mu of [0, 0.2]) {
            // one reference per problem, shared by both noise models
            const { p } = claimProblem(seed, 2000, 100, { loss, mu, noise: noises[0] });
            const reference = referenceOptimum(p, 3000);
            for (const noise of noises) {
              const c: ClaimCase = { loss, mu, noise };
              const res = claimCase(seed, 2000, 100, horizons, 5, c, reference, loss === 'hinge');
              const key = caseName(c);
              measured[`${key}_last_slope_seed${seed}`] = res.r.lastSlope;
              measured[`${key}_average_slope_seed${seed}`] = res.r.averageSlope;
              measured[`${key}_last_over_average_T16000_seed${seed}`] = res.lastOverAverage;
              measured[`${key}_gap_over_rate_growth_seed${seed}`] = Math.max(...res.rate.normalized) / res.rate.normalized[0];
              measured[`${key}_pass_seed${seed}`] = res.pass ? 1 : 0;
              slopes.set(key, [...(slopes.get(key) ?? []), res.r.lastSlope]);
              if (!res.pass) pass = false;
            }
          }
        }
      }
      for (const [key, v] of slopes) measured[`${key}_last_slope_mean`] = v.reduce((a, b) => a + b, 0) / v.length;
      const means = [...slopes.keys()].map((k) => `${k} ${measured[`${k}_last_slope_mean`].toFixed(2)}`).join(', ');
      return { pass, measured, summary: `last-iterate log–log slopes (n=2000, d=100, T=250…16000, mean over seeds ${seeds.join(',')}): ${means}; gap/rate within ×2 in every case, hinge slopes and reference certificates: ${pass}` };
    },
  },
});
