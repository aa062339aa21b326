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

/** F* by a long full-batch run: FISTA for the smooth (logistic) loss, proximal subgradient with the best value kept for the hinge. */
export function referenceOptimum(p: CompositeProblem, iters: number): { fStar: number; xStar: Float64Array } {
  const { X, n, d } = p.ds;
  const g = new Float64Array(d);
  if (p.loss === 'logistic') {
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
  const x = new Float64Array(d);
  let best = compositeObjective(p, x);
  let bestX = Float64Array.from(x);
  for (let k = 1; k <= iters; k++) {
    const F = compositeObjective(p, x, g);
    if (F < best) {
      best = F;
      bestX = Float64Array.from(x);
    }
    const eta = p.mu > 0 ? 1 / (p.mu * (k + 10)) : 1 / Math.sqrt(k);
    for (let j = 0; j < d; j++) x[j] -= eta * g[j];
    proxElasticNet(x, eta, p.l1, p.mu);
  }
  return { fStar: best, xStar: bestX };
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
  eta: number;
  t0: number;
  noise: NoiseSpec;
  referenceIters: number;
}

export interface SweepResult {
  fStar: number;
  horizons: number[];
  lastGap: number[];
  averageGap: number[];
  lastSlope: number;
  averageSlope: number;
  schedule: SgdSchedule;
}

/** Runs proximal SGD for each horizon T (repeats averaged) and returns mean gaps F(x) − F* of last and averaged iterates. */
export function lastIterateSweep(p: CompositeProblem, o: SweepOptions, rng: Rng, onHorizon?: (k: number, r: { T: number; last: number; average: number }) => void, check?: () => void): SweepResult {
  const L = sampleSmoothness(p);
  const kind = o.schedule === 'auto' ? (p.mu > 0 ? 'strongly-convex' : 'horizon') : o.schedule;
  if (kind === 'strongly-convex' && !(p.mu > 0)) throw new Error('schedule: strongly-convex steps 1/(μ(t+t0)) need mu > 0');
  const cap = L > 0 ? 1 / (2 * L) : Infinity;
  const t0 = o.t0;
  const schedule: SgdSchedule = { kind, eta: o.eta, t0, cap };
  let fStar = referenceOptimum(p, o.referenceIters).fStar;
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
    eta: z.number().positive().default(1).describe('η of the convex schedules'),
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

async function claimCase(seed: number, n: number, d: number, horizons: number[], repeats: number, mu: number, noise: NoiseSpec) {
  const rng = new Rng(seed);
  const ds = noisyLinearData(rng.fork(), n, d, 0.1);
  const p: CompositeProblem = { ds, loss: 'logistic', l1: 1e-3, mu };
  const r = lastIterateSweep(p, { horizons, repeats, schedule: 'auto', eta: 1, t0: 0, noise, referenceIters: 3000 }, rng.fork());
  return { r, rate: withinRate(r, mu > 0, 2) };
}

export const lastIterateSgd = defineExperiment({
  id: 'last-iterate-sgd',
  title: 'Last iterate vs averaged iterate of proximal SGD on a composite problem',
  paper: 'Revisiting the Last-Iterate Convergence of Stochastic Gradient Methods',
  kind: 'optimizer',
  tasks: ['l1-logistic'],
  schema,
  keyMetric: 'last/objective_gap',
  lowerIsBetter: true,
  run,
  claim: {
    statement:
      'The last iterate of proximal SGD on a composite (ℓ1-regularized logistic) problem converges within the rate Õ(1/√T) (convex) and Õ(1/T) (strongly convex), heavy-tailed Student-t gradient noise included: gap·rate⁻¹ stays bounded across T.',
    async fast({ seed }) {
      const noise: NoiseSpec = { kind: 'student-t', scale: 0.5, nu: 2.5 };
      const horizons = [200, 800, 3200, 12800];
      const cvx = await claimCase(seed, 500, 20, horizons, 6, 0, noise);
      const sc = await claimCase(seed + 1, 500, 20, horizons, 6, 0.2, noise);
      const measured = {
        convex_last_slope: cvx.r.lastSlope,
        convex_average_slope: cvx.r.averageSlope,
        convex_last_gap_T12800: cvx.r.lastGap.at(-1)!,
        convex_average_gap_T12800: cvx.r.averageGap.at(-1)!,
        strongly_convex_last_slope: sc.r.lastSlope,
        strongly_convex_average_slope: sc.r.averageSlope,
        strongly_convex_last_gap_T12800: sc.r.lastGap.at(-1)!,
        strongly_convex_average_gap_T12800: sc.r.averageGap.at(-1)!,
      };
      const pass = cvx.rate.ok && sc.rate.ok && cvx.r.lastSlope < -0.35 && sc.r.lastSlope < -0.8;
      return {
        pass,
        measured,
        summary: `Student-t(2.5) noise, T=200…12800: convex last-iterate slope ${cvx.r.lastSlope.toFixed(2)} (avg ${cvx.r.averageSlope.toFixed(2)}), strongly convex ${sc.r.lastSlope.toFixed(2)} (avg ${sc.r.averageSlope.toFixed(2)}); gap/rate within ×2: ${cvx.rate.ok}, ${sc.rate.ok}`,
      };
    },
    async full({ seeds }) {
      const horizons = [250, 1000, 4000, 16000];
      const measured: Record<string, number> = {};
      let pass = true;
      for (const noise of [{ kind: 'none', scale: 0, nu: 2.5 }, { kind: 'student-t', scale: 0.5, nu: 2.5 }] as NoiseSpec[]) {
        for (const mu of [0, 0.2]) {
          const slopes: number[] = [];
          for (const seed of seeds) {
            const { r, rate } = await claimCase(seed, 2000, 100, horizons, 5, mu, noise);
            slopes.push(r.lastSlope);
            if (!rate.ok) pass = false;
          }
          const key = `${noise.kind}_${mu > 0 ? 'strongly_convex' : 'convex'}_last_slope_mean`;
          measured[key] = slopes.reduce((a, b) => a + b, 0) / slopes.length;
        }
      }
      return { pass, measured, summary: `last-iterate log–log slopes (n=2000, d=100, T=250…16000): ${JSON.stringify(measured)}; gap/rate within ×2 in every case: ${pass}` };
    },
  },
});
