// Stochastic policy gradient for Fisher-non-degenerate policies (Fatkhullin, Barakat, Kireeva, He,
// ICML 2023), spec optimizers.md §24: N-PG-IGT (normalized PG with implicit gradient transport) and
// (N)-HARPG (Hessian-aided recursive PG), single-trajectory updates, vs vanilla stochastic PG
// (REINFORCE-type, here with reward-to-go = GPOMDP by default) on LQG control with a linear-
// Gaussian policy. Metric: exact expected return J(θ) against the number of sampled trajectories.
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../../core/experiment';
import { encodeNpy } from '../../core/io/npy';
import { Rng } from '../../core/rng';
import { mean, median } from './data';
import { addScoreHvp, doubleIntegrator, expectedReturn, lqg1d, readLqgFile, rewardToGo, rollout, weightedScore, type LqgEnv, type Trajectory } from './envs/lqg';

export type Estimator = 'gpomdp' | 'reinforce';
export type Baseline = 'none' | 'running-average';
export type PgMethod = 'vanilla' | 'npg-igt' | 'harpg' | 'n-harpg';

/**
 * Per-step weights of the score terms: reward-to-go (GPOMDP) or the whole discounted return (REINFORCE),
 * minus an optional per-step baseline b_h built from earlier trajectories only (so independent of this
 * trajectory's actions: gradient and Hessian estimates stay unbiased).
 */
function scoreWeights(env: LqgEnv, tr: Trajectory, est: Estimator, baseline?: Float64Array): Float64Array {
  const R = rewardToGo(env, tr.rewards);
  const w = est === 'gpomdp' ? R : new Float64Array(R.length).fill(R[0]);
  if (baseline) for (let h = 0; h < w.length; h++) w[h] -= est === 'gpomdp' ? baseline[h] : baseline[0];
  return w;
}

/** Policy-gradient estimate g(τ, θ) = ∇Φ_τ(θ). */
export function pgEstimate(env: LqgEnv, K: Float64Array, tr: Trajectory, est: Estimator, baseline?: Float64Array): Float64Array {
  return weightedScore(env, K, tr, scoreWeights(env, tr, est, baseline));
}

/**
 * Hessian-aided correction B̂(τ, θ)v = ∇Φ_τ(θ)·(∇log p_τ(θ)ᵀv) + ∇²Φ_τ(θ)v, with ∇log p_τ = Σ_h ∇log π(a_h|s_h)
 * and ∇²Φ_τ v = Σ_h w_h ∇²log π(a_h|s_h) v (closed form for the linear-Gaussian policy).
 */
export function hessianCorrection(env: LqgEnv, K: Float64Array, tr: Trajectory, v: Float64Array, est: Estimator, baseline?: Float64Array): Float64Array {
  const { n, horizon: H } = env;
  const w = scoreWeights(env, tr, est, baseline);
  const gradPhi = weightedScore(env, K, tr, w);
  const scoreSum = weightedScore(env, K, tr, new Float64Array(H).fill(1));
  let dot = 0;
  for (let i = 0; i < v.length; i++) dot += scoreSum[i] * v[i];
  const out = Float64Array.from(gradPhi, (g) => g * dot);
  for (let h = 0; h < H; h++) addScoreHvp(env, tr.states.subarray(h * n, h * n + n), v, w[h], out);
  return out;
}

export interface PgSchedule {
  /** Step size γ_t = γ₀ (2/(t+2))^{stepPower}. */
  step0: number;
  stepPower: number;
  /** Momentum η_t = max(momentumFloor, (2/(t+2))^{momentumPower}) (1 at t = 0). */
  momentumPower: number;
  momentumFloor: number;
}

export interface PgRunOptions {
  method: PgMethod;
  trajectories: number;
  batch: number;
  schedule: PgSchedule;
  estimator: Estimator;
  /** Per-step baseline: none, or an exponential moving average (rate 0.1) of earlier trajectories' reward-to-go. */
  baseline: Baseline;
  /** Clip |θ_i| (keeps unstable closed loops from overflowing; large enough not to bind near the optimum). */
  thetaClip: number;
  /** Initial policy parameter (every entry of K). */
  theta0: number;
}

const norm = (v: Float64Array) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));

/** Runs one method until the trajectory budget is spent; calls onEval(trajectoriesUsed, θ) after each update. */
export function runPg(env: LqgEnv, o: PgRunOptions, rng: Rng, onEval?: (used: number, theta: Float64Array) => void): Float64Array {
  const dim = env.n * env.m;
  let theta = new Float64Array(dim).fill(o.theta0);
  let prev = Float64Array.from(theta);
  let d: Float64Array | null = null;
  let used = 0;
  const clip = (x: Float64Array) => x.map((v) => Math.max(-o.thetaClip, Math.min(o.thetaClip, v)));
  const base = o.baseline === 'running-average' ? new Float64Array(env.horizon) : undefined;
  let baselineSeen = false;
  // Mean of up to `batch` single-trajectory estimates at θ (the paper's theory: batch 1; its experiments: batches).
  const batchMean = (at: Float64Array, one: (tr: Trajectory) => Float64Array): Float64Array => {
    const b = Math.max(1, Math.min(o.batch, o.trajectories - used));
    const out = new Float64Array(dim);
    const seen: Trajectory[] = [];
    for (let k = 0; k < b; k++) {
      const tr = rollout(env, clip(at), rng);
      const gk = one(tr);
      for (let i = 0; i < dim; i++) out[i] += gk[i] / b;
      seen.push(tr);
    }
    used += b;
    // the baseline learns only after the estimate is formed, so it never depends on the trajectories it weighs
    if (base) for (const tr of seen) {
      const R = rewardToGo(env, tr.rewards);
      for (let h = 0; h < R.length; h++) base[h] = baselineSeen ? base[h] + 0.1 * (R[h] - base[h]) : R[h];
      baselineSeen = true;
    }
    return out;
  };
  for (let t = 0; used < o.trajectories; t++) {
    const gammaT = o.schedule.step0 * Math.pow(2 / (t + 2), o.schedule.stepPower);
    const eta = Math.max(o.schedule.momentumFloor, Math.pow(2 / (t + 2), o.schedule.momentumPower));
    let next: Float64Array;
    if (o.method === 'vanilla') {
      // θ ← θ + γ_t · mean of `batch` single-trajectory estimates
      const g = batchMean(theta, (tr) => pgEstimate(env, theta, tr, o.estimator, base));
      next = theta.map((v, i) => v + gammaT * g[i]);
    } else if (o.method === 'npg-igt') {
      // look-ahead θ̃ = θ_t + ((1 − η)/η)(θ_t − θ_{t−1}); d = (1 − η)d + η g(θ̃); θ ← θ + γ d/‖d‖
      const look = theta.map((v, i) => v + ((1 - eta) / eta) * (v - prev[i]));
      const g = batchMean(look, (tr) => pgEstimate(env, look, tr, o.estimator, base));
      d = d ? d.map((v, i) => (1 - eta) * v + eta * g[i]) : g;
      const nd = norm(d) || 1;
      next = theta.map((v, i) => v + (gammaT * d![i]) / nd);
    } else {
      // (N)-HARPG: g at θ_t; Hessian correction at θ̂ = qθ_t + (1 − q)θ_{t−1} along θ_t − θ_{t−1}
      const g = batchMean(theta, (tr) => pgEstimate(env, theta, tr, o.estimator, base));
      if (!d) d = g;
      else {
        const q = rng.uniform();
        const hat = theta.map((v, i) => q * v + (1 - q) * prev[i]);
        const diff = theta.map((v, i) => v - prev[i]);
        const vt = batchMean(hat, (tr) => hessianCorrection(env, hat, tr, diff, o.estimator, base));
        const dPrev: Float64Array = d;
        d = dPrev.map((v, i) => (1 - eta) * (v + vt[i]) + eta * g[i]);
      }
      const scale = o.method === 'n-harpg' ? gammaT / (norm(d) || 1) : gammaT;
      next = theta.map((v, i) => v + scale * d![i]);
    }
    prev = theta;
    theta = clip(next);
    onEval?.(Math.min(used, o.trajectories), theta);
  }
  return theta;
}

/** J* by gradient ascent on the exact return with central finite differences and backtracking. */
export function optimalReturn(env: LqgEnv): { K: Float64Array; J: number } {
  const dim = env.n * env.m;
  let K = new Float64Array(dim);
  let J = expectedReturn(env, K);
  let step = 0.1;
  for (let it = 0; it < 3000 && step > 1e-12; it++) {
    const g = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      const kp = Float64Array.from(K);
      const km = Float64Array.from(K);
      kp[i] += 1e-6;
      km[i] -= 1e-6;
      g[i] = (expectedReturn(env, kp) - expectedReturn(env, km)) / 2e-6;
    }
    const cand = K.map((v, i) => v + step * g[i]);
    const Jc = expectedReturn(env, cand);
    if (Jc > J) {
      K = cand;
      J = Jc;
      step *= 1.5;
    } else step /= 2;
  }
  return { K, J };
}

export interface PgCompareOptions {
  trajectories: number;
  seeds: number;
  tuneSeeds: number;
  stepGrid: number[];
  estimator: Estimator;
  baseline: Baseline;
  /** Trajectories per gradient (and Hessian-correction) estimate, for every method. */
  batch: number;
  methodSchedule: { stepPower: number; momentumPower: number; momentumFloor: number };
  vanillaStepPower: number;
  thetaClip: number;
  theta0: number;
}

export interface PgMethodOutcome {
  method: PgMethod;
  step0: number;
  /** Median over seeds of J* − J(θ) after each trajectory count (checkpoints). */
  gapCurve: Float64Array;
  finalGaps: number[];
  /** Mean over the run of J* − J (area under the gap curve / budget). */
  meanGaps: number[];
}

/** Tunes γ₀ on separate seeds (lowest mean gap over the run), then evaluates on `seeds` fresh seeds. */
export function evaluateMethod(env: LqgEnv, method: PgMethod, o: PgCompareOptions, jStar: number, seed: number, check?: () => void): PgMethodOutcome {
  const sched = (step0: number): PgSchedule =>
    method === 'vanilla' ? { step0, stepPower: o.vanillaStepPower, momentumPower: 0, momentumFloor: 0 } : { step0, ...o.methodSchedule };
  const runOnce = (step0: number, s: number) => {
    const curve = new Float64Array(o.trajectories).fill(NaN);
    let last = jStar - expectedReturn(env, new Float64Array(env.n * env.m).fill(o.theta0));
    let filled = 0;
    runPg(env, { method, trajectories: o.trajectories, batch: o.batch, schedule: sched(step0), estimator: o.estimator, baseline: o.baseline, thetaClip: o.thetaClip, theta0: o.theta0 }, new Rng(s), (used, th) => {
      for (; filled < used; filled++) curve[filled] = last;
      last = jStar - expectedReturn(env, th);
      if (!Number.isFinite(last)) last = 1e12;
    });
    for (; filled < o.trajectories; filled++) curve[filled] = last;
    curve[o.trajectories - 1] = last;
    return curve;
  };
  let bestStep = o.stepGrid[0];
  let bestScore = Infinity;
  for (const step0 of o.stepGrid) {
    check?.();
    const scores: number[] = [];
    for (let k = 0; k < o.tuneSeeds; k++) scores.push(mean(runOnce(step0, seed * 7919 + 100000 + k)));
    const sc = median(scores);
    if (sc < bestScore) {
      bestScore = sc;
      bestStep = step0;
    }
  }
  const curves: Float64Array[] = [];
  for (let k = 0; k < o.seeds; k++) {
    check?.();
    curves.push(runOnce(bestStep, seed * 7919 + k));
  }
  const gapCurve = Float64Array.from({ length: o.trajectories }, (_, i) => median(curves.map((c) => c[i])));
  return { method, step0: bestStep, gapCurve, finalGaps: curves.map((c) => c[o.trajectories - 1]), meanGaps: curves.map((c) => mean(c)) };
}

export function makeEnv(name: 'lqg1d' | 'double-integrator', horizon: number, gamma: number, envFile = ''): LqgEnv {
  if (envFile) return readLqgFile(envFile, horizon, gamma);
  return name === 'lqg1d' ? lqg1d(horizon, gamma) : doubleIntegrator(horizon, gamma);
}

function pgSchema(defaults: { stepPower: number; momentumPower: number; momentumFloor: number }, variantField: boolean) {
  const base = {
    env: z.enum(['lqg1d', 'double-integrator']).default('lqg1d').describe('LQG task: 1-D (spec) or a 2-D double integrator'),
    envFile: z.string().default('').describe('LQG system as JSON {"A":[[…]],"B":[[…]],"q","r","noiseStd","initStd","policyStd"}; overrides env'),
    horizon: z.number().int().min(2).max(500).default(20).describe('episode length H'),
    gamma: z.number().gt(0).max(1).default(0.99).describe('discount γ'),
    trajectories: z.number().int().min(10).max(1000000).default(2000).describe('trajectory budget per run (all methods)'),
    seeds: z.number().int().min(1).max(100).default(15).describe('evaluation seeds (median reported)'),
    tuneSeeds: z.number().int().min(1).max(20).default(3).describe('separate seeds used to pick γ₀ from the grid, per method'),
    stepGrid: z.array(z.number().positive()).min(1).default([1e-4, 3e-4, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3]).describe('initial step sizes γ₀ tried per method (normalized 1/t steps travel ≈ 2γ₀ ln T in total, so γ₀ ≥ 1 is needed to reach a distant optimum)'),
    estimator: z.enum(['gpomdp', 'reinforce']).default('gpomdp').describe('per-trajectory gradient estimator (reward-to-go or whole return)'),
    baseline: z.enum(['none', 'running-average']).default('none').describe('per-step baseline for every method: none, or a moving average (rate 0.1) of earlier reward-to-go'),
    batch: z.number().int().min(1).max(1000).default(1).describe('trajectories per gradient estimate for every method (and per Hessian correction in HARPG); 1 = the paper\'s single-trajectory theory'),
    vanillaStepPower: z.number().min(0).max(1).default(0).describe('vanilla PG step γ_t = γ₀ (2/(t+2))^p (0 = constant; the authors\' code uses 2/3, which diverged on held-out seeds of the double integrator)'),
    stepPower: z.number().min(0).max(1).default(defaults.stepPower).describe('γ_t = γ₀ (2/(t+2))^p for the method (authors\' code: 1 for N-PG-IGT and N-HARPG, 1/2 for unnormalized HARPG)'),
    momentumPower: z.number().min(0).max(1).default(defaults.momentumPower).describe('η_t = max(floor, (2/(t+2))^p) for the method (authors\' code: 4/5 for N-PG-IGT, 1 for (N)-HARPG)'),
    momentumFloor: z.number().min(0).max(1).default(defaults.momentumFloor).describe('lower bound of the momentum weight η_t (0 = the paper\'s pure decay; > 0 is our deviation)'),
    thetaClip: z.number().positive().default(5).describe('clip |θ_i| to keep unstable closed loops finite'),
    theta0: z.number().min(-5).max(5).default(-0.1).describe('initial value of every policy parameter (−0.1: a weakly stabilizing start for lqg1d; 0 is only marginally stable)'),
  };
  return variantField
    ? z.object({ ...base, variant: z.enum(['n-harpg', 'harpg']).default('n-harpg').describe('normalized (N-HARPG) or plain HARPG step') }).strict()
    : z.object(base).strict();
}

// Schedules of the authors' code (garage NIGTOptimizer / STORMHessOptimizer): γ_t = γ₀·2/(t+2) for the
// normalized methods, η_t = (2/(t+2))^{4/5} for N-PG-IGT and η_t = 2/(t+2) for (N)-HARPG.
const igtSchema = pgSchema({ stepPower: 1, momentumPower: 0.8, momentumFloor: 0 }, false);
const harpgSchema = pgSchema({ stepPower: 1, momentumPower: 1, momentumFloor: 0 }, true);
type PgConfig = z.infer<typeof igtSchema> & { variant?: 'n-harpg' | 'harpg' };

function compareOptions(c: PgConfig): PgCompareOptions {
  return {
    trajectories: c.trajectories,
    seeds: c.seeds,
    tuneSeeds: c.tuneSeeds,
    stepGrid: c.stepGrid,
    estimator: c.estimator,
    baseline: c.baseline,
    batch: c.batch,
    methodSchedule: { stepPower: c.stepPower, momentumPower: c.momentumPower, momentumFloor: c.momentumFloor },
    vanillaStepPower: c.vanillaStepPower,
    thetaClip: c.thetaClip,
    theta0: c.theta0,
  };
}

export function comparePg(c: PgConfig, method: PgMethod, seed: number, check?: () => void) {
  const env = makeEnv(c.env, c.horizon, c.gamma, c.envFile);
  const star = optimalReturn(env);
  const o = compareOptions(c);
  const ours = evaluateMethod(env, method, o, star.J, seed, check);
  const base = evaluateMethod(env, 'vanilla', o, star.J, seed, check);
  return { env, star, ours, base };
}

async function runPgExperiment(ctx: RunContext<PgConfig>, method: PgMethod) {
  const c = ctx.config;
  const t0 = performance.now();
  let done = 0;
  const total = 2 * (c.stepGrid.length + 1);
  const r = comparePg(c, method, ctx.seed, () => {
    ctx.throwIfCancelled();
    ctx.progress(Math.min(done++, total), total);
  });
  const every = Math.max(1, Math.floor(c.trajectories / 100));
  for (let i = every - 1; i < c.trajectories; i += every) {
    ctx.log(i + 1, {
      [`${method}/charts/episodic_return`]: r.star.J - r.ours.gapCurve[i],
      [`${method}/optimality_gap`]: r.ours.gapCurve[i],
      ['vanilla/charts/episodic_return']: r.star.J - r.base.gapCurve[i],
      ['vanilla/optimality_gap']: r.base.gapCurve[i],
      wall_s: (performance.now() - t0) / 1000,
    });
  }
  ctx.progress(total, total);
  const tab = new Float64Array(2 * c.trajectories);
  tab.set(r.ours.gapCurve, 0);
  tab.set(r.base.gapCurve, c.trajectories);
  ctx.artifact('gap_curves.npy', encodeNpy(tab, [2, c.trajectories]));
  const summary = {
    j_star: r.star.J,
    k_star: [...r.star.K],
    [method]: { step0: r.ours.step0, median_final_gap: median(r.ours.finalGaps), median_mean_gap: median(r.ours.meanGaps) },
    vanilla: { step0: r.base.step0, median_final_gap: median(r.base.finalGaps), median_mean_gap: median(r.base.meanGaps) },
  };
  ctx.artifact('summary.json', summary);
  return summary;
}

const verdict = (c: PgConfig, method: PgMethod, seed: number) => {
  const r = comparePg(c, method, seed);
  return { ours: median(r.ours.meanGaps), base: median(r.base.meanGaps), oursFinal: median(r.ours.finalGaps), baseFinal: median(r.base.finalGaps), r };
};

const claimConfig = (schema: typeof igtSchema | typeof harpgSchema, env: 'lqg1d' | 'double-integrator', extra: Record<string, unknown> = {}) =>
  schema.parse({ env, horizon: env === 'lqg1d' ? 20 : 30, trajectories: 2000, seeds: 15, tuneSeeds: 3, ...extra }) as PgConfig;

/**
 * N-PG-IGT: the paper's claim holds on the spec's 1-D LQG and is asserted there; on the double integrator
 * (K* far from the start) it does not hold and the full form only reports it.
 */
const igtClaim = {
  statement:
    'N-PG-IGT with the authors\' schedules (γ_t = γ₀·2/(t+2), η_t = (2/(t+2))^{4/5}) gets better return per sampled trajectory than vanilla stochastic PG (each with γ₀ tuned on separate seeds): lower median optimality gap J* − J averaged over a 2000-trajectory budget on 1-D LQG. Not claimed on the 2-D double integrator (the full form reports it): normalized 1/t steps travel only ≈ 2γ₀ ln T, so reaching K* ≈ [−2.35, −3.52] needs γ₀ ≈ 1, whose large early steps cost more gap than vanilla loses.',
  async fast({ seed }: { seed: number }) {
    const v = verdict(claimConfig(igtSchema, 'lqg1d'), 'npg-igt', seed);
    return {
      pass: v.ours < v.base,
      measured: { 'npg-igt_median_mean_gap': v.ours, vanilla_median_mean_gap: v.base, 'npg-igt_median_final_gap': v.oursFinal, vanilla_median_final_gap: v.baseFinal, 'npg-igt_step0': v.r.ours.step0, vanilla_step0: v.r.base.step0 },
      summary: `1-D LQG, 2000 trajectories, 15 seeds: mean gap J*−J N-PG-IGT ${v.ours.toFixed(4)} vs vanilla ${v.base.toFixed(4)}; final ${v.oursFinal.toFixed(4)} vs ${v.baseFinal.toFixed(4)} (J* = ${v.r.star.J.toFixed(3)})`,
    };
  },
  async full({ seeds }: { seeds: number[] }) {
    const measured: Record<string, number> = {};
    let wins = 0;
    let diWins = 0;
    for (const env of ['lqg1d', 'double-integrator'] as const) {
      for (const seed of seeds) {
        const v = verdict(claimConfig(igtSchema, env), 'npg-igt', seed);
        measured[`${env}_seed${seed}_npg-igt_mean_gap`] = v.ours;
        measured[`${env}_seed${seed}_vanilla_mean_gap`] = v.base;
        measured[`${env}_seed${seed}_npg-igt_step0`] = v.r.ours.step0;
        if (v.ours < v.base) {
          if (env === 'lqg1d') wins++;
          else diWins++;
        }
      }
    }
    return {
      pass: wins === seeds.length,
      measured,
      summary: `N-PG-IGT had the lower mean gap on 1-D LQG in ${wins}/${seeds.length} seeds (claimed); on the double integrator in ${diWins}/${seeds.length} (reported, not claimed)`,
    };
  },
};

/** Monte Carlo mean and per-trajectory s.d. of the Hessian-aided correction B̂(τ, K)v against the exact ∇²J(K)v. */
export function hessianCorrectionNoise(env: LqgEnv, K: Float64Array, v: Float64Array, samples: number, rng: Rng) {
  const dim = K.length;
  const s = new Float64Array(dim);
  const s2 = new Float64Array(dim);
  for (let i = 0; i < samples; i++) {
    const h = hessianCorrection(env, K, rollout(env, K, rng), v, 'gpomdp');
    for (let j = 0; j < dim; j++) {
      s[j] += h[j];
      s2[j] += h[j] * h[j];
    }
  }
  const grad = (k: Float64Array) =>
    Float64Array.from({ length: dim }, (_, j) => {
      const kp = Float64Array.from(k);
      const km = Float64Array.from(k);
      kp[j] += 1e-5;
      km[j] -= 1e-5;
      return (expectedReturn(env, kp) - expectedReturn(env, km)) / 2e-5;
    });
  const e = 1e-4;
  const gp = grad(K.map((x, i) => x + e * v[i]));
  const gm = grad(K.map((x, i) => x - e * v[i]));
  const exact = gp.map((x, j) => (x - gm[j]) / (2 * e));
  const mc = s.map((x) => x / samples);
  const sd = s2.map((x, j) => Math.sqrt(Math.max(0, x / samples - mc[j] * mc[j])));
  return { exact, mc, sd, stdErr: sd.map((x) => x / Math.sqrt(samples)) };
}

/**
 * N-HARPG's claim is the paper's: better return per sampled trajectory than vanilla PG. It does not
 * reproduce on our LQG tasks (listed in test/lab/claims.test.ts as not yet reproduced); the check
 * also measures the cause it found: an unbiased but very noisy Hessian-aided correction.
 */
const harpgClaim = {
  statement:
    'N-HARPG reaches a better return per sampled trajectory than vanilla PG (measured beside it: the Hessian-aided correction B̂(τ, θ)v is unbiased for ∇²J(θ)v, but its single-trajectory s.d. is many times |∇²J v|, and with η_t = 2/(t+2) → 0 the recursive direction accumulates that noise).',
  async fast({ seed }: { seed: number }) {
    const env = lqg1d(20, 0.99);
    const noise = hessianCorrectionNoise(env, Float64Array.of(-0.4), Float64Array.of(1), 20000, new Rng(seed * 31 + 5));
    const unbiased = Math.abs(noise.mc[0] - noise.exact[0]) < 4 * noise.stdErr[0];
    const snr = noise.sd[0] / Math.abs(noise.exact[0]);
    const v = verdict(claimConfig(harpgSchema, 'lqg1d', { seeds: 9 }), 'n-harpg', seed);
    return {
      pass: v.ours < v.base,
      measured: { hessian_unbiased: unbiased, hessian_exact: noise.exact[0], hessian_mc_mean: noise.mc[0], hessian_mc_stderr: noise.stdErr[0], hessian_sd_over_mean: snr, 'n-harpg_median_mean_gap': v.ours, vanilla_median_mean_gap: v.base, 'n-harpg_step0': v.r.ours.step0, vanilla_step0: v.r.base.step0 },
      summary: `mean gap N-HARPG ${v.ours.toFixed(4)} vs vanilla ${v.base.toFixed(4)} (2000 trajectories, 9 seeds); 1-D LQG at K = −0.4: ∇²J v = ${noise.exact[0].toFixed(2)}, MC mean of B̂v ${noise.mc[0].toFixed(2)} ± ${noise.stdErr[0].toFixed(2)}, per-trajectory s.d./|mean| = ${snr.toFixed(1)}`,
    };
  },
  async full({ seeds }: { seeds: number[] }) {
    const measured: Record<string, number> = {};
    let ok = true;
    const probes = [
      { name: 'lqg1d', env: lqg1d(20, 0.99), K: Float64Array.of(-0.4), v: Float64Array.of(1) },
      { name: 'double-integrator', env: doubleIntegrator(30, 0.99), K: Float64Array.of(-1, -1.5), v: Float64Array.of(0.3, -0.5) },
    ];
    for (const p of probes) {
      const n = hessianCorrectionNoise(p.env, p.K, p.v, 50000, new Rng(seeds[0] * 31 + 7));
      const hNorm = norm(n.exact);
      for (let j = 0; j < n.exact.length; j++) ok &&= Math.abs(n.mc[j] - n.exact[j]) < 4 * n.stdErr[j];
      measured[`${p.name}_hessian_sd_over_norm`] = norm(n.sd) / hNorm;
    }
    measured.hessian_correction_unbiased = ok ? 1 : 0;
    let wins = 0;
    let cases = 0;
    for (const env of ['lqg1d', 'double-integrator'] as const) {
      for (const seed of seeds) {
        const v = verdict(claimConfig(harpgSchema, env), 'n-harpg', seed);
        measured[`${env}_seed${seed}_n-harpg_mean_gap`] = v.ours;
        measured[`${env}_seed${seed}_vanilla_mean_gap`] = v.base;
        cases++;
        if (v.ours < v.base) wins++;
      }
    }
    return { pass: wins === cases, measured, summary: `N-HARPG had the lower mean gap in ${wins}/${cases} (env, seed) cases; Hessian correction ${ok ? 'unbiased' : 'BIASED'} with s.d./‖∇²J v‖ = ${measured['lqg1d_hessian_sd_over_norm'].toFixed(0)} (lqg1d), ${measured['double-integrator_hessian_sd_over_norm'].toFixed(0)} (double integrator)` };
  },
};

export const npgIgt = defineExperiment({
  id: 'npg-igt',
  title: 'N-PG-IGT (normalized PG with implicit gradient transport) vs vanilla stochastic PG on LQG',
  paper: 'Stochastic Policy Gradient Methods: Improved Sample Complexity for Fisher-non-degenerate Policies',
  kind: 'rl',
  tasks: ['lqg1d', 'double-integrator'],
  schema: igtSchema,
  keyMetric: 'npg-igt/optimality_gap',
  lowerIsBetter: true,
  run: (ctx) => runPgExperiment(ctx as RunContext<PgConfig>, 'npg-igt'),
  claim: igtClaim,
});

export const harpg = defineExperiment({
  id: 'harpg',
  title: '(N)-HARPG (Hessian-aided recursive PG) vs vanilla stochastic PG on LQG',
  paper: 'Stochastic Policy Gradient Methods: Improved Sample Complexity for Fisher-non-degenerate Policies',
  kind: 'rl',
  tasks: ['lqg1d', 'double-integrator'],
  schema: harpgSchema,
  keyMetric: 'n-harpg/optimality_gap',
  lowerIsBetter: true,
  run: (ctx) => runPgExperiment(ctx as RunContext<PgConfig>, (ctx.config as PgConfig).variant ?? 'n-harpg'),
  claim: harpgClaim,
});
