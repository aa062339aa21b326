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
export type PgMethod = 'vanilla' | 'npg-igt' | 'harpg' | 'n-harpg';

/** Per-step weights of the score terms: reward-to-go (GPOMDP) or the whole discounted return (REINFORCE). */
function scoreWeights(env: LqgEnv, tr: Trajectory, est: Estimator): Float64Array {
  const R = rewardToGo(env, tr.rewards);
  return est === 'gpomdp' ? R : new Float64Array(R.length).fill(R[0]);
}

/** Policy-gradient estimate g(τ, θ) = ∇Φ_τ(θ). */
export function pgEstimate(env: LqgEnv, K: Float64Array, tr: Trajectory, est: Estimator): Float64Array {
  return weightedScore(env, K, tr, scoreWeights(env, tr, est));
}

/**
 * Hessian-aided correction B̂(τ, θ)v = ∇Φ_τ(θ)·(∇log p_τ(θ)ᵀv) + ∇²Φ_τ(θ)v, with ∇log p_τ = Σ_h ∇log π(a_h|s_h)
 * and ∇²Φ_τ v = Σ_h w_h ∇²log π(a_h|s_h) v (closed form for the linear-Gaussian policy).
 */
export function hessianCorrection(env: LqgEnv, K: Float64Array, tr: Trajectory, v: Float64Array, est: Estimator): Float64Array {
  const { n, horizon: H } = env;
  const w = scoreWeights(env, tr, est);
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
  for (let t = 0; used < o.trajectories; t++) {
    const gammaT = o.schedule.step0 * Math.pow(2 / (t + 2), o.schedule.stepPower);
    const eta = Math.max(o.schedule.momentumFloor, Math.pow(2 / (t + 2), o.schedule.momentumPower));
    let next: Float64Array;
    if (o.method === 'vanilla') {
      // θ ← θ + γ_t · mean of `batch` single-trajectory estimates
      const g = new Float64Array(dim);
      const b = Math.min(o.batch, o.trajectories - used);
      for (let k = 0; k < b; k++) {
        const gk = pgEstimate(env, theta, rollout(env, theta, rng), o.estimator);
        for (let i = 0; i < dim; i++) g[i] += gk[i] / b;
      }
      used += b;
      next = theta.map((v, i) => v + gammaT * g[i]);
    } else if (o.method === 'npg-igt') {
      // look-ahead θ̃ = θ_t + ((1 − η)/η)(θ_t − θ_{t−1}); d = (1 − η)d + η g(θ̃); θ ← θ + γ d/‖d‖
      const look = theta.map((v, i) => v + ((1 - eta) / eta) * (v - prev[i]));
      const g = pgEstimate(env, look, rollout(env, clip(look), rng), o.estimator);
      used += 1;
      d = d ? d.map((v, i) => (1 - eta) * v + eta * g[i]) : g;
      const nd = norm(d) || 1;
      next = theta.map((v, i) => v + (gammaT * d![i]) / nd);
    } else {
      // (N)-HARPG: g at θ_t; Hessian correction at θ̂ = qθ_t + (1 − q)θ_{t−1} along θ_t − θ_{t−1}
      const g = pgEstimate(env, theta, rollout(env, theta, rng), o.estimator);
      used += 1;
      if (!d) d = g;
      else {
        const q = rng.uniform();
        const hat = theta.map((v, i) => q * v + (1 - q) * prev[i]);
        const diff = theta.map((v, i) => v - prev[i]);
        const vt = hessianCorrection(env, hat, rollout(env, hat, rng), diff, o.estimator);
        used += 1;
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
  vanillaBatch: number;
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
    runPg(env, { method, trajectories: o.trajectories, batch: o.vanillaBatch, schedule: sched(step0), estimator: o.estimator, thetaClip: o.thetaClip, theta0: o.theta0 }, new Rng(s), (used, th) => {
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
    stepGrid: z.array(z.number().positive()).min(1).default([1e-4, 3e-4, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3]).describe('initial step sizes γ₀ tried per method'),
    estimator: z.enum(['gpomdp', 'reinforce']).default('gpomdp').describe('per-trajectory gradient estimator (reward-to-go or whole return)'),
    vanillaBatch: z.number().int().min(1).max(1000).default(1).describe('trajectories per vanilla PG update'),
    vanillaStepPower: z.number().min(0).max(1).default(0).describe('vanilla PG step γ_t = γ₀ (2/(t+2))^p'),
    stepPower: z.number().min(0).max(1).default(defaults.stepPower).describe('γ_t = γ₀ (2/(t+2))^p for the method (the paper\'s exponents are unverified; our choice)'),
    momentumPower: z.number().min(0).max(1).default(defaults.momentumPower).describe('η_t = max(floor, (2/(t+2))^p) for the method (unverified; our choice)'),
    momentumFloor: z.number().min(0).max(1).default(defaults.momentumFloor).describe('lower bound of the momentum weight η_t (0 = pure decay)'),
    thetaClip: z.number().positive().default(5).describe('clip |θ_i| to keep unstable closed loops finite'),
    theta0: z.number().min(-5).max(5).default(-0.1).describe('initial value of every policy parameter (−0.1: a weakly stabilizing start for lqg1d; 0 is only marginally stable)'),
  };
  return variantField
    ? z.object({ ...base, variant: z.enum(['n-harpg', 'harpg']).default('n-harpg').describe('normalized (N-HARPG) or plain HARPG step') }).strict()
    : z.object(base).strict();
}

const igtSchema = pgSchema({ stepPower: 1, momentumPower: 1, momentumFloor: 0 }, false);
const harpgSchema = pgSchema({ stepPower: 1, momentumPower: 1, momentumFloor: 0.1 }, true);
type PgConfig = z.infer<typeof igtSchema> & { variant?: 'n-harpg' | 'harpg' };

function compareOptions(c: PgConfig): PgCompareOptions {
  return {
    trajectories: c.trajectories,
    seeds: c.seeds,
    tuneSeeds: c.tuneSeeds,
    stepGrid: c.stepGrid,
    estimator: c.estimator,
    vanillaBatch: c.vanillaBatch,
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

function pgClaim(method: PgMethod, schema: typeof igtSchema | typeof harpgSchema) {
  const verdict = (c: PgConfig, seed: number) => {
    const r = comparePg(c, method, seed);
    const ours = median(r.ours.meanGaps);
    const base = median(r.base.meanGaps);
    return { ours, base, oursFinal: median(r.ours.finalGaps), baseFinal: median(r.base.finalGaps), r };
  };
  return {
    statement: `${method === 'npg-igt' ? 'N-PG-IGT' : 'N-HARPG'} gets better return per sampled trajectory than vanilla stochastic PG (each with γ₀ tuned on separate seeds): lower median optimality gap J* − J averaged over the trajectory budget on LQG control.`,
    async fast({ seed }: { seed: number }) {
      const c = schema.parse({ trajectories: 2000, seeds: 15, tuneSeeds: 3 }) as PgConfig;
      const v = verdict(c, seed);
      return {
        pass: v.ours < v.base,
        measured: { [`${method}_median_mean_gap`]: v.ours, vanilla_median_mean_gap: v.base, [`${method}_median_final_gap`]: v.oursFinal, vanilla_median_final_gap: v.baseFinal, [`${method}_step0`]: v.r.ours.step0, vanilla_step0: v.r.base.step0 },
        summary: `1-D LQG, 2000 trajectories, 15 seeds: mean gap J*−J ${method} ${v.ours.toFixed(4)} vs vanilla ${v.base.toFixed(4)}; final ${v.oursFinal.toFixed(4)} vs ${v.baseFinal.toFixed(4)} (J* = ${v.r.star.J.toFixed(3)})`,
      };
    },
    async full({ seeds }: { seeds: number[] }) {
      const measured: Record<string, number> = {};
      let wins = 0;
      let cases = 0;
      for (const env of ['lqg1d', 'double-integrator'] as const) {
        for (const seed of seeds) {
          const c = schema.parse({ env, horizon: env === 'lqg1d' ? 20 : 30, trajectories: 2000, seeds: 15 }) as PgConfig;
          const v = verdict(c, seed);
          measured[`${env}_seed${seed}_${method}_mean_gap`] = v.ours;
          measured[`${env}_seed${seed}_vanilla_mean_gap`] = v.base;
          cases++;
          if (v.ours < v.base) wins++;
        }
      }
      return { pass: wins === cases, measured, summary: `${method} had the lower mean gap in ${wins}/${cases} (env, seed) cases at 2000 trajectories` };
    },
  };
}

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
  claim: pgClaim('npg-igt', igtSchema),
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
  claim: pgClaim('n-harpg', harpgSchema),
});
