// What a policy-gradient method needs from a control task with a parametric policy π_θ: sampling
// a trajectory, and per-step weighted sums of ∇log π and of ∇²log π·v along it (the pieces of the
// GPOMDP gradient and of HARPG's Hessian-aided correction). Implemented by the LQG tasks
// (linear-Gaussian policy, envs/lqg.ts), CartPole (logistic policy, envs/cartpole.ts) and CartPole with the
// authors' softmax-MLP policy (envs/cartpole-mlp.ts).
import type { Rng } from '../../../core/rng';

export interface Trajectory {
  /** States s_h (L × stateDim), actions a_h (L × actionDim), rewards r_h (L); L ≤ horizon (episodes may end early). */
  states: Float64Array;
  actions: Float64Array;
  rewards: Float64Array;
}

export interface PolicyTask {
  name: string;
  /** Number of policy parameters θ. */
  dim: number;
  stateDim: number;
  /** Maximum episode length H and discount γ. */
  horizon: number;
  gamma: number;
  /** The policy's initial parameters drawn from the run's Rng (the MLP policy's random init); absent: every entry θ₀ (PgRunOptions.theta0). */
  initialTheta?: (rng: Rng) => Float64Array;
  rollout(theta: Float64Array, rng: Rng): Trajectory;
  /** Σ_h w_h ∇_θ log π_θ(a_h|s_h). */
  weightedScore(theta: Float64Array, tr: Trajectory, weights: ArrayLike<number>): Float64Array;
  /** Adds Σ_h w_h ∇²_θ log π_θ(a_h|s_h) v into out. */
  addWeightedScoreHvp(theta: Float64Array, tr: Trajectory, weights: ArrayLike<number>, v: Float64Array, out: Float64Array): void;
}

/** Discounted reward-to-go R_h = Σ_{h' ≥ h} γ^{h'} r_{h'} (discounted from time 0, as in GPOMDP). */
export function discountedRewardToGo(gamma: number, rewards: Float64Array): Float64Array {
  const H = rewards.length;
  const R = new Float64Array(H);
  let acc = 0;
  for (let h = H - 1; h >= 0; h--) {
    acc += Math.pow(gamma, h) * rewards[h];
    R[h] = acc;
  }
  return R;
}

/** Reward-to-go discounted from each step, A_h = Σ_{h' ≥ h} γ^{h'−h} r_{h'} (garage's discount_cumsum). */
export function discountCumsum(gamma: number, rewards: Float64Array): Float64Array {
  const H = rewards.length;
  const R = new Float64Array(H);
  let acc = 0;
  for (let h = H - 1; h >= 0; h--) {
    acc = rewards[h] + gamma * acc;
    R[h] = acc;
  }
  return R;
}
