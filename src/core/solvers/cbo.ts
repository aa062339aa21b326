// Consensus-based optimization (CBO), after "Gradient is All You Need?" (Riedl, Klock, Geldhauser,
// Fornasier 2023) and CBXpy's dynamics; spec: shared/specs/optimizers.md §1.
// Baseline: random search with the same number of objective evaluations.
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../experiment';
import { Rng as RngClass, type Rng } from '../rng';
import { encodeNpy } from '../io/npy';
import { maxAbsDiff, objectiveByName, type Objective } from './objectives';

export interface CboOptions {
  /** isotropic: D = ‖X − v‖ I; anisotropic: D = diag(X − v) (dimension-robust). */
  noise: 'isotropic' | 'anisotropic';
  particles: number;
  steps: number;
  dt: number;
  lambda: number;
  sigma: number;
  alpha: number;
  /** α_{k+1} = min(alphaFactor · α_k, alphaMax) (CBXpy's multiply scheduler). */
  alphaFactor: number;
  alphaMax: number;
  /**
   * 'multiply': the schedule above; 'ess': each step α is chosen by bisection so that the
   * effective sample size (Σw)²/Σw² of the Laplace weights is essTarget·N (CBXpy's
   * effective_sample_size scheduler), capped at alphaMax. Optional: defaults to 'multiply'.
   */
  alphaSchedule?: 'multiply' | 'ess';
  essTarget?: number;
  initLow: number;
  initHigh: number;
}

export interface CboStep {
  step: number;
  evaluations: number;
  consensus: Float64Array;
  consensusObjective: number;
  bestObjective: number;
  consensusDistance: number;
  alpha: number;
}

export interface CboResult {
  consensus: Float64Array;
  best: Float64Array;
  bestObjective: number;
  evaluations: number;
}

/** Weighted mean v = Σ w_i X^i with w_i ∝ exp(−α f_i), via log-sum-exp so huge α is safe (step 1). */
export function consensusPoint(X: Float64Array, energies: Float64Array, n: number, d: number, alpha: number, out: Float64Array): void {
  let maxS = -Infinity;
  for (let i = 0; i < n; i++) maxS = Math.max(maxS, -alpha * energies[i]);
  let total = 0;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    w[i] = Math.exp(-alpha * energies[i] - maxS);
    total += w[i];
  }
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const wi = w[i] / total;
    for (let k = 0; k < d; k++) out[k] += wi * X[i * d + k];
  }
}

/** Effective sample size (Σw)²/Σw² of the weights w_i ∝ exp(−α f_i). */
export function effectiveSampleSize(energies: Float64Array, alpha: number): number {
  let min = Infinity;
  for (const e of energies) min = Math.min(min, e);
  let s1 = 0;
  let s2 = 0;
  for (const e of energies) {
    const w = Math.exp(-alpha * (e - min));
    s1 += w;
    s2 += w * w;
  }
  return (s1 * s1) / s2;
}

/** α with ESS(α) ≈ target·N by bisection in log α on [1e-6, alphaMax] (ESS decreases in α). */
export function essAlpha(energies: Float64Array, target: number, alphaMax: number): number {
  const want = target * energies.length;
  if (effectiveSampleSize(energies, alphaMax) >= want) return alphaMax;
  let lo = Math.log(1e-6);
  let hi = Math.log(alphaMax);
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    if (effectiveSampleSize(energies, Math.exp(mid)) > want) lo = mid;
    else hi = mid;
  }
  return Math.exp(lo);
}

/** CBO, Euler–Maruyama: X ← X − λ dt (X − v) + σ √dt D(X − v) ξ (steps 2–3). */
export function cboMinimize(
  obj: Objective,
  d: number,
  o: CboOptions,
  rng: Rng,
  onStep?: (s: CboStep) => void,
  shouldStop?: () => void,
): CboResult {
  const n = o.particles;
  const X = new Float64Array(n * d);
  for (let i = 0; i < X.length; i++) X[i] = rng.range(o.initLow, o.initHigh);
  const energies = new Float64Array(n);
  const v = new Float64Array(d);
  const best = new Float64Array(d);
  let bestObjective = Infinity;
  let evaluations = 0;
  let alpha = o.alpha;
  const sqrtDt = Math.sqrt(o.dt);
  for (let step = 1; step <= o.steps; step++) {
    shouldStop?.();
    for (let i = 0; i < n; i++) {
      const xi = X.subarray(i * d, (i + 1) * d);
      energies[i] = obj.f(xi);
      if (energies[i] < bestObjective) {
        bestObjective = energies[i];
        best.set(xi);
      }
    }
    evaluations += n;
    if (o.alphaSchedule === 'ess') alpha = essAlpha(energies, o.essTarget ?? 0.5, o.alphaMax);
    consensusPoint(X, energies, n, d, alpha, v);
    let meanDist = 0;
    for (let i = 0; i < n; i++) {
      let dist2 = 0;
      for (let k = 0; k < d; k++) {
        const diff = X[i * d + k] - v[k];
        dist2 += diff * diff;
      }
      const dist = Math.sqrt(dist2);
      meanDist += dist / n;
      const noiseScale = o.sigma * sqrtDt * dist;
      for (let k = 0; k < d; k++) {
        const j = i * d + k;
        const diff = X[j] - v[k];
        const scale = o.noise === 'isotropic' ? noiseScale : o.sigma * sqrtDt * Math.abs(diff);
        X[j] += -o.lambda * o.dt * diff + scale * rng.normal();
      }
    }
    onStep?.({ step, evaluations, consensus: v, consensusObjective: obj.f(v), bestObjective, consensusDistance: meanDist, alpha });
    if (o.alphaSchedule !== 'ess') alpha = Math.min(alpha * o.alphaFactor, o.alphaMax);
  }
  return { consensus: v, best, bestObjective, evaluations };
}

/**
 * Consensus hopping, the paper's link to gradient descent: sample Y^i ~ N(v_k, σ_k² I) and move to
 * the Laplace-weighted mean v_{k+1} = Σ_i w_i Y^i, w_i ∝ exp(−α f(Y^i)). As α, N → ∞ this is the
 * proximal-point (implicit GD) step argmin_y f(y) + ‖y − v_k‖²/(2ασ²); finite N, α add the noise
 * that lets it hop energy barriers. σ_k = hopSigma·hopDecay^k shrinks the proximal step over time.
 */
export function consensusHopping(
  obj: Objective,
  d: number,
  o: { particles: number; steps: number; hopAlpha: number; hopSigma: number; hopDecay: number; initLow: number; initHigh: number },
  rng: Rng,
  onStep?: (s: CboStep) => void,
  shouldStop?: () => void,
): CboResult {
  const n = o.particles;
  const v = new Float64Array(d);
  for (let k = 0; k < d; k++) v[k] = rng.range(o.initLow, o.initHigh);
  const Y = new Float64Array(n * d);
  const energies = new Float64Array(n);
  const best = Float64Array.from(v);
  let bestObjective = obj.f(v);
  let evaluations = 1;
  let sigma = o.hopSigma;
  for (let step = 1; step <= o.steps; step++) {
    shouldStop?.();
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < d; k++) Y[i * d + k] = v[k] + sigma * rng.normal();
      const yi = Y.subarray(i * d, (i + 1) * d);
      energies[i] = obj.f(yi);
      if (energies[i] < bestObjective) {
        bestObjective = energies[i];
        best.set(yi);
      }
    }
    evaluations += n;
    consensusPoint(Y, energies, n, d, o.hopAlpha, v);
    onStep?.({ step, evaluations, consensus: v, consensusObjective: obj.f(v), bestObjective, consensusDistance: sigma, alpha: o.hopAlpha });
    sigma *= o.hopDecay;
  }
  return { consensus: v, best, bestObjective, evaluations };
}

/**
 * Baseline: gradient descent from `starts` uniform random starts, `steps` steps of size `stepSize`
 * each (one gradient = one oracle call, so starts·steps calls — CBO's evaluation budget when
 * starts = N); returns the final point with the lowest objective.
 */
export function gradientDescentRestarts(
  obj: Objective,
  d: number,
  o: { starts: number; steps: number; stepSize: number; low: number; high: number },
  rng: Rng,
): { best: Float64Array; bestObjective: number; gradients: number } {
  const x = new Float64Array(d);
  const g = new Float64Array(d);
  const best = new Float64Array(d);
  let bestObjective = Infinity;
  let gradients = 0;
  for (let s = 0; s < o.starts; s++) {
    for (let k = 0; k < d; k++) x[k] = rng.range(o.low, o.high);
    for (let t = 0; t < o.steps; t++) {
      obj.grad(x, g);
      for (let k = 0; k < d; k++) x[k] -= o.stepSize * g[k];
    }
    gradients += o.steps;
    const fx = obj.f(x);
    if (fx < bestObjective) {
      bestObjective = fx;
      best.set(x);
    }
  }
  return { best, bestObjective, gradients };
}

/** Baseline: uniform random search in the initial box with a given evaluation budget. */
export function randomSearch(
  obj: Objective,
  d: number,
  budget: number,
  low: number,
  high: number,
  rng: Rng,
  onEval?: (evaluations: number, bestObjective: number) => void,
): { best: Float64Array; bestObjective: number } {
  const x = new Float64Array(d);
  const best = new Float64Array(d);
  let bestObjective = Infinity;
  for (let e = 1; e <= budget; e++) {
    for (let k = 0; k < d; k++) x[k] = rng.range(low, high);
    const fx = obj.f(x);
    if (fx < bestObjective) {
      bestObjective = fx;
      best.set(x);
    }
    onEval?.(e, bestObjective);
  }
  return { best, bestObjective };
}

export const cboSchema = z
  .object({
    objective: z.enum(['rastrigin', 'ackley']).default('rastrigin').describe('Test function to minimize (CBXpy names)'),
    dim: z.number().int().min(2).max(100).default(10).describe('Dimension d of the search space'),
    noise: z.enum(['isotropic', 'anisotropic']).default('anisotropic').describe('Diffusion: isotropic ‖X−v‖·I or anisotropic diag(X−v)'),
    shift: z.number().min(-5).max(5).default(1).describe('Location b of the global minimizer x* = b·1'),
    particles: z.number().int().min(2).max(5000).default(200).describe('Number of particles N'),
    steps: z.number().int().min(1).max(100000).default(2000).describe('Euler–Maruyama steps'),
    dt: z.number().positive().max(1).default(0.01).describe('Time step dt'),
    lambda: z.number().positive().max(100).default(1).describe('Drift strength λ (CBXpy: lamda)'),
    sigma: z.number().min(0).max(50).default(8).describe('Noise strength σ (anisotropic: large σ explores; isotropic noise needs σ ≲ √(2λ/d))'),
    alpha: z.number().positive().max(1e15).default(1e5).describe('Initial inverse temperature α of the Laplace weights'),
    alphaFactor: z.number().min(1).max(2).default(1).describe('α schedule: α ← min(factor·α, alphaMax) each step'),
    alphaMax: z.number().positive().max(1e15).default(1e15).describe('Upper bound of the α schedule'),
    alphaSchedule: z
      .enum(['multiply', 'ess'])
      .default('multiply')
      .describe("α schedule: 'multiply' (α ← min(alphaFactor·α, alphaMax)) or 'ess' (α by bisection so the effective sample size is essTarget·N, CBXpy's effective_sample_size)"),
    essTarget: z.number().positive().max(1).default(0.5).describe('Target effective sample size as a fraction of N (alphaSchedule = ess)'),
    hopAlpha: z.number().positive().max(1e15).default(1).describe('Consensus hopping: α of the Laplace weights (small α averages more samples: Gaussian smoothing of f)'),
    hopSigma: z.number().positive().max(100).default(1).describe('Consensus hopping: initial sampling radius σ of Y ~ N(v, σ²I) (proximal step τ = ασ²)'),
    hopDecay: z.number().positive().max(1).default(0.998).describe('Consensus hopping: σ ← hopDecay·σ per step (the spec fixes no schedule; our choice)'),
    gdStep: z.number().positive().max(1).default(0.0025).describe('Gradient-descent baseline step size (1/L for Rastrigin, L = 2 + 4π²·10 ≈ 397)'),
    baselines: z.boolean().default(true).describe('Also run consensus hopping and gradient descent from N random starts (random search always runs)'),
    initLow: z.number().min(-1000).max(1000).default(-3).describe('Lower bound of the uniform initial box'),
    initHigh: z.number().min(-1000).max(1000).default(3).describe('Upper bound of the uniform initial box'),
    successTolerance: z.number().positive().default(0.25).describe('Success ⇔ ‖x̂ − x*‖∞ below this (the usual CBO criterion)'),
    logEvery: z.number().int().min(1).default(10).describe('Log metrics every this many steps'),
  })
  .strict()
  .refine((c) => c.initLow < c.initHigh, { message: 'initLow must be below initHigh', path: ['initLow'] });

export type CboConfig = z.infer<typeof cboSchema>;

/** One CBO run and one random-search run with the same budget; returns both outcomes. */
export function compareCboRandomSearch(c: CboConfig, rng: Rng, ctx?: RunContext<CboConfig>) {
  const obj = objectiveByName(c.objective, c.shift);
  const xStar = obj.minimizer(c.dim);
  const rsRng = rng.fork();
  const started = Date.now();
  const cbo = cboMinimize(
    obj,
    c.dim,
    c,
    rng,
    ctx &&
      ((s) => {
        if (s.step % c.logEvery === 0 || s.step === c.steps) {
          ctx.log(s.step, {
            'cbo/objective': s.consensusObjective,
            'cbo/best_objective': s.bestObjective,
            'cbo/consensus_distance': s.consensusDistance,
            'cbo/error_inf': maxAbsDiff(s.consensus, xStar),
            'cbo/alpha': s.alpha,
            evaluations: s.evaluations,
            wall_s: (Date.now() - started) / 1000,
          });
          ctx.progress(s.step, c.steps, { metric: 'objective', value: s.consensusObjective });
        }
      }),
    ctx ? () => ctx.throwIfCancelled() : undefined,
  );
  const cboObjective = obj.f(cbo.consensus);
  const cboError = maxAbsDiff(cbo.consensus, xStar);
  const perStep = c.particles;
  const rs = randomSearch(obj, c.dim, cbo.evaluations, c.initLow, c.initHigh, rsRng, ctx && ((e, b) => {
    if (e % (perStep * c.logEvery) === 0) ctx.log(e / perStep, { 'random_search/best_objective': b });
  }));
  const result = {
    objective: c.objective,
    dim: c.dim,
    evaluations: cbo.evaluations,
    cbo_objective: cboObjective,
    cbo_error_inf: cboError,
    cbo_success: cboError < c.successTolerance,
    random_search_objective: rs.bestObjective,
    random_search_error_inf: maxAbsDiff(rs.best, xStar),
    random_search_success: maxAbsDiff(rs.best, xStar) < c.successTolerance,
    consensus: cbo.consensus,
  };
  if (!c.baselines) return result;
  // consensus hopping (the paper's GD link) and gradient descent from N random starts, same budget
  const hop = consensusHopping(
    obj,
    c.dim,
    c,
    rng.fork(),
    ctx &&
      ((st) => {
        if (st.step % c.logEvery === 0 || st.step === c.steps) {
          ctx.log(st.step, { 'hopping/objective': st.consensusObjective, 'hopping/error_inf': maxAbsDiff(st.consensus, xStar), 'hopping/sigma': st.consensusDistance });
        }
      }),
    ctx ? () => ctx.throwIfCancelled() : undefined,
  );
  const gd = gradientDescentRestarts(obj, c.dim, { starts: c.particles, steps: c.steps, stepSize: c.gdStep, low: c.initLow, high: c.initHigh }, rng.fork());
  if (ctx) ctx.log(c.steps, { 'gradient_descent/best_objective': gd.bestObjective, 'gradient_descent/error_inf': maxAbsDiff(gd.best, xStar), 'gradient_descent/gradients': gd.gradients });
  return {
    ...result,
    hopping_objective: obj.f(hop.consensus),
    hopping_error_inf: maxAbsDiff(hop.consensus, xStar),
    hopping_success: maxAbsDiff(hop.consensus, xStar) < c.successTolerance,
    gradient_descent_objective: gd.bestObjective,
    gradient_descent_error_inf: maxAbsDiff(gd.best, xStar),
    gradient_descent_success: maxAbsDiff(gd.best, xStar) < c.successTolerance,
    gradient_descent_gradients: gd.gradients,
  };
}

export interface SuccessRates {
  runs: number;
  cbo: number;
  hopping: number;
  gradientDescent: number;
  randomSearch: number;
}

/** Success rates (‖x̂ − x*‖∞ < tolerance) of CBO and its baselines over seeds, same budget per run. */
export function successRates(overrides: Partial<CboConfig>, seeds: number[], signal?: AbortSignal): SuccessRates {
  const c = cboSchema.parse({ ...overrides, baselines: true });
  const out = { runs: seeds.length, cbo: 0, hopping: 0, gradientDescent: 0, randomSearch: 0 };
  for (const seed of seeds) {
    if (signal?.aborted) throw new Error('claim check cancelled');
    const r = compareCboRandomSearch(c, new RngClass(seed)) as ReturnType<typeof compareCboRandomSearch> & { hopping_success: boolean; gradient_descent_success: boolean };
    out.cbo += r.cbo_success ? 1 / seeds.length : 0;
    out.hopping += r.hopping_success ? 1 / seeds.length : 0;
    out.gradientDescent += r.gradient_descent_success ? 1 / seeds.length : 0;
    out.randomSearch += r.random_search_success ? 1 / seeds.length : 0;
  }
  return out;
}

/** CBO at least as successful as each baseline and successful in ≥ minRate of the runs. */
function judgeRates(r: SuccessRates, minRate: number): boolean {
  const eps = 1e-9;
  return r.cbo + eps >= r.gradientDescent && r.cbo + eps >= r.randomSearch && r.cbo + eps >= minRate;
}

const fmtRates = (r: SuccessRates) => `CBO ${r.cbo.toFixed(2)}, hopping ${r.hopping.toFixed(2)}, GD ${r.gradientDescent.toFixed(2)}, random search ${r.randomSearch.toFixed(2)}`;

export const cboExperiment = defineExperiment({
  id: 'cbo',
  title: 'Consensus-based optimization vs random search',
  paper: 'Gradient is All You Need?',
  kind: 'solver',
  tasks: ['rastrigin', 'ackley'],
  schema: cboSchema,
  keyMetric: 'cbo/objective',
  lowerIsBetter: true,
  async run(ctx) {
    const r = compareCboRandomSearch(ctx.config, ctx.rng, ctx);
    ctx.artifact('consensus.npy', encodeNpy(r.consensus));
    const { consensus: _consensus, ...summary } = r;
    ctx.artifact('summary.json', summary);
    ctx.info(`CBO f(v) = ${r.cbo_objective.toExponential(3)} (‖v − x*‖∞ = ${r.cbo_error_inf.toFixed(3)}), random search best = ${r.random_search_objective.toExponential(3)}`);
    return summary;
  },
  claim: {
    statement:
      'CBO finds the global basin of Rastrigin (d = 10) and ends far below random search with the same evaluation budget; in d = 20 its success rate on Rastrigin and Ackley is at least that of random search and of gradient descent from N random starts.',
    async fast({ seed, signal }) {
      const c = cboSchema.parse({ objective: 'rastrigin', dim: 10, baselines: false });
      const r = compareCboRandomSearch(c, new RngClass(seed));
      const base = r.cbo_objective < r.random_search_objective && r.cbo_success;
      // d = 20, shorter runs (1000 steps) on two seeds per objective
      const seeds = [seed, seed + 1];
      const ras = successRates({ objective: 'rastrigin', dim: 20, steps: 1000 }, seeds, signal);
      const ack = successRates({ objective: 'ackley', dim: 20, steps: 1000 }, seeds, signal);
      const rates = judgeRates(ras, 0.5) && judgeRates(ack, 0.5);
      return {
        pass: base && rates,
        measured: {
          cbo_objective: r.cbo_objective,
          cbo_error_inf: r.cbo_error_inf,
          random_search_objective: r.random_search_objective,
          evaluations: r.evaluations,
          d20_rastrigin_cbo_success: ras.cbo,
          d20_rastrigin_gd_success: ras.gradientDescent,
          d20_rastrigin_random_search_success: ras.randomSearch,
          d20_rastrigin_hopping_success: ras.hopping,
          d20_ackley_cbo_success: ack.cbo,
          d20_ackley_gd_success: ack.gradientDescent,
          d20_ackley_random_search_success: ack.randomSearch,
          d20_ackley_hopping_success: ack.hopping,
        },
        summary: `d=10 Rastrigin: CBO f = ${r.cbo_objective.toFixed(4)} (‖v−x*‖∞ = ${r.cbo_error_inf.toFixed(3)}) vs random search f = ${r.random_search_objective.toFixed(2)} at ${r.evaluations} evaluations; d=20 success over ${seeds.length} seeds — Rastrigin: ${fmtRates(ras)}; Ackley: ${fmtRates(ack)}`,
      };
    },
    async full({ seeds, signal }) {
      let cboWins = 0;
      let successes = 0;
      const rows: string[] = [];
      for (const objective of ['rastrigin', 'ackley'] as const) {
        for (const seed of seeds) {
          const c = cboSchema.parse({ objective, dim: 10, baselines: false });
          const r = compareCboRandomSearch(c, new RngClass(seed));
          if (r.cbo_objective < r.random_search_objective) cboWins++;
          if (r.cbo_success) successes++;
          rows.push(`${objective}/${seed}: ${r.cbo_objective.toFixed(3)} vs ${r.random_search_objective.toFixed(2)}`);
        }
      }
      const total = seeds.length * 2;
      const ras = successRates({ objective: 'rastrigin', dim: 20 }, seeds, signal);
      const ack = successRates({ objective: 'ackley', dim: 20 }, seeds, signal);
      return {
        pass: cboWins === total && successes >= Math.ceil(0.8 * total) && judgeRates(ras, 0.8) && judgeRates(ack, 0.8),
        measured: {
          runs: total,
          cbo_beats_random_search: cboWins,
          cbo_success_rate: successes / total,
          d20_rastrigin_cbo_success: ras.cbo,
          d20_rastrigin_hopping_success: ras.hopping,
          d20_rastrigin_gd_success: ras.gradientDescent,
          d20_rastrigin_random_search_success: ras.randomSearch,
          d20_ackley_cbo_success: ack.cbo,
          d20_ackley_hopping_success: ack.hopping,
          d20_ackley_gd_success: ack.gradientDescent,
          d20_ackley_random_search_success: ack.randomSearch,
        },
        summary: `d=10 Rastrigin+Ackley over ${seeds.length} seeds: CBO below random search in ${cboWins}/${total}, success rate ${(successes / total).toFixed(2)} (${rows.join('; ')}); d=20 success — Rastrigin: ${fmtRates(ras)}; Ackley: ${fmtRates(ack)}`,
      };
    },
  },
});
