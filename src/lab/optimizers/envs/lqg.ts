// Linear-quadratic-Gaussian control with a linear-Gaussian policy (potion's `lqg1d` style, spec
// optimizers.md §24): s' = A s + B a + w, w ~ N(0, σ_w² I), reward r = −½(sᵀQs + aᵀRa) with
// Q = qI, R = rI, s₀ ~ N(0, σ₀² I), horizon H, discount γ. Policy a ~ N(K s, σ² I), θ = vec(K)
// (row-major m×n). Its Fisher information is non-degenerate (σ > 0 fixed), as the paper requires.
// The expected return J(K) has a closed form through the state covariance recursion, so progress
// can be measured exactly.
import { readFileSync } from 'node:fs';
import type { Rng } from '../../../core/rng';
import { discountedRewardToGo, type PolicyTask, type Trajectory } from './task';

export type { Trajectory } from './task';

export interface LqgEnv {
  n: number;
  m: number;
  A: Float64Array;
  B: Float64Array;
  q: number;
  r: number;
  noiseStd: number;
  initStd: number;
  policyStd: number;
  horizon: number;
  gamma: number;
}

export function lqg1d(horizon = 20, gamma = 0.99): LqgEnv {
  return { n: 1, m: 1, A: Float64Array.of(1), B: Float64Array.of(1), q: 1, r: 1, noiseStd: 0.1, initStd: 1, policyStd: Math.sqrt(0.1), horizon, gamma };
}

/** Discretized double integrator (position, velocity), force input, dt = 0.1. */
export function doubleIntegrator(horizon = 30, gamma = 0.99): LqgEnv {
  return { n: 2, m: 1, A: Float64Array.of(1, 0.1, 0, 1), B: Float64Array.of(0, 0.1), q: 1, r: 0.1, noiseStd: 0.05, initStd: 1, policyStd: 0.3, horizon, gamma };
}

function matMul(a: Float64Array, b: Float64Array, r: number, k: number, c: number): Float64Array {
  const o = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) {
    let s = 0;
    for (let l = 0; l < k; l++) s += a[i * k + l] * b[l * c + j];
    o[i * c + j] = s;
  }
  return o;
}

function transpose(a: Float64Array, r: number, c: number): Float64Array {
  const o = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) o[j * r + i] = a[i * c + j];
  return o;
}

/**
 * Exact expected discounted return J(K) = Σ_h γ^h E[r_h] with Σ₀ = σ₀²I,
 * E r_h = −½ q tr Σ_h − ½ r (tr(KΣ_hKᵀ) + mσ²), Σ_{h+1} = (A+BK)Σ_h(A+BK)ᵀ + σ²BBᵀ + σ_w²I.
 */
export function expectedReturn(env: LqgEnv, K: Float64Array): number {
  const { n, m } = env;
  const closed = matMul(env.B, K, n, m, n);
  for (let i = 0; i < n * n; i++) closed[i] += env.A[i];
  const closedT = transpose(closed, n, n);
  const BBt = matMul(env.B, transpose(env.B, n, m), n, m, n);
  const Kt = transpose(K, m, n);
  let S: Float64Array = new Float64Array(n * n);
  for (let i = 0; i < n; i++) S[i * n + i] = env.initStd ** 2;
  let J = 0;
  let disc = 1;
  for (let h = 0; h < env.horizon; h++) {
    let trS = 0;
    for (let i = 0; i < n; i++) trS += S[i * n + i];
    const KSKt = matMul(matMul(K, S, m, n, n), Kt, m, n, m);
    let trK = 0;
    for (let i = 0; i < m; i++) trK += KSKt[i * m + i];
    J += disc * (-0.5 * env.q * trS - 0.5 * env.r * (trK + m * env.policyStd ** 2));
    disc *= env.gamma;
    S = matMul(matMul(closed, S, n, n, n), closedT, n, n, n);
    for (let i = 0; i < n * n; i++) S[i] += env.policyStd ** 2 * BBt[i];
    for (let i = 0; i < n; i++) S[i * n + i] += env.noiseStd ** 2;
  }
  return Number.isFinite(J) ? J : -Infinity;
}

export function rollout(env: LqgEnv, K: Float64Array, rng: Rng): Trajectory {
  const { n, m, horizon: H } = env;
  const states = new Float64Array(H * n);
  const actions = new Float64Array(H * m);
  const rewards = new Float64Array(H);
  const s = Float64Array.from({ length: n }, () => env.initStd * rng.normal());
  for (let h = 0; h < H; h++) {
    states.set(s, h * n);
    const a = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let mu = 0;
      for (let j = 0; j < n; j++) mu += K[i * n + j] * s[j];
      a[i] = mu + env.policyStd * rng.normal();
    }
    actions.set(a, h * m);
    let cost = 0;
    for (let j = 0; j < n; j++) cost += env.q * s[j] * s[j];
    for (let i = 0; i < m; i++) cost += env.r * a[i] * a[i];
    rewards[h] = -0.5 * cost;
    const next = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let v = env.noiseStd * rng.normal();
      for (let l = 0; l < n; l++) v += env.A[j * n + l] * s[l];
      for (let i = 0; i < m; i++) v += env.B[j * m + i] * a[i];
      next[j] = v;
    }
    s.set(next);
  }
  return { states, actions, rewards };
}

/** ∇_K log π(a|s) = (a − Ks)sᵀ/σ², added (times `scale`) into out (m×n). */
export function addScore(env: LqgEnv, K: Float64Array, s: Float64Array, a: Float64Array, scale: number, out: Float64Array): void {
  const { n, m } = env;
  const inv = 1 / env.policyStd ** 2;
  for (let i = 0; i < m; i++) {
    let mu = 0;
    for (let j = 0; j < n; j++) mu += K[i * n + j] * s[j];
    const c = scale * (a[i] - mu) * inv;
    for (let j = 0; j < n; j++) out[i * n + j] += c * s[j];
  }
}

/** ∇²_K log π(a|s)[V] = −V s sᵀ/σ², added (times `scale`) into out. */
export function addScoreHvp(env: LqgEnv, s: Float64Array, V: Float64Array, scale: number, out: Float64Array): void {
  const { n, m } = env;
  const inv = 1 / env.policyStd ** 2;
  for (let i = 0; i < m; i++) {
    let vs = 0;
    for (let j = 0; j < n; j++) vs += V[i * n + j] * s[j];
    for (let j = 0; j < n; j++) out[i * n + j] -= scale * inv * vs * s[j];
  }
}

/** Reward-to-go R_h = Σ_{h' ≥ h} γ^{h'} r_{h'} (discounted from time 0, as in GPOMDP). */
export function rewardToGo(env: LqgEnv, rewards: Float64Array): Float64Array {
  return discountedRewardToGo(env.gamma, rewards);
}

/** ∇Φ_τ(K) with Φ_τ(K) = Σ_h w_h log π_K(a_h|s_h), for weights w_h (reward-to-go: GPOMDP; total return: REINFORCE). */
export function weightedScore(env: LqgEnv, K: Float64Array, tr: Trajectory, weights: ArrayLike<number>): Float64Array {
  const { n, m } = env;
  const g = new Float64Array(m * n);
  for (let h = 0; h < env.horizon; h++) addScore(env, K, tr.states.subarray(h * n, h * n + n), tr.actions.subarray(h * m, h * m + m), weights[h], g);
  return g;
}

/**
 * Reads an LQG system from JSON: {"A": [[…]] (n×n), "B": [[…]] (n×m), "q", "r", "noiseStd", "initStd",
 * "policyStd"} (scalars optional, defaults as lqg1d). Errors name the field and the expected shape.
 */
export function readLqgFile(path: string, horizon: number, gamma: number): LqgEnv {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`envFile: cannot read '${path}' as JSON (${(e as Error).message})`, { cause: e });
  }
  const matrix = (key: string, rows: number | null, cols: number | null): { data: Float64Array; rows: number; cols: number } => {
    const v = raw[key];
    if (!Array.isArray(v) || v.length === 0 || !v.every((r) => Array.isArray(r))) throw new Error(`envFile: '${path}' needs "${key}" as a 2-D array`);
    const R = v.length;
    const C = (v[0] as unknown[]).length;
    if ((rows !== null && R !== rows) || (cols !== null && C !== cols)) throw new Error(`envFile: "${key}" in '${path}' is ${R}×${C}, expected ${rows ?? 'n'}×${cols ?? 'm'}`);
    const data = new Float64Array(R * C);
    (v as unknown[][]).forEach((row, i) => {
      if (row.length !== C) throw new Error(`envFile: "${key}" row ${i} in '${path}' has ${row.length} entries, expected ${C}`);
      row.forEach((x, j) => {
        if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`envFile: "${key}"[${i}][${j}] in '${path}' is not a finite number`);
        data[i * C + j] = x;
      });
    });
    return { data, rows: R, cols: C };
  };
  const A = matrix('A', null, null);
  if (A.rows !== A.cols) throw new Error(`envFile: "A" in '${path}' must be square, got ${A.rows}×${A.cols}`);
  const B = matrix('B', A.rows, null);
  const scalar = (key: string, dflt: number, positive: boolean) => {
    const v = raw[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || (positive ? v <= 0 : v < 0)) throw new Error(`envFile: "${key}" in '${path}' must be a ${positive ? 'positive' : 'non-negative'} number`);
    return v;
  };
  return {
    n: A.rows,
    m: B.cols,
    A: A.data,
    B: B.data,
    q: scalar('q', 1, false),
    r: scalar('r', 1, false),
    noiseStd: scalar('noiseStd', 0.1, false),
    initStd: scalar('initStd', 1, false),
    policyStd: scalar('policyStd', Math.sqrt(0.1), true),
    horizon,
    gamma,
  };
}

/** The LQG system as a policy-gradient task, θ = vec(K). */
export function lqgTask(env: LqgEnv, name = 'lqg'): PolicyTask {
  const { n } = env;
  return {
    name,
    dim: env.n * env.m,
    stateDim: n,
    horizon: env.horizon,
    gamma: env.gamma,
    rollout: (K, rng) => rollout(env, K, rng),
    weightedScore: (K, tr, w) => weightedScore(env, K, tr, w),
    addWeightedScoreHvp(_K, tr, w, v, out) {
      for (let h = 0; h < tr.rewards.length; h++) addScoreHvp(env, tr.states.subarray(h * n, h * n + n), v, w[h], out);
    },
  };
}
