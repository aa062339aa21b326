// Classic cart-pole balancing (Barto, Sutton & Anderson 1983; the dynamics and constants of gym's
// CartPole-v1): state s = (x, ẋ, ϑ, ϑ̇), two actions (push left / right with 10 N), Euler steps of
// 0.02 s, reward 1 per step, the episode ends when |x| > 2.4 or |ϑ| > 12° or after `horizon` steps
// (200 in the paper authors' runs). Policy: logistic in linear features, π_θ(a=1|s) = σ(θᵀφ(s)),
// φ(s) = (x, ẋ, ϑ, ϑ̇, 1), so ∇log π = (a − p)φ and ∇²log π = −p(1 − p)φφᵀ in closed form.
import type { Rng } from '../../../core/rng';
import type { PolicyTask, Trajectory } from './task';

const GRAVITY = 9.8;
const MASS_CART = 1.0;
const MASS_POLE = 0.1;
const TOTAL_MASS = MASS_CART + MASS_POLE;
const HALF_LENGTH = 0.5;
const POLE_MASS_LENGTH = MASS_POLE * HALF_LENGTH;
const FORCE = 10;
const TAU = 0.02;
const X_LIMIT = 2.4;
const ANGLE_LIMIT = (12 * 2 * Math.PI) / 360;

export const CARTPOLE_FEATURES = 5;

/** One Euler step of the cart-pole dynamics in place; returns whether the state left the allowed region. */
export function cartpoleStep(s: Float64Array, action: number): boolean {
  const [x, xDot, th, thDot] = s;
  const force = action === 1 ? FORCE : -FORCE;
  const cos = Math.cos(th);
  const sin = Math.sin(th);
  const temp = (force + POLE_MASS_LENGTH * thDot * thDot * sin) / TOTAL_MASS;
  const thAcc = (GRAVITY * sin - cos * temp) / (HALF_LENGTH * (4 / 3 - (MASS_POLE * cos * cos) / TOTAL_MASS));
  const xAcc = temp - (POLE_MASS_LENGTH * thAcc * cos) / TOTAL_MASS;
  s[0] = x + TAU * xDot;
  s[1] = xDot + TAU * xAcc;
  s[2] = th + TAU * thDot;
  s[3] = thDot + TAU * thAcc;
  return Math.abs(s[0]) > X_LIMIT || Math.abs(s[2]) > ANGLE_LIMIT;
}

/**
 * One episode from s₀ ~ U(±0.05)⁴ under a policy given by its push-right probability π(a = 1 | s): the state
 * before each action, the actions, reward 1 per step; ends on leaving the region or after `horizon` steps.
 */
export function cartpoleEpisode(horizon: number, rng: Rng, pushRight: (s: Float64Array) => number): Trajectory {
  const states = new Float64Array(horizon * 4);
  const actions = new Float64Array(horizon);
  const s = Float64Array.from({ length: 4 }, () => rng.range(-0.05, 0.05));
  let len = 0;
  while (len < horizon) {
    states.set(s, len * 4);
    const a = rng.uniform() < pushRight(s) ? 1 : 0;
    actions[len++] = a;
    if (cartpoleStep(s, a)) break;
  }
  return { states: states.slice(0, len * 4), actions: actions.slice(0, len), rewards: new Float64Array(len).fill(1) };
}

/** p = π_θ(a = 1 | s) = σ(θᵀφ(s)). */
function pushRightProb(theta: Float64Array, s: ArrayLike<number>, o: number): number {
  const z = theta[0] * s[o] + theta[1] * s[o + 1] + theta[2] * s[o + 2] + theta[3] * s[o + 3] + theta[4];
  return 1 / (1 + Math.exp(-z));
}

export function cartpole(horizon = 200, gamma = 0.99): PolicyTask {
  return {
    name: 'cartpole',
    dim: CARTPOLE_FEATURES,
    stateDim: 4,
    horizon,
    gamma,
    rollout(theta: Float64Array, rng: Rng): Trajectory {
      return cartpoleEpisode(horizon, rng, (st) => pushRightProb(theta, st, 0));
    },
    weightedScore(theta, tr, w) {
      const g = new Float64Array(CARTPOLE_FEATURES);
      for (let h = 0; h < tr.rewards.length; h++) {
        const o = h * 4;
        const c = w[h] * (tr.actions[h] - pushRightProb(theta, tr.states, o));
        for (let j = 0; j < 4; j++) g[j] += c * tr.states[o + j];
        g[4] += c;
      }
      return g;
    },
    addWeightedScoreHvp(theta, tr, w, v, out) {
      for (let h = 0; h < tr.rewards.length; h++) {
        const o = h * 4;
        const p = pushRightProb(theta, tr.states, o);
        let phiV = v[4];
        for (let j = 0; j < 4; j++) phiV += tr.states[o + j] * v[j];
        const c = -w[h] * p * (1 - p) * phiV;
        for (let j = 0; j < 4; j++) out[j] += c * tr.states[o + j];
        out[4] += c;
      }
    },
  };
}
