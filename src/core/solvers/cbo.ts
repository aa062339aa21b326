// Consensus-based optimization (CBO), after "Gradient is All You Need?" (Riedl, Klock, Geldhauser,
// Fornasier 2023) and CBXpy's dynamics; spec: shared/specs/optimizers.md §1.
// Baseline: random search with the same number of objective evaluations.
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../experiment';
import type { Rng } from '../rng';
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
    alpha = Math.min(alpha * o.alphaFactor, o.alphaMax);
  }
  return { consensus: v, best, bestObjective, evaluations };
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
  return {
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
}

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
    statement: 'CBO finds the global basin of Rastrigin (d = 10) and ends far below random search with the same evaluation budget.',
    async fast({ seed }) {
      const { Rng } = await import('../rng');
      const c = cboSchema.parse({ objective: 'rastrigin', dim: 10 });
      const r = compareCboRandomSearch(c, new Rng(seed));
      return {
        pass: r.cbo_objective < r.random_search_objective && r.cbo_success,
        measured: { cbo_objective: r.cbo_objective, cbo_error_inf: r.cbo_error_inf, random_search_objective: r.random_search_objective, evaluations: r.evaluations },
        summary: `d=10 Rastrigin: CBO f = ${r.cbo_objective.toFixed(4)} (‖v−x*‖∞ = ${r.cbo_error_inf.toFixed(3)}) vs random search f = ${r.random_search_objective.toFixed(2)} at ${r.evaluations} evaluations`,
      };
    },
    async full({ seeds }) {
      const { Rng } = await import('../rng');
      let cboWins = 0;
      let successes = 0;
      const rows: string[] = [];
      for (const objective of ['rastrigin', 'ackley'] as const) {
        for (const seed of seeds) {
          const c = cboSchema.parse({ objective, dim: 10 });
          const r = compareCboRandomSearch(c, new Rng(seed));
          if (r.cbo_objective < r.random_search_objective) cboWins++;
          if (r.cbo_success) successes++;
          rows.push(`${objective}/${seed}: ${r.cbo_objective.toFixed(3)} vs ${r.random_search_objective.toFixed(2)}`);
        }
      }
      const total = seeds.length * 2;
      return {
        pass: cboWins === total && successes >= Math.ceil(0.8 * total),
        measured: { runs: total, cbo_beats_random_search: cboWins, cbo_success_rate: successes / total },
        summary: `d=10 Rastrigin+Ackley over ${seeds.length} seeds: CBO below random search in ${cboWins}/${total}, success rate ${(successes / total).toFixed(2)} (${rows.join('; ')})`,
      };
    },
  },
});
