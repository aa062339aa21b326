// Stochastic policy gradient for Fisher-non-degenerate policies (Fatkhullin, Barakat, Kireeva, He,
// ICML 2023), spec optimizers.md §24: N-PG-IGT (normalized PG with implicit gradient transport) and
// (N)-HARPG (Hessian-aided recursive PG), single-trajectory updates, vs vanilla stochastic PG
// (REINFORCE-type, here with reward-to-go = GPOMDP by default), on LQG control with a linear-Gaussian
// policy (progress: exact J(θ)) and on CartPole with a logistic policy or (env 'cartpole-mlp') the authors'
// softmax-MLP policy (progress: the return of each sampled trajectory), against the number of sampled
// trajectories. Optional baselines: a per-step running average, or the authors' linear-feature state baseline
// (garage LinearFeatureBaseline).
//
// Note on the authors' garage code (STORMHessOptimizer / STORMHess), as we read it: the Hessian term is
// built from losses averaged over all N steps of the Hessian batch, so the ∇Φ∇log pᵀ part enters as a
// product of two batch means, in expectation 1/N of the paper's weight and of opposite sign; their runs
// thus use essentially the truncated ∇²Φ term. We implement the paper's unbiased B̂ (checked in tests) by
// default, and their code's term as `hessianForm: 'authors-code'` (authorsCodeHessianTerm).
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../../core/experiment';
import { encodeNpy } from '../../core/io/npy';
import { Rng } from '../../core/rng';
import { mean, median } from './data';
import { solveSpd } from '../../core/linalg/cholesky';
import { norm2 } from '../../core/linalg/dense';
import { cartpole } from './envs/cartpole';
import { cartpoleMlp } from './envs/cartpole-mlp';
import { doubleIntegrator, expectedReturn, lqg1d, lqgTask, readLqgFile, rollout, type LqgEnv } from './envs/lqg';
import { discountCumsum, discountedRewardToGo, type PolicyTask, type Trajectory } from './envs/task';

export type Estimator = 'gpomdp' | 'reinforce' | 'reward-to-go';
export type Baseline = 'none' | 'running-average' | 'linear-feature';
export type PgMethod = 'vanilla' | 'npg-igt' | 'n-sgdm' | 'harpg' | 'n-harpg';
/** (N)-HARPG's Hessian-aided term: the paper's unbiased B̂v, or what the authors' garage code computes. */
export type HessianForm = 'paper' | 'authors-code';

/**
 * The per-step returns an estimator weighs the scores with (and a baseline is fitted to): Σ_{h'≥h} γ^{h'} r_{h'}
 * (GPOMDP and REINFORCE, discounted from time 0), or Σ_{h'≥h} γ^{h'−h} r_{h'} ('reward-to-go': garage's
 * discount_cumsum advantages, as in the authors' experiments; the usual, not exactly unbiased, practice).
 */
export function stepReturns(task: PolicyTask, tr: Trajectory, est: Estimator): Float64Array {
  return est === 'reward-to-go' ? discountCumsum(task.gamma, tr.rewards) : discountedRewardToGo(task.gamma, tr.rewards);
}

/**
 * Per-step weights of the score terms: reward-to-go (GPOMDP, or garage's restarted discounting) or the whole
 * discounted return (REINFORCE), minus an optional per-step baseline b_h built from earlier trajectories only
 * (so independent of this trajectory's actions: gradient and Hessian estimates stay unbiased).
 */
function scoreWeights(task: PolicyTask, tr: Trajectory, est: Estimator, baseline?: Float64Array): Float64Array {
  const R = stepReturns(task, tr, est);
  const perStep = est !== 'reinforce';
  const w = perStep ? R : new Float64Array(R.length).fill(R[0]);
  if (baseline) for (let h = 0; h < w.length; h++) w[h] -= perStep ? baseline[h] : baseline[0];
  return w;
}

/** Policy-gradient estimate g(τ, θ) = ∇Φ_τ(θ). */
export function pgEstimate(task: PolicyTask, theta: Float64Array, tr: Trajectory, est: Estimator, baseline?: Float64Array): Float64Array {
  return task.weightedScore(theta, tr, scoreWeights(task, tr, est, baseline));
}

/**
 * Hessian-aided correction B̂(τ, θ)v = ∇Φ_τ(θ)·(∇log p_τ(θ)ᵀv) + ∇²Φ_τ(θ)v, with ∇log p_τ = Σ_h ∇log π(a_h|s_h)
 * and ∇²Φ_τ v = Σ_h w_h ∇²log π(a_h|s_h) v (closed form for the linear-Gaussian policy).
 */
export function hessianCorrection(task: PolicyTask, theta: Float64Array, tr: Trajectory, v: Float64Array, est: Estimator, baseline?: Float64Array): Float64Array {
  const w = scoreWeights(task, tr, est, baseline);
  const gradPhi = task.weightedScore(theta, tr, w);
  const scoreSum = task.weightedScore(theta, tr, new Float64Array(tr.rewards.length).fill(1));
  let dot = 0;
  for (let i = 0; i < v.length; i++) dot += scoreSum[i] * v[i];
  const out = Float64Array.from(gradPhi, (g) => g * dot);
  task.addWeightedScoreHvp(theta, tr, w, v, out);
  return out;
}

/**
 * The Hessian-aided term as the authors' garage code computes it (STORMHessOptimizer.step with the closure of
 * their algos/STORMHess.py): from a Hessian batch it forms the batch-mean losses
 *   L(θ) = −(1/M) Σ_i A_i log π_θ(a_i|s_i)   (`new_loss`, garage's VPG surrogate, a mean over the batch's steps)
 *   ℓ(θ) = −(1/M) Σ_i log π_θ(a_i|s_i)       (`log_probs_loss = -….mean()`)
 * and uses `hvp_full_p = hvp[i] + jac[i] * log_probs_grad_scalar`, i.e. ∇²L v + ∇L·(∇ℓᵀv), in the loss's
 * (descent) sign. In our ascent sign, with Φ_k, p_k of the batch's trajectories τ_k (A_i their score weights):
 *   −(∇²L v + ∇L·(∇ℓᵀv)) = (1/M) Σ_k ∇²Φ_k v − (1/M²) (Σ_k ∇Φ_k)(Σ_k ∇log p_kᵀv),
 * against the paper's (1/M) Σ_k [∇²Φ_k v + ∇Φ_k (∇log p_kᵀv)]: the product term has the opposite sign and 1/M of
 * the weight (plus cross-trajectory products, zero in expectation). M = the batch's environment steps (garage
 * batches), or its number of trajectories when the batch is counted in trajectories (mean over trajectories).
 */
export function authorsCodeHessianTerm(
  task: PolicyTask,
  theta: Float64Array,
  trs: readonly Trajectory[],
  v: Float64Array,
  est: Estimator,
  baselines: readonly (Float64Array | undefined)[],
  normalizer: number,
): Float64Array {
  const dim = task.dim;
  const hvp = new Float64Array(dim); // Σ_k ∇²Φ_k v
  const gradPhi = new Float64Array(dim); // Σ_k ∇Φ_k
  let scoreDotV = 0; // Σ_k ∇log p_kᵀ v
  trs.forEach((tr, k) => {
    const w = scoreWeights(task, tr, est, baselines[k]);
    const g = task.weightedScore(theta, tr, w);
    for (let i = 0; i < dim; i++) gradPhi[i] += g[i];
    const score = task.weightedScore(theta, tr, new Float64Array(tr.rewards.length).fill(1));
    for (let i = 0; i < dim; i++) scoreDotV += score[i] * v[i];
    task.addWeightedScoreHvp(theta, tr, w, v, hvp);
  });
  const M = normalizer;
  return Float64Array.from(hvp, (h, i) => h / M - (gradPhi[i] * scoreDotV) / (M * M));
}

/**
 * State-dependent baseline b_h(s) = wᵀφ(s, h) of the authors' experiments (garage LinearFeatureBaseline):
 * φ = [s, s², h/H, (h/H)², (h/H)³, 1] plus the cross terms s_i s_j (so the quadratic LQG value is
 * representable), w by ridge least squares on reward-to-go of earlier trajectories (exponentially
 * forgotten). Fitted only on data the current estimate does not use, so estimates stay unbiased.
 */
export class LinearFeatureBaseline {
  private readonly dim: number;
  private readonly gram: Float64Array;
  private readonly rhs: Float64Array;
  private w: Float64Array | null = null;
  constructor(
    private readonly n: number,
    private readonly horizon: number,
    private readonly forget = 0.95,
    private readonly ridge = 1e-3,
  ) {
    this.dim = n + (n * (n + 1)) / 2 + 4;
    this.gram = new Float64Array(this.dim * this.dim);
    this.rhs = new Float64Array(this.dim);
  }
  private features(s: ArrayLike<number>, h: number, out: Float64Array): void {
    let k = 0;
    for (let i = 0; i < this.n; i++) out[k++] = s[i];
    for (let i = 0; i < this.n; i++) for (let j = i; j < this.n; j++) out[k++] = s[i] * s[j];
    const t = h / this.horizon;
    out[k++] = t;
    out[k++] = t * t;
    out[k++] = t * t * t;
    out[k] = 1;
  }
  /** b_h(s_h) along a trajectory's states (H × n); undefined before the first fit. */
  values(states: Float64Array): Float64Array | undefined {
    if (!this.w) return undefined;
    const H = states.length / this.n;
    const out = new Float64Array(H);
    const phi = new Float64Array(this.dim);
    for (let h = 0; h < H; h++) {
      this.features(states.subarray(h * this.n, h * this.n + this.n), h, phi);
      let v = 0;
      for (let i = 0; i < this.dim; i++) v += this.w[i] * phi[i];
      out[h] = v;
    }
    return out;
  }
  /** Adds trajectories' (state, reward-to-go) pairs, forgetting older ones, and refits w. */
  fit(batch: { states: Float64Array; returnsToGo: Float64Array }[]): void {
    const D = this.dim;
    for (let i = 0; i < D * D; i++) this.gram[i] *= this.forget;
    for (let i = 0; i < D; i++) this.rhs[i] *= this.forget;
    const phi = new Float64Array(D);
    for (const { states, returnsToGo } of batch) {
      for (let h = 0; h < returnsToGo.length; h++) {
        this.features(states.subarray(h * this.n, h * this.n + this.n), h, phi);
        for (let i = 0; i < D; i++) {
          this.rhs[i] += phi[i] * returnsToGo[h];
          for (let j = 0; j < D; j++) this.gram[i * D + j] += phi[i] * phi[j];
        }
      }
    }
    const a = Float64Array.from(this.gram);
    let tr = 0;
    for (let i = 0; i < D; i++) tr += a[i * D + i];
    for (let i = 0; i < D; i++) a[i * D + i] += this.ridge * (tr / D + 1e-12);
    this.w = solveSpd(a, D, Float64Array.from(this.rhs));
  }
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
  /** Trajectories per Hessian-aided correction in (N)-HARPG; default: batch. */
  hessianBatch?: number;
  /**
   * garage-style batches (the authors' `batch_size`, in environment steps): when > 0, each gradient estimate
   * samples whole trajectories until at least this many steps are collected and averages the score sums over
   * the steps (garage's VPG loss is a mean over steps); overrides `batch`. 0 = `batch` trajectories.
   */
  batchSteps?: number;
  /** The same for the Hessian-aided correction (the authors' `hessian_batch_size`, 32 steps in their run_PG.py); 0 = `hessianBatch` trajectories. */
  hessianBatchSteps?: number;
  /** (N)-HARPG's Hessian-aided term: 'paper' (unbiased B̂v, default) or 'authors-code' (authorsCodeHessianTerm). */
  hessianForm?: HessianForm;
  schedule: PgSchedule;
  estimator: Estimator;
  /** Per-step baseline: none, or an exponential moving average (rate 0.1) of earlier trajectories' reward-to-go. */
  baseline: Baseline;
  /** Clip |θ_i| (keeps unstable closed loops from overflowing; large enough not to bind near the optimum). */
  thetaClip: number;
  /** Initial policy parameter (every entry of K); tasks with their own random init (task.initialTheta, the MLP policy) ignore it. */
  theta0: number;
}


/** Runs one method until the trajectory budget is spent; calls onEval(trajectoriesUsed, θ) after each update. */
export function runPg(
  task: PolicyTask,
  o: PgRunOptions,
  rng: Rng,
  onEval?: (used: number, theta: Float64Array) => void,
  onTrajectory?: (tr: Trajectory) => void,
): Float64Array {
  const dim = task.dim;
  // θ₀: the task's random init drawn from the run's Rng (MLP policy), else every entry o.theta0
  let theta = task.initialTheta ? Float64Array.from(task.initialTheta(rng)) : new Float64Array(dim).fill(o.theta0);
  let prev = Float64Array.from(theta);
  let d: Float64Array | null = null;
  let used = 0;
  const clip = (x: Float64Array) => x.map((v) => Math.max(-o.thetaClip, Math.min(o.thetaClip, v)));
  const base = o.baseline === 'running-average' ? new Float64Array(task.horizon) : undefined;
  let baselineSeen = false;
  const linear = o.baseline === 'linear-feature' ? new LinearFeatureBaseline(task.stateDim, task.horizon) : undefined;
  // per-step baseline values for one trajectory: b_h (running average) or b_h(s_h) (linear features)
  const baselineOf = (tr: Trajectory): Float64Array | undefined => (linear ? linear.values(tr.states) : base && baselineSeen ? base : undefined);
  // One batch at θ: up to `batch` trajectories (the paper's theory: batch 1; its experiments: batches), or, with
  // `steps` > 0, garage-style: whole trajectories until ≥ `steps` environment steps. Returns them with the
  // divisor of the batch mean (trajectories, or steps collected) and their baseline values, taken before any
  // learning from them.
  const sampleBatch = (at: Float64Array, size: number, steps: number) => {
    const seen: Trajectory[] = [];
    let divisor: number;
    if (steps > 0) {
      let collected = 0;
      do {
        const tr = task.rollout(clip(at), rng);
        onTrajectory?.(tr);
        collected += tr.rewards.length;
        seen.push(tr);
      } while (collected < steps && used + seen.length < o.trajectories);
      divisor = collected;
    } else {
      divisor = Math.max(1, Math.min(size, o.trajectories - used));
      for (let k = 0; k < divisor; k++) {
        const tr = task.rollout(clip(at), rng);
        onTrajectory?.(tr);
        seen.push(tr);
      }
    }
    used += seen.length;
    return { seen, divisor, baselines: seen.map(baselineOf) };
  };
  // the baseline learns only after the estimate is formed, so it never depends on the trajectories it weighs
  const learnFrom = (seen: Trajectory[]) => {
    if (base) for (const tr of seen) {
      const R = stepReturns(task, tr, o.estimator);
      for (let h = 0; h < R.length; h++) base[h] = baselineSeen ? base[h] + 0.1 * (R[h] - base[h]) : R[h];
      baselineSeen = true;
    }
    linear?.fit(seen.map((tr) => ({ states: tr.states, returnsToGo: stepReturns(task, tr, o.estimator) })));
  };
  // Batch mean of single-trajectory estimates one(τ, b(τ)) at θ (sum / steps for garage-style batches).
  const batchMean = (at: Float64Array, one: (tr: Trajectory, b: Float64Array | undefined) => Float64Array, size = o.batch, steps = o.batchSteps ?? 0): Float64Array => {
    const { seen, divisor, baselines } = sampleBatch(at, size, steps);
    const out = new Float64Array(dim);
    seen.forEach((tr, k) => {
      const gk = one(tr, baselines[k]);
      if (steps > 0) for (let i = 0; i < dim; i++) out[i] += gk[i];
      else for (let i = 0; i < dim; i++) out[i] += gk[i] / divisor;
    });
    if (steps > 0) for (let i = 0; i < dim; i++) out[i] /= divisor;
    learnFrom(seen);
    return out;
  };
  // The authors' code's Hessian-aided term from one batch at θ̂ (products of batch means: not a mean of per-trajectory terms).
  const authorsTerm = (at: Float64Array, v: Float64Array, size: number, steps: number): Float64Array => {
    const { seen, divisor, baselines } = sampleBatch(at, size, steps);
    const out = authorsCodeHessianTerm(task, at, seen, v, o.estimator, baselines, divisor);
    learnFrom(seen);
    return out;
  };
  for (let t = 0; used < o.trajectories; t++) {
    const gammaT = o.schedule.step0 * Math.pow(2 / (t + 2), o.schedule.stepPower);
    const eta = Math.max(o.schedule.momentumFloor, Math.pow(2 / (t + 2), o.schedule.momentumPower));
    let next: Float64Array;
    if (o.method === 'vanilla') {
      // θ ← θ + γ_t · mean of `batch` single-trajectory estimates
      const g = batchMean(theta, (tr, b) => pgEstimate(task, theta, tr, o.estimator, b));
      next = theta.map((v, i) => v + gammaT * g[i]);
    } else if (o.method === 'npg-igt') {
      // look-ahead θ̃ = θ_t + ((1 − η)/η)(θ_t − θ_{t−1}); d = (1 − η)d + η g(θ̃); θ ← θ + γ d/‖d‖
      const look = theta.map((v, i) => v + ((1 - eta) / eta) * (v - prev[i]));
      const g = batchMean(look, (tr, b) => pgEstimate(task, look, tr, o.estimator, b));
      d = d ? d.map((v, i) => (1 - eta) * v + eta * g[i]) : g;
      const nd = norm2(d) || 1;
      next = theta.map((v, i) => v + (gammaT * d![i]) / nd);
    } else if (o.method === 'n-sgdm') {
      // ablation (authors' `nsgdm`): HARPG's recursion without the Hessian correction, d = (1 − η)d + η g(θ_t)
      const g = batchMean(theta, (tr, b) => pgEstimate(task, theta, tr, o.estimator, b));
      d = d ? d.map((v, i) => (1 - eta) * v + eta * g[i]) : g;
      const nd = norm2(d) || 1;
      next = theta.map((v, i) => v + (gammaT * d![i]) / nd);
    } else {
      // (N)-HARPG: g at θ_t; Hessian correction at θ̂ = qθ_t + (1 − q)θ_{t−1} along θ_t − θ_{t−1}
      const g = batchMean(theta, (tr, b) => pgEstimate(task, theta, tr, o.estimator, b));
      if (!d) d = g;
      else if (used >= o.trajectories) break; // no budget left for the correction's trajectory: stop here
      else {
        const q = rng.uniform();
        const hat = theta.map((v, i) => q * v + (1 - q) * prev[i]);
        const diff = theta.map((v, i) => v - prev[i]);
        const hSize = o.hessianBatch ?? o.batch;
        const hSteps = o.hessianBatchSteps ?? 0;
        const vt =
          (o.hessianForm ?? 'paper') === 'authors-code'
            ? authorsTerm(hat, diff, hSize, hSteps)
            : batchMean(hat, (tr, b) => hessianCorrection(task, hat, tr, diff, o.estimator, b), hSize, hSteps);
        const dPrev: Float64Array = d;
        d = dPrev.map((v, i) => (1 - eta) * (v + vt[i]) + eta * g[i]);
      }
      const scale = o.method === 'n-harpg' ? gammaT / (norm2(d) || 1) : gammaT;
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
  /** Trajectories per gradient estimate, for every method. */
  batch: number;
  /** Trajectories per Hessian-aided correction ((N)-HARPG only). */
  hessianBatch: number;
  /** garage-style batches in environment steps (0 = off), for the gradient and the Hessian correction. */
  batchSteps: number;
  hessianBatchSteps: number;
  /** (N)-HARPG's Hessian-aided term (default 'paper'). */
  hessianForm?: HessianForm;
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

/**
 * A task plus how progress is measured: on LQG the exact gap J* − J(θ_t) after each update; on CartPole
 * (no closed form) the shortfall J* − R(τ) of each sampled trajectory's undiscounted return R(τ) from the
 * maximum J* = H, i.e. literally the return per sampled trajectory.
 */
export interface TaskSetup {
  task: PolicyTask;
  jStar: number;
  kStar?: Float64Array;
  exactReturn?: (theta: Float64Array) => number;
}

export type TaskName = 'lqg1d' | 'double-integrator' | 'cartpole' | 'cartpole-mlp';

/** Default episode length per task: 20 (lqg1d), 30 (double integrator), 200 (CartPole, as in the authors' runs). */
export const DEFAULT_HORIZON: Record<TaskName, number> = { lqg1d: 20, 'double-integrator': 30, cartpole: 200, 'cartpole-mlp': 200 };

export function makeTask(name: TaskName, horizon: number, gamma: number, envFile = ''): TaskSetup {
  const H = horizon > 0 ? horizon : DEFAULT_HORIZON[name];
  if (name === 'cartpole' && !envFile) return { task: cartpole(H, gamma), jStar: H };
  if (name === 'cartpole-mlp' && !envFile) return { task: cartpoleMlp(H, gamma), jStar: H };
  const env = makeEnv(name === 'cartpole' || name === 'cartpole-mlp' ? 'lqg1d' : name, H, gamma, envFile);
  const star = optimalReturn(env);
  return { task: lqgTask(env, envFile ? 'lqg-file' : name), jStar: star.J, kStar: star.K, exactReturn: (th) => expectedReturn(env, th) };
}

/**
 * Tunes γ₀ on separate seeds (lowest gap averaged over the run and over the tune seeds, so a step that
 * blows up on any tune seed loses), then evaluates on `seeds` fresh seeds.
 */
export function evaluateMethod(setup: TaskSetup, method: PgMethod, o: PgCompareOptions, seed: number, check?: () => void): PgMethodOutcome {
  const { task, jStar, exactReturn } = setup;
  const sched = (step0: number): PgSchedule =>
    method === 'vanilla' ? { step0, stepPower: o.vanillaStepPower, momentumPower: 0, momentumFloor: 0 } : { step0, ...o.methodSchedule };
  const runOnce = (step0: number, s: number) => {
    const curve = new Float64Array(o.trajectories).fill(NaN);
    const opts: PgRunOptions = { method, trajectories: o.trajectories, batch: o.batch, hessianBatch: o.hessianBatch, batchSteps: o.batchSteps, hessianBatchSteps: o.hessianBatchSteps, hessianForm: o.hessianForm, schedule: sched(step0), estimator: o.estimator, baseline: o.baseline, thetaClip: o.thetaClip, theta0: o.theta0 };
    if (exactReturn) {
      let last = jStar - exactReturn(new Float64Array(task.dim).fill(o.theta0));
      let filled = 0;
      runPg(task, opts, new Rng(s), (used, th) => {
        for (; filled < used; filled++) curve[filled] = last;
        last = jStar - exactReturn(th);
        if (!Number.isFinite(last)) last = 1e12;
      });
      for (; filled < o.trajectories; filled++) curve[filled] = last;
      curve[o.trajectories - 1] = last;
    } else {
      let k = 0;
      runPg(task, opts, new Rng(s), undefined, (tr) => {
        if (k < o.trajectories) curve[k++] = jStar - tr.rewards.reduce((a, r) => a + r, 0);
      });
    }
    return curve;
  };
  let bestStep = o.stepGrid[0];
  let bestScore = Infinity;
  for (const step0 of o.stepGrid) {
    check?.();
    const scores: number[] = [];
    for (let k = 0; k < o.tuneSeeds; k++) scores.push(mean(runOnce(step0, seed * 7919 + 100000 + k)));
    const sc = mean(scores);
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
  // final gap: the exact gap of the last iterate (LQG), or the mean over the last 10% of sampled trajectories (CartPole)
  const tail = exactReturn ? 1 : Math.max(1, Math.floor(o.trajectories / 10));
  const final = (c: Float64Array) => mean(c.subarray(o.trajectories - tail));
  const gapCurve = Float64Array.from({ length: o.trajectories }, (_, i) => median(curves.map((c) => c[i])));
  return { method, step0: bestStep, gapCurve, finalGaps: curves.map(final), meanGaps: curves.map((c) => mean(c)) };
}

export function makeEnv(name: 'lqg1d' | 'double-integrator', horizon: number, gamma: number, envFile = ''): LqgEnv {
  if (envFile) return readLqgFile(envFile, horizon, gamma);
  return name === 'lqg1d' ? lqg1d(horizon, gamma) : doubleIntegrator(horizon, gamma);
}

function pgSchema(defaults: { stepPower: number; momentumPower: number; momentumFloor: number }, variantField: boolean) {
  const base = {
    env: z.enum(['lqg1d', 'double-integrator', 'cartpole', 'cartpole-mlp']).default('lqg1d').describe('task: 1-D LQG (spec), a 2-D double integrator (LQG), CartPole with a logistic policy (the paper\'s classic-control task), or CartPole with the authors\' softmax MLP policy (4→32→32→2, tanh; Xavier-uniform init per run, theta0 ignored)'),
    envFile: z.string().default('').describe('LQG system as JSON {"A":[[…]],"B":[[…]],"q","r","noiseStd","initStd","policyStd"}; overrides env'),
    horizon: z.number().int().min(0).max(1000).default(0).describe('episode length H (maximum for CartPole); 0 = the task default (20 lqg1d, 30 double integrator, 200 CartPole)'),
    gamma: z.number().gt(0).max(1).default(0.99).describe('discount γ'),
    trajectories: z.number().int().min(10).max(1000000).default(2000).describe('trajectory budget per run (all methods)'),
    seeds: z.number().int().min(1).max(100).default(15).describe('evaluation seeds (median reported)'),
    tuneSeeds: z.number().int().min(1).max(20).default(3).describe('separate seeds used to pick γ₀ from the grid, per method'),
    stepGrid: z.array(z.number().positive()).min(1).default([1e-4, 3e-4, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3]).describe('initial step sizes γ₀ tried per method (normalized 1/t steps travel ≈ 2γ₀ ln T in total, so γ₀ ≥ 1 is needed to reach a distant optimum)'),
    estimator: z.enum(['gpomdp', 'reinforce', 'reward-to-go']).default('gpomdp').describe('per-trajectory gradient estimator: GPOMDP (reward-to-go discounted from time 0), REINFORCE (whole return), or reward-to-go restarted at each step (garage discount_cumsum, the authors\' experiments)'),
    baseline: z.enum(['none', 'running-average', 'linear-feature']).default('none').describe('baseline for every method: none, a per-step moving average (rate 0.1) of earlier reward-to-go, or the authors\' linear-feature state baseline fitted on earlier trajectories'),
    batch: z.number().int().min(1).max(1000).default(1).describe('trajectories per gradient estimate for every method; 1 = the paper\'s single-trajectory theory'),
    hessianBatch: z.number().int().min(1).max(1000).default(1).describe('trajectories per Hessian-aided correction in (N)-HARPG (1 = the paper\'s algorithm)'),
    batchSteps: z.number().int().min(0).max(100000).default(0).describe('garage-style batch (authors\' batch_size): whole trajectories until at least this many environment steps per gradient estimate, averaged over steps, for every method; 0 = use batch (trajectories)'),
    hessianBatchSteps: z.number().int().min(0).max(100000).default(0).describe('garage-style Hessian batch in environment steps for (N)-HARPG (authors\' hessian_batch_size; their run_PG.py default 32); 0 = hessianBatch trajectories'),
    hessianForm: z.enum(['paper', 'authors-code']).default('paper').describe('(N)-HARPG Hessian-aided term: the paper\'s unbiased B̂v = mean_k[∇Φ_k(∇log p_kᵀv) + ∇²Φ_k v], or what the authors\' garage code computes from batch-mean losses, (1/M)Σ_k ∇²Φ_k v − (1/M²)(Σ_k ∇Φ_k)(Σ_k ∇log p_kᵀv) over the batch\'s M steps (product term flipped in sign, 1/M weight)'),
    vanillaStepPower: z.number().min(0).max(1).default(0).describe('vanilla PG step γ_t = γ₀ (2/(t+2))^p (0 = constant; the authors\' code uses 2/3, which diverged on held-out seeds of the double integrator)'),
    stepPower: z.number().min(0).max(1).default(defaults.stepPower).describe('γ_t = γ₀ (2/(t+2))^p for the method (authors\' code: 1 for N-PG-IGT and N-HARPG, 1/2 for unnormalized HARPG)'),
    momentumPower: z.number().min(0).max(1).default(defaults.momentumPower).describe('η_t = max(floor, (2/(t+2))^p) for the method (authors\' code: 4/5 for N-PG-IGT, 1 for (N)-HARPG)'),
    momentumFloor: z.number().min(0).max(1).default(defaults.momentumFloor).describe('lower bound of the momentum weight η_t (0 = the paper\'s pure decay; > 0 is our deviation)'),
    thetaClip: z.number().positive().default(5).describe('clip |θ_i| to keep unstable LQG closed loops finite (the CartPole claims use 50, where it does not bind)'),
    theta0: z.number().min(-5).max(5).default(-0.1).describe('initial value of every policy parameter (−0.1: a weakly stabilizing start for lqg1d, where 0 is only marginally stable; the CartPole claims start at 0, the uniform policy)'),
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
    hessianBatch: c.hessianBatch,
    batchSteps: c.batchSteps,
    hessianBatchSteps: c.hessianBatchSteps,
    hessianForm: c.hessianForm,
    methodSchedule: { stepPower: c.stepPower, momentumPower: c.momentumPower, momentumFloor: c.momentumFloor },
    vanillaStepPower: c.vanillaStepPower,
    thetaClip: c.thetaClip,
    theta0: c.theta0,
  };
}

export function comparePg(c: PgConfig, method: PgMethod, seed: number, check?: () => void) {
  const setup = makeTask(c.env, c.horizon, c.gamma, c.envFile);
  const o = compareOptions(c);
  const ours = evaluateMethod(setup, method, o, seed, check);
  const base = evaluateMethod(setup, 'vanilla', o, seed, check);
  return { setup, star: { J: setup.jStar, K: setup.kStar }, ours, base };
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
    k_star: r.star.K ? [...r.star.K] : null,
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

/** Claim configurations: 2000 trajectories on LQG; 500 on CartPole (horizon 200, start θ = 0, wider clip). */
const claimConfig = (schema: typeof igtSchema | typeof harpgSchema, env: TaskName, extra: Record<string, unknown> = {}) => {
  const isCartpole = env === 'cartpole' || env === 'cartpole-mlp';
  return schema.parse({
    env,
    trajectories: isCartpole ? 500 : 2000,
    seeds: isCartpole ? 9 : 15,
    tuneSeeds: 3,
    ...(isCartpole ? { theta0: 0, thetaClip: 50 } : {}),
    ...extra,
  }) as PgConfig;
};

const ALL_TASKS: TaskName[] = ['lqg1d', 'double-integrator', 'cartpole'];

/** Compact gap for summaries: 3 significant digits, or '≫1e6' for a run that blew up. */
const fmtGap = (x: number) => (x > 1e6 ? '≫1e6' : x.toPrecision(3));

/**
 * N-PG-IGT: the paper's claim holds on the spec's 1-D LQG and is asserted there; the full form also
 * reports the double integrator, 1-D LQG with the authors' linear-feature baseline on both arms, and CartPole.
 */
const igtClaim = {
  statement:
    'N-PG-IGT with the authors\' schedules (γ_t = γ₀·2/(t+2), η_t = (2/(t+2))^{4/5}) gets better return per sampled trajectory than vanilla stochastic PG (GPOMDP, constant step; each with γ₀ tuned on separate seeds): lower median optimality gap J* − J averaged over a 2000-trajectory budget on 1-D LQG. Not claimed elsewhere (the full form reports the double integrator, where normalized 1/t steps travel only ≈ 2γ₀ ln T, 1-D LQG with a linear-feature baseline on both arms, and CartPole).',
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
    const wins: Record<string, number> = {};
    const cases: [string, PgConfig][] = [
      ['lqg1d', claimConfig(igtSchema, 'lqg1d')],
      ['double-integrator', claimConfig(igtSchema, 'double-integrator')],
      ['lqg1d+linear-baseline', claimConfig(igtSchema, 'lqg1d', { baseline: 'linear-feature' })],
      ['cartpole+linear-baseline', claimConfig(igtSchema, 'cartpole', { baseline: 'linear-feature' })],
    ];
    for (const [name, cfg] of cases) {
      wins[name] = 0;
      for (const seed of seeds) {
        const v = verdict(cfg, 'npg-igt', seed);
        measured[`${name}_seed${seed}_npg-igt_mean_gap`] = v.ours;
        measured[`${name}_seed${seed}_vanilla_mean_gap`] = v.base;
        measured[`${name}_seed${seed}_npg-igt_step0`] = v.r.ours.step0;
        if (v.ours < v.base) wins[name]++;
      }
    }
    const others = cases
      .slice(1)
      .map(([n]) => `${n} ${wins[n]}/${seeds.length} (${seeds.map((sd) => `${fmtGap(measured[`${n}_seed${sd}_npg-igt_mean_gap`])} vs ${fmtGap(measured[`${n}_seed${sd}_vanilla_mean_gap`])}`).join(', ')})`)
      .join('; ');
    return {
      pass: wins.lqg1d === seeds.length,
      measured,
      summary: `N-PG-IGT had the lower mean gap on 1-D LQG in ${wins.lqg1d}/${seeds.length} seeds (${seeds.map((sd) => `${fmtGap(measured[`lqg1d_seed${sd}_npg-igt_mean_gap`])} vs ${fmtGap(measured[`lqg1d_seed${sd}_vanilla_mean_gap`])}`).join(', ')}; claimed); reported, not claimed: ${others}`,
    };
  },
};

/** Monte Carlo mean and per-trajectory s.d. of the Hessian-aided correction B̂(τ, K)v (optionally with a fixed fitted baseline) against the exact ∇²J(K)v. */
export function hessianCorrectionNoise(env: LqgEnv, K: Float64Array, v: Float64Array, samples: number, rng: Rng, baseline?: LinearFeatureBaseline) {
  const dim = K.length;
  const s = new Float64Array(dim);
  const s2 = new Float64Array(dim);
  const task = lqgTask(env);
  for (let i = 0; i < samples; i++) {
    const tr = task.rollout(K, rng);
    const h = hessianCorrection(task, K, tr, v, 'gpomdp', baseline?.values(tr.states));
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

/** Exact ∇J(K) of an LQG system by central differences of the closed-form return. */
function exactGradient(env: LqgEnv, K: Float64Array): Float64Array {
  return Float64Array.from(K, (_, j) => {
    const kp = Float64Array.from(K);
    const km = Float64Array.from(K);
    kp[j] += 1e-6;
    km[j] -= 1e-6;
    return (expectedReturn(env, kp) - expectedReturn(env, km)) / 2e-6;
  });
}

/**
 * How well N-HARPG's direction tracks the true gradient on LQG: along one N-HARPG run (η_t = 2/(t+2),
 * γ_t = γ₀·2/(t+2)) it also keeps the same recursion without the Hessian correction, d' = (1 − η)d' + η g,
 * and reports the median over the second half of the run of ‖d − ∇J(θ_t)‖, ‖d' − ∇J(θ_t)‖ and
 * ‖g_t − ∇J(θ_t)‖. The correction is worth its extra trajectory only if the first is clearly the smallest.
 */
export function directionTracking(env: LqgEnv, o: { step0: number; iterations: number; baseline: Baseline; theta0: number }, rng: Rng) {
  const task = lqgTask(env);
  const linear = o.baseline === 'linear-feature' ? new LinearFeatureBaseline(task.stateDim, task.horizon) : undefined;
  const learn = (tr: Trajectory) => linear?.fit([{ states: tr.states, returnsToGo: discountedRewardToGo(task.gamma, tr.rewards) }]);
  let theta = new Float64Array(task.dim).fill(o.theta0);
  let prev = Float64Array.from(theta);
  let d: Float64Array | null = null;
  let plain: Float64Array | null = null;
  const errHarpg: number[] = [];
  const errPlain: number[] = [];
  const errSingle: number[] = [];
  for (let t = 0; t < o.iterations; t++) {
    const eta = 2 / (t + 2);
    const tr = task.rollout(theta, rng);
    const g = pgEstimate(task, theta, tr, 'gpomdp', linear?.values(tr.states));
    learn(tr);
    if (!d || !plain) {
      d = g;
      plain = g;
    } else {
      const q = rng.uniform();
      const hat = theta.map((x, i) => q * x + (1 - q) * prev[i]);
      const diff = theta.map((x, i) => x - prev[i]);
      const tr2 = task.rollout(hat, rng);
      const vt = hessianCorrection(task, hat, tr2, diff, 'gpomdp', linear?.values(tr2.states));
      learn(tr2);
      const dPrev: Float64Array = d;
      const pPrev: Float64Array = plain;
      d = dPrev.map((x, i) => (1 - eta) * (x + vt[i]) + eta * g[i]);
      plain = pPrev.map((x, i) => (1 - eta) * x + eta * g[i]);
    }
    if (t >= o.iterations / 2) {
      const G = exactGradient(env, theta);
      errHarpg.push(norm2(d.map((x, i) => x - G[i])));
      errPlain.push(norm2(plain.map((x, i) => x - G[i])));
      errSingle.push(norm2(g.map((x, i) => x - G[i])));
    }
    prev = theta;
    const step = (o.step0 * 2) / (t + 2) / (norm2(d) || 1);
    const dir: Float64Array = d;
    theta = theta.map((x, i) => Math.max(-5, Math.min(5, x + step * dir[i])));
  }
  return { harpg: median(errHarpg), uncorrected: median(errPlain), singleTrajectory: median(errSingle) };
}

/**
 * Pre-registered large-budget protocol of the harpg claim, fixed in code before seeds 3–5 were run. The
 * paper's advantage is a sample-complexity one (Õ(ε⁻²) for N-HARPG vs O(ε⁻³) for vanilla PG), i.e. about
 * the small-ε regime; at the 2000-trajectory budget N-HARPG trails vanilla PG on every task here (the full
 * form keeps measuring that). Protocol: 1-D LQG (H = 20, γ = 0.99), the authors' linear-feature baseline on
 * all arms, 20000 trajectories per run; per claim seed, γ₀ is tuned on 3 tune seeds (mean gap over the
 * run, averaged over them) from grids narrowed around the 2000-trajectory picks, then 7 evaluation runs;
 * metric = the median over those runs of the mean gap J* − J over the run (final gap reported). The 20000
 * budget was chosen after seeing seeds 0–2 (N-HARPG won 3/3); seeds 3–5 are fresh. Pass rule: N-HARPG's
 * mean gap < vanilla's on every fresh seed AND on ≥ 5 of the 6 seeds.
 * Outcome (run after the pre-registration commit d12fe2a): FAILED — fresh seeds 2/3 (seed 3 lost: γ₀ = 0.03
 * picked on its tune seeds, mean gap 0.028 vs 0.006), 5/6 in all; the no-correction ablation N-SGDM had a
 * lower mean gap than N-HARPG on 5/6 seeds. So the claim is asserted at 2000 trajectories (where it fails) and
 * this protocol is reported by the full form.
 */
export const HARPG_LARGE_BUDGET = {
  trajectories: 20000,
  evalRuns: 7,
  tuneSeeds: 3,
  vanillaGrid: [1e-4, 3e-4, 1e-3, 3e-3],
  methodGrid: [0.03, 0.1, 0.3],
  seenSeeds: [0, 1, 2],
  freshSeeds: [3, 4, 5],
} as const;

/** The pre-registered pass rule: N-HARPG wins on every fresh seed and on ≥ 5 of the 6 seeds. */
export function harpgLargeBudgetPass(wins: Record<number, boolean>): boolean {
  const fresh = HARPG_LARGE_BUDGET.freshSeeds.filter((s) => wins[s]).length;
  const all = [...HARPG_LARGE_BUDGET.seenSeeds, ...HARPG_LARGE_BUDGET.freshSeeds].filter((s) => wins[s]).length;
  return fresh === HARPG_LARGE_BUDGET.freshSeeds.length && all >= 5;
}

/** One claim seed of the large-budget protocol: γ₀ tuned per method, then median mean / final gap over the evaluation runs. */
function largeBudgetSeed(seed: number, methods: readonly PgMethod[]) {
  const P = HARPG_LARGE_BUDGET;
  const cfg = claimConfig(harpgSchema, 'lqg1d', { baseline: 'linear-feature', trajectories: P.trajectories, seeds: P.evalRuns, tuneSeeds: P.tuneSeeds });
  const setup = makeTask(cfg.env, cfg.horizon, cfg.gamma, cfg.envFile);
  const out: Partial<Record<PgMethod, { meanGap: number; finalGap: number; step0: number }>> = {};
  for (const method of methods) {
    const grid = method === 'vanilla' ? P.vanillaGrid : P.methodGrid;
    const r = evaluateMethod(setup, method, { ...compareOptions(cfg), stepGrid: [...grid] }, seed);
    out[method] = { meanGap: median(r.meanGaps), finalGap: median(r.finalGaps), step0: r.step0 };
  }
  return out;
}

/**
 * Pre-registered replication of the authors' EXPERIMENT set-up on CartPole (fixed in code, committed, before any
 * of its seeds was run). Sources: the authors' garage fork for the paper (README "The repo hosts the code for the
 * experiments section in paper …"), as stored in the public GitHub index: examples run_PG.py, garage/torch/
 * optimizers/{SGDM,STORMHess,NIGT}_optimizer.py, garage/torch/algos/{STORMHess,NIGT}.py. What they run:
 *  - CartPole-v1 with max_episode_length = 200, discount 0.99 (run_PG.py) — our cart-pole has the same dynamics;
 *  - every method (sgd = vanilla PG, nstormhess = N-HARPG, nsgdm, nigt) with garage's LinearFeatureBaseline,
 *    center_adv = False, gae_lambda = 1: advantages = discount_cumsum reward-to-go − baseline (our 'reward-to-go');
 *  - batches in environment steps for EVERY method: `-batch_size` (run_PG.py default 1000; README example 5000)
 *    whole episodes per gradient estimate, the loss a mean over the batch's steps (our batchSteps); N-HARPG's
 *    Hessian-vector correction from a separate batch of `-hessian_batch_size` steps (run_PG.py default 32, i.e.
 *    one or two whole episodes: our hessianBatchSteps) — so the correction costs a few % of the samples, not the
 *    extra trajectory per update of our single-trajectory runs;
 *  - schedules: sgd γ_t = γ₀(2/(t+2))^{2/3} (SGDMOptimizer, moving_avg = False); nstormhess γ_t = γ₀·2/(t+2),
 *    η_t = η₀·2/(t+2) with η₀ = 1 (STORMHessOptimizer, run_PG.py default eta_0); 1000 epochs by default;
 *  - γ₀ is a command-line argument (README example: -gamma_0 0.1 for sgd, batch 5000); the values behind the
 *    paper's figures are not in these sources, nor is the paper's experiment text (only the abstract is stored).
 * Not expressible here at the time: their policy is a softmax MLP (32, 32, tanh); ours stays the logistic-linear policy
 * (expressible since as env 'cartpole-mlp': HARPG_AUTHORS_MLP, pre-registered on fresh seeds, FAILED).
 * Their baseline is refitted on the last batch; ours is a ridge fit with forgetting (both use earlier batches only).
 * Protocol: CartPole, H = 200, γ = 0.99, θ₀ = 0, clip 50; linear-feature baseline, 'reward-to-go' estimator,
 * batchSteps 1000 for all methods, hessianBatchSteps 32; vanilla γ_t = γ₀(2/(t+2))^{2/3}; N-HARPG γ_t = γ₀·2/(t+2),
 * η_t = 2/(t+2); budget 5000 sampled trajectories per run (all of N-HARPG's, Hessian ones included; ≤ 10⁶ steps =
 * run_PG.py's 1000 epochs × 1000 steps at full-length episodes); γ₀ per method from {0.01, 0.03, 0.1, 0.3, 1, 3,
 * 10}, picked on 3 tune seeds by the lowest mean gap, then 5 evaluation runs; metric per claim seed = median over
 * those runs of the mean gap 200 − R(τ) over all sampled trajectories (final gap = mean over the last 10%, reported).
 * Reported too: N-SGDM (N-HARPG's recursion without the correction). Seeds 10, 11, 12 (fresh). Pass rule: N-HARPG's
 * median mean gap < vanilla's on every one of seeds 10, 11 and 12. Before this was fixed, one timing look on seed 0
 * (single runs, 5000 trajectories, γ₀ 0.01 / 0.1 / 1) chose the grid's range: mean gap vanilla 177 / 166 / 36,
 * N-HARPG 177 / 165 / 63.
 * Outcome (run after the pre-registration commit c03fab5): FAILED — N-HARPG lost to vanilla PG on all 3 seeds.
 * Median mean gap N-HARPG / vanilla / N-SGDM: seed 10: 47.4 / 8.31 / 7.92; seed 11: 69.0 / 10.1 / 6.70; seed 12:
 * 74.2 / 11.5 / 6.42 (final gap 28.8 / 0.17 / 0, 11.7 / 0.014 / 0.024, 38.6 / 0.14 / 0); γ₀ picked on every seed:
 * N-HARPG 1, vanilla 10 (the grid's top), N-SGDM 3. The same recursion without the Hessian correction (N-SGDM)
 * beat vanilla on all 3 seeds: under the authors' batching, momentum + normalization help and the paper's
 * unbiased correction B̂v (from one ≈ 32-step batch, dominated by its ∇Φ·(∇log pᵀv) term) hurts. One difference
 * stays untested: the authors' code builds the correction from batch-mean losses (note at the top of this file),
 * i.e. essentially without that term. (Tested since, pre-registered on fresh seeds: HARPG_AUTHORS_CODE_HESSIAN, FAILED.)
 */
export const HARPG_AUTHORS_CARTPOLE = {
  trajectories: 5000,
  batchSteps: 1000,
  hessianBatchSteps: 32,
  vanillaStepPower: 2 / 3,
  grid: [0.01, 0.03, 0.1, 0.3, 1, 3, 10],
  tuneSeeds: 3,
  evalRuns: 5,
  seeds: [10, 11, 12],
} as const;

/**
 * The pass rule pre-registered for HARPG_AUTHORS_CARTPOLE and HARPG_AUTHORS_CODE_HESSIAN: N-HARPG's median mean
 * gap below vanilla's on every one of the protocol's seeds.
 */
export function harpgWinsEverySeed(protocol: { readonly seeds: readonly number[] }, gaps: Record<number, { 'n-harpg': number; vanilla: number }>): boolean {
  return protocol.seeds.every((s) => gaps[s] !== undefined && gaps[s]['n-harpg'] < gaps[s].vanilla);
}

/**
 * Pre-registered replication with the authors' Hessian term (fixed in code, committed, before any of its seeds was
 * run). HARPG_AUTHORS_CARTPOLE used the paper's unbiased B̂v; the authors' garage code (STORMHessOptimizer.step,
 * `hvp_full_p = hvp[i] + jac[i] * log_probs_grad_scalar`, with `new_loss` and `log_probs_loss` batch means over the
 * Hessian batch's steps) computes authorsCodeHessianTerm instead: (1/M)Σ_k ∇²Φ_k v − (1/M²)(Σ_k ∇Φ_k)(Σ_k ∇log p_kᵀv),
 * M = the batch's steps (≈ 32), i.e. essentially the truncated ∇²Φ v term. Protocol: HARPG_AUTHORS_CARTPOLE
 * unchanged (CartPole H = 200, γ = 0.99, θ₀ = 0, clip 50, linear-feature baseline, 'reward-to-go', batchSteps 1000
 * for all methods, hessianBatchSteps 32, vanilla γ₀(2/(t+2))^{2/3}, N-HARPG γ₀·2/(t+2) and η = 2/(t+2), 5000
 * trajectories, γ₀ from the same grid on 3 tune seeds, 5 evaluation runs, metric = median mean gap 200 − R(τ))
 * except that N-HARPG uses hessianForm 'authors-code'. Fresh seeds 13, 14, 15 (never run before). Pass rule:
 * N-HARPG's median mean gap < vanilla's on every one of seeds 13, 14, 15. N-SGDM (no correction) reported alongside.
 * No tuning or protocol change after results.
 * Outcome (run after the pre-registration commit 4a7d5b6): FAILED — N-HARPG lost to vanilla PG on all 3 seeds, by
 * more than with the paper's B̂v. Median mean gap N-HARPG / vanilla / N-SGDM: seed 13: 124 / 8.69 / 6.61; seed 14:
 * 122 / 9.26 / 10.7; seed 15: 123 / 11.3 / 8.27 (final gap 102 / 0.15 / 0, 96.3 / 0.074 / 0.064, 98.0 / 0.13 /
 * 0.044); γ₀ picked: N-HARPG 0.3 on every seed, vanilla 10 (the grid's top), N-SGDM 3 / 1 / 3. N-SGDM beat vanilla
 * on 2 of 3 seeds. Post-hoc diagnostic (not part of the protocol; no baseline, 32-step batches, 4000 batches): at
 * θ = 0 the authors' term has mean (0.0014, 0.016, −0.0049, −0.035, −0.032) against the unbiased B̂v's (−0.0017,
 * −0.0081, 0.0028, 0.016, −0.010) (standard errors ≤ 0.002), i.e. it is biased for ∇²J v (several components
 * of opposite sign) while its s.d. is 1.3–12× lower; the recursion d = (1 − η)(d + v_t) + η g accumulates that bias.
 */
export const HARPG_AUTHORS_CODE_HESSIAN = {
  ...HARPG_AUTHORS_CARTPOLE,
  hessianForm: 'authors-code' as HessianForm,
  seeds: [13, 14, 15],
} as const;


/**
 * Pre-registered replication with the authors' POLICY (fixed in code, committed, before any of its seeds was run).
 * HARPG_AUTHORS_CARTPOLE and HARPG_AUTHORS_CODE_HESSIAN kept our logistic-linear policy; the authors' run_PG.py uses
 * garage's CategoricalMLPPolicy, hidden sizes (32, 32), tanh, a softmax over CartPole's 2 actions: env 'cartpole-mlp'
 * (envs/cartpole-mlp.ts; 1282 parameters; ∇log π by backpropagation, ∇²log π·v by an exact R-operator pass, both
 * checked against central differences). Protocol: HARPG_AUTHORS_CARTPOLE unchanged (CartPole dynamics, H = 200,
 * γ = 0.99, linear-feature baseline on the 4 state variables, 'reward-to-go', batchSteps 1000 for all methods,
 * hessianBatchSteps 32, vanilla γ_t = γ₀(2/(t+2))^{2/3}, N-HARPG and N-SGDM γ_t = γ₀·2/(t+2) with η_t = 2/(t+2), 5000
 * trajectories per run, γ₀ from {0.01, 0.03, 0.1, 0.3, 1, 3, 10} on 3 tune seeds by the lowest mean gap, then 5
 * evaluation runs, metric = median over them of the mean gap 200 − R(τ) over all sampled trajectories) except:
 *  - the policy is the MLP; θ₀ is not 0 but garage's torch init (Xavier-uniform weights U(±√(6/(fan_in + fan_out))),
 *    zero biases), drawn from each run's Rng before its first rollout (so the methods share the init of a run seed;
 *    the tune and evaluation runs have different inits). The θ-clip 50 applies elementwise to every weight and bias
 *    (in the rollouts and after each update), as for the logistic policy; the init has |θ_i| ≤ 0.42;
 *  - hessianForm 'paper' (the paper's unbiased B̂v), for N-HARPG.
 * Fresh seeds 16, 17, 18 (never run before). Pass rule (harpgWinsEverySeed): N-HARPG's median mean gap < vanilla's
 * on every one of seeds 16, 17, 18. N-SGDM (no correction) reported alongside. No tuning or protocol change after
 * results. Too slow for the claim's full form (single runs take 1.5–14 s, ≈ 78 runs per seed), so it is run by hand
 * (authorsCartpoleSeed(seed, methods, 'paper', 'cartpole-mlp')) and its outcome recorded here.
 * Before this was fixed, one timing look on seed 0 (single runs, 5000 trajectories, γ₀ 0.01 / 0.1 / 1): mean gap
 * vanilla 140 / 10.0 / 13.7, N-HARPG 155 / 43.2 / 183, N-SGDM 155 / 28.7 / 4.8; 3–14 s per run (1.5 s for N-HARPG
 * at γ₀ 1, whose episodes stay short); so the full protocol (≈ 234 runs) fits the time left on 2 processes.
 * Outcome (run after the pre-registration commit 9c2a823; ≈ 15 min on 2 processes): FAILED — N-HARPG lost to vanilla
 * PG on all 3 seeds. Median mean gap N-HARPG / vanilla / N-SGDM: seed 16: 54.2 / 10.1 / 9.18; seed 17: 57.8 / 9.68 /
 * 7.36; seed 18: 57.3 / 7.11 / 6.11 (final gap 6.91 / 0.30 / 0, 49.1 / 0.11 / 0, 38.7 / 0.14 / 0); γ₀ picked: 0.3 for
 * every method on every seed. As with the logistic policy, the same recursion without the Hessian correction (N-SGDM)
 * beat vanilla on all 3 seeds, so the MLP policy does not change the picture: the paper's B̂v from a 32-step batch
 * hurts N-HARPG.
 */
export const HARPG_AUTHORS_MLP = {
  ...HARPG_AUTHORS_CARTPOLE,
  env: 'cartpole-mlp' as TaskName,
  hessianForm: 'paper' as HessianForm,
  seeds: [16, 17, 18],
} as const;

/**
 * One claim seed of HARPG_AUTHORS_CARTPOLE: γ₀ tuned per method, then median mean / final gap over the evaluation
 * runs; with hessianForm 'authors-code', one seed of HARPG_AUTHORS_CODE_HESSIAN (same protocol otherwise); with env
 * 'cartpole-mlp', one seed of HARPG_AUTHORS_MLP.
 */
export function authorsCartpoleSeed(seed: number, methods: readonly PgMethod[] = ['n-harpg', 'vanilla', 'n-sgdm'], hessianForm: HessianForm = 'paper', env: 'cartpole' | 'cartpole-mlp' = 'cartpole') {
  const P = HARPG_AUTHORS_CARTPOLE;
  const cfg = claimConfig(harpgSchema, env, {
    horizon: 200,
    baseline: 'linear-feature',
    estimator: 'reward-to-go',
    trajectories: P.trajectories,
    batchSteps: P.batchSteps,
    hessianBatchSteps: P.hessianBatchSteps,
    vanillaStepPower: P.vanillaStepPower,
    stepGrid: [...P.grid],
    tuneSeeds: P.tuneSeeds,
    seeds: P.evalRuns,
    hessianForm,
  });
  const setup = makeTask(cfg.env, cfg.horizon, cfg.gamma, cfg.envFile);
  const out: Partial<Record<PgMethod, { meanGap: number; finalGap: number; step0: number }>> = {};
  for (const method of methods) {
    const r = evaluateMethod(setup, method, compareOptions(cfg), seed);
    out[method] = { meanGap: median(r.meanGaps), finalGap: median(r.finalGaps), step0: r.step0 };
  }
  return out;
}

/**
 * N-HARPG's claim is the paper's: better return per sampled trajectory than vanilla PG, asserted at the
 * 2000-trajectory budget on 1-D LQG. All arms use the authors' linear-feature state baseline (unbiased, lowers
 * the variance of g and of B̂v alike). It does not reproduce on any of our tasks (listed in
 * test/lab/claims.test.ts as not yet reproduced); the fast form measures the cause: the Hessian-aided
 * correction is unbiased but noisy, tracks ∇J no better than the same recursion without it, and costs a second
 * trajectory per step. The full form also runs the pre-registered large-budget protocol (HARPG_LARGE_BUDGET),
 * which failed its rule on the fresh seeds, so the claim stays at 2000 trajectories; and the pre-registered
 * replication of the authors' experiment set-up on CartPole (HARPG_AUTHORS_CARTPOLE: garage-style batches for all
 * methods, their schedules), where N-HARPG lost to vanilla PG on all 3 fresh seeds; and the same with the Hessian
 * term as the authors' code computes it (HARPG_AUTHORS_CODE_HESSIAN), where it lost on all 3 fresh seeds too. The
 * replication with the authors' softmax-MLP policy (HARPG_AUTHORS_MLP, ≈ 15 min, so not run here) lost on all 3 of
 * its fresh seeds as well (outcome in its doc comment).
 */
const harpgClaim = {
  statement:
    'N-HARPG (authors\' schedules γ_t = γ₀·2/(t+2), η_t = 2/(t+2); one trajectory for g and one for the Hessian-aided correction per iteration) reaches a better return per sampled trajectory than vanilla PG (GPOMDP, tuned constant step), both with a linear-feature state baseline: lower median gap J* − J averaged over a 2000-trajectory budget on 1-D LQG.',
  async fast({ seed }: { seed: number }) {
    const env = lqg1d(20, 0.99);
    const K = Float64Array.of(-0.4);
    // noise of B̂v at K with a linear-feature baseline fitted on 200 other trajectories there
    const fitted = new LinearFeatureBaseline(1, env.horizon, 1);
    const fitRng = new Rng(seed * 31 + 4);
    for (let i = 0; i < 200; i++) {
      const tr = rollout(env, K, fitRng);
      fitted.fit([{ states: tr.states, returnsToGo: discountedRewardToGo(env.gamma, tr.rewards) }]);
    }
    const noise = hessianCorrectionNoise(env, K, Float64Array.of(1), 20000, new Rng(seed * 31 + 5), fitted);
    const unbiased = Math.abs(noise.mc[0] - noise.exact[0]) < 4 * noise.stdErr[0];
    const snr = noise.sd[0] / Math.abs(noise.exact[0]);
    const tracks = [0, 1, 2].map((k) => directionTracking(env, { step0: 0.1, iterations: 1000, baseline: 'linear-feature', theta0: -0.1 }, new Rng(seed * 101 + k)));
    const trackH = median(tracks.map((x) => x.harpg));
    const trackU = median(tracks.map((x) => x.uncorrected));
    const cfg = claimConfig(harpgSchema, 'lqg1d', { seeds: 9, baseline: 'linear-feature' });
    const setup = makeTask(cfg.env, cfg.horizon, cfg.gamma, cfg.envFile);
    const o = compareOptions(cfg);
    const [ours, base, plain] = (['n-harpg', 'vanilla', 'n-sgdm'] as const).map((m) => evaluateMethod(setup, m, o, seed));
    const [gO, gB, gP] = [ours, base, plain].map((r) => median(r.meanGaps));
    return {
      pass: gO < gB,
      measured: {
        'n-harpg_median_mean_gap': gO,
        vanilla_median_mean_gap: gB,
        'n-sgdm_median_mean_gap': gP,
        'n-harpg_median_final_gap': median(ours.finalGaps),
        vanilla_median_final_gap: median(base.finalGaps),
        'n-harpg_step0': ours.step0,
        vanilla_step0: base.step0,
        hessian_unbiased: unbiased,
        hessian_sd_over_mean: snr,
        tracking_error_harpg: trackH,
        tracking_error_uncorrected: trackU,
      },
      summary: `1-D LQG, linear-feature baseline on all arms, 2000 trajectories, 9 seeds: mean gap N-HARPG ${gO.toFixed(4)} vs vanilla ${gB.toFixed(4)} (same recursion without the Hessian correction: ${gP.toFixed(4)}); B̂v unbiased (${noise.mc[0].toFixed(2)} ± ${noise.stdErr[0].toFixed(2)} vs ∇²J v = ${noise.exact[0].toFixed(2)}), per-trajectory s.d./|mean| ${snr.toFixed(1)}; late-run ‖d − ∇J‖ with the correction ${trackH.toFixed(3)} vs without ${trackU.toFixed(3)}, at 2 vs 1 trajectories per step`,
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
      for (let j = 0; j < n.exact.length; j++) ok &&= Math.abs(n.mc[j] - n.exact[j]) < 4 * n.stdErr[j];
      measured[`${p.name}_hessian_sd_over_norm`] = norm2(n.sd) / norm2(n.exact);
    }
    measured.hessian_correction_unbiased = ok ? 1 : 0;
    const wins: Record<string, number> = {};
    let lqgWins = 0;
    for (const task of ALL_TASKS) {
      wins[task] = 0;
      const cfg = claimConfig(harpgSchema, task, { baseline: 'linear-feature' });
      const setup = makeTask(cfg.env, cfg.horizon, cfg.gamma, cfg.envFile);
      const o = compareOptions(cfg);
      for (const seed of seeds) {
        // vanilla, N-HARPG, and the ablation without the Hessian correction (authors' nsgdm), same seeds
        for (const method of ['vanilla', 'n-harpg', 'n-sgdm'] as const) {
          const r = evaluateMethod(setup, method, o, seed);
          measured[`${task}_seed${seed}_${method}_mean_gap`] = median(r.meanGaps);
          measured[`${task}_seed${seed}_${method}_step0`] = r.step0;
        }
        // vanilla PG with the authors' decaying schedule γ_t = γ₀(2/(t+2))^{2/3} instead of a constant step (reported)
        const decayed = evaluateMethod(setup, 'vanilla', { ...o, vanillaStepPower: 2 / 3 }, seed);
        measured[`${task}_seed${seed}_vanilla-decay_mean_gap`] = median(decayed.meanGaps);
        if (measured[`${task}_seed${seed}_n-harpg_mean_gap`] < measured[`${task}_seed${seed}_vanilla_mean_gap`]) {
          wins[task]++;
          if (task === 'lqg1d') lqgWins++;
        }
      }
    }
    // Reported: the pre-registered large-budget protocol (HARPG_LARGE_BUDGET) on its seeds 0–5, with its pass rule.
    const P = HARPG_LARGE_BUDGET;
    const largeSeeds = [...P.seenSeeds, ...P.freshSeeds];
    const largeWins: Record<number, boolean> = {};
    const largeParts: string[] = [];
    for (const seed of largeSeeds) {
      const r = largeBudgetSeed(seed, ['n-harpg', 'vanilla', 'n-sgdm']);
      for (const m of ['n-harpg', 'vanilla', 'n-sgdm'] as const) {
        measured[`lqg1d-20k_seed${seed}_${m}_mean_gap`] = r[m]!.meanGap;
        measured[`lqg1d-20k_seed${seed}_${m}_final_gap`] = r[m]!.finalGap;
        measured[`lqg1d-20k_seed${seed}_${m}_step0`] = r[m]!.step0;
      }
      largeWins[seed] = r['n-harpg']!.meanGap < r.vanilla!.meanGap;
      largeParts.push(`seed ${seed}${(P.freshSeeds as readonly number[]).includes(seed) ? ' (fresh)' : ''} ${(['n-harpg', 'vanilla', 'n-sgdm'] as const).map((m) => `${fmtGap(r[m]!.meanGap)} (final ${fmtGap(r[m]!.finalGap)}, γ₀ ${r[m]!.step0})`).join(' / ')}`);
    }
    const largePass = harpgLargeBudgetPass(largeWins);
    const freshWins = P.freshSeeds.filter((s) => largeWins[s]).length;
    const allWins = largeSeeds.filter((s) => largeWins[s]).length;
    measured['lqg1d-20k_fresh_wins'] = freshWins;
    measured['lqg1d-20k_wins'] = allWins;
    measured['lqg1d-20k_preregistered_pass'] = largePass ? 1 : 0;
    // Reported: the pre-registered replications of the authors' CartPole experiment set-up (HARPG_AUTHORS_CARTPOLE,
    // seeds 10–12) and the same with their code's Hessian term (HARPG_AUTHORS_CODE_HESSIAN, seeds 13–15).
    const authors = reportCartpoleProtocol('cartpole-authors', HARPG_AUTHORS_CARTPOLE, 'paper', measured);
    const code = reportCartpoleProtocol('cartpole-authors-code-hessian', HARPG_AUTHORS_CODE_HESSIAN, HARPG_AUTHORS_CODE_HESSIAN.hessianForm, measured);
    return {
      pass: lqgWins === seeds.length,
      measured,
      summary: `N-HARPG had the lower mean gap than vanilla PG (all arms with the linear-feature baseline) on 1-D LQG in ${lqgWins}/${seeds.length} seeds (claimed); reported: double integrator ${wins['double-integrator']}/${seeds.length}, CartPole ${wins.cartpole}/${seeds.length}. Mean gap per seed, N-HARPG / vanilla / N-SGDM (no Hessian correction) / vanilla with the authors' γ₀(2/(t+2))^{2/3}: ${ALL_TASKS.map((t) => `${t} ${seeds.map((sd) => (['n-harpg', 'vanilla', 'n-sgdm', 'vanilla-decay'] as const).map((m) => fmtGap(measured[`${t}_seed${sd}_${m}_mean_gap`])).join('/')).join(', ')}`).join('; ')}. Pre-registered 20000-trajectory protocol on 1-D LQG (pass = N-HARPG wins every fresh seed 3–5 and ≥ 5/6): ${largePass ? 'PASSED' : 'FAILED'}, fresh ${freshWins}/${P.freshSeeds.length}, all ${allWins}/${largeSeeds.length}; mean gap N-HARPG / vanilla / N-SGDM: ${largeParts.join('; ')}. Hessian correction ${ok ? 'unbiased' : 'BIASED'} with s.d./‖∇²J v‖ = ${measured['lqg1d_hessian_sd_over_norm'].toFixed(0)} (lqg1d), ${measured['double-integrator_hessian_sd_over_norm'].toFixed(0)} (double integrator), without baseline. Pre-registered replication of the authors' CartPole set-up (garage batches of 1000 steps for all methods, 32-step Hessian batch, their schedules, 5000 trajectories; pass = N-HARPG below vanilla on seeds 10–12): ${authors.pass ? 'PASSED' : 'FAILED'}; mean gap N-HARPG / vanilla / N-SGDM: ${authors.parts.join('; ')}. The same with the authors' code's Hessian term (batch-mean losses; pass = N-HARPG below vanilla on fresh seeds 13–15): ${code.pass ? 'PASSED' : 'FAILED'}; mean gap N-HARPG / vanilla / N-SGDM: ${code.parts.join('; ')}`,
    };
  },
};

export const npgIgt = defineExperiment({
  id: 'npg-igt',
  title: 'N-PG-IGT (normalized PG with implicit gradient transport) vs vanilla stochastic PG on LQG and CartPole',
  paper: 'Stochastic Policy Gradient Methods: Improved Sample Complexity for Fisher-non-degenerate Policies',
  kind: 'rl',
  tasks: ['lqg1d', 'double-integrator', 'cartpole', 'cartpole-mlp'],
  schema: igtSchema,
  keyMetric: 'npg-igt/optimality_gap',
  lowerIsBetter: true,
  run: (ctx) => runPgExperiment(ctx as RunContext<PgConfig>, 'npg-igt'),
  claim: igtClaim,
});

/**
 * Runs one pre-registered CartPole protocol on its seeds for the full form's report: per seed and method the median
 * mean / final gap and the picked γ₀ go into `measured` under `<tag>_seed<s>_<method>_…`, plus
 * `<tag>_preregistered_pass`; returns the pass verdict and one summary part per seed.
 */
function reportCartpoleProtocol(tag: string, protocol: { readonly seeds: readonly number[] }, hessianForm: HessianForm, measured: Record<string, number>) {
  const methods = ['n-harpg', 'vanilla', 'n-sgdm'] as const;
  const gaps: Record<number, { 'n-harpg': number; vanilla: number }> = {};
  const parts: string[] = [];
  for (const seed of protocol.seeds) {
    const r = authorsCartpoleSeed(seed, methods, hessianForm);
    for (const m of methods) {
      measured[`${tag}_seed${seed}_${m}_mean_gap`] = r[m]!.meanGap;
      measured[`${tag}_seed${seed}_${m}_final_gap`] = r[m]!.finalGap;
      measured[`${tag}_seed${seed}_${m}_step0`] = r[m]!.step0;
    }
    gaps[seed] = { 'n-harpg': r['n-harpg']!.meanGap, vanilla: r.vanilla!.meanGap };
    parts.push(`seed ${seed} ${methods.map((m) => `${fmtGap(r[m]!.meanGap)} (γ₀ ${r[m]!.step0})`).join(' / ')}`);
  }
  const pass = harpgWinsEverySeed(protocol, gaps);
  measured[`${tag}_preregistered_pass`] = pass ? 1 : 0;
  return { pass, parts };
}

export const harpg = defineExperiment({
  id: 'harpg',
  title: '(N)-HARPG (Hessian-aided recursive PG) vs vanilla stochastic PG on LQG and CartPole',
  paper: 'Stochastic Policy Gradient Methods: Improved Sample Complexity for Fisher-non-degenerate Policies',
  kind: 'rl',
  tasks: ['lqg1d', 'double-integrator', 'cartpole', 'cartpole-mlp'],
  schema: harpgSchema,
  keyMetric: 'n-harpg/optimality_gap',
  lowerIsBetter: true,
  run: (ctx) => runPgExperiment(ctx as RunContext<PgConfig>, (ctx.config as PgConfig).variant ?? 'n-harpg'),
  claim: harpgClaim,
});
