// Cart-pole (the dynamics, horizon and discount of envs/cartpole.ts) with the policy of the HARPG authors'
// experiments: garage's CategoricalMLPPolicy, a softmax over the 2 actions from an MLP 4 → 32 → 32 → 2 with tanh
// hidden layers, π_θ(·|s) = softmax(W₃ tanh(W₂ tanh(W₁s + b₁) + b₂) + b₃). θ = (W₁, b₁, W₂, b₂, W₃, b₃) flattened,
// weights row-major (out × in); 1282 parameters. Initialization as garage's torch modules (hidden_w_init /
// output_w_init = nn.init.xavier_uniform_, biases zero): W ~ U(−a, a), a = √(6/(fan_in + fan_out)), from the run's Rng.
//
// ∇log π(a|s) by backpropagation of δo = e_a − p through the layers; ∇²log π(a|s)·v exactly by Pearlmutter's
// R-operator (forward pass of the directional derivatives R{·} = d/dε (·)(θ + εv), then R of the backward pass).
// Hand-written because the per-step calls (≈ 10⁵ per run) are far too many and too small for the ONNX graph
// autodiff of src/core/graph.
import type { Rng } from '../../../core/rng';
import { cartpoleEpisode } from './cartpole';
import type { PolicyTask, Trajectory } from './task';

export const MLP_HIDDEN = 32;
const S = 4; // state dimension
const A = 2; // actions: 0 = push left, 1 = push right (as envs/cartpole.ts)
const H1 = MLP_HIDDEN;
const H2 = MLP_HIDDEN;

/** Offsets of the layers' weights and biases in θ. */
export const MLP_LAYOUT = (() => {
  const W1 = 0;
  const b1 = W1 + H1 * S;
  const W2 = b1 + H1;
  const b2 = W2 + H2 * H1;
  const W3 = b2 + H2;
  const b3 = W3 + A * H2;
  return { W1, b1, W2, b2, W3, b3, dim: b3 + A };
})();

/** Xavier-uniform weights (a = √(6/(fan_in + fan_out))), zero biases: garage's default torch initialization. */
export function xavierInit(rng: Rng): Float64Array {
  const L = MLP_LAYOUT;
  const theta = new Float64Array(L.dim);
  const fill = (off: number, out: number, inp: number) => {
    const a = Math.sqrt(6 / (inp + out));
    for (let i = 0; i < out * inp; i++) theta[off + i] = rng.range(-a, a);
  };
  fill(L.W1, H1, S);
  fill(L.W2, H2, H1);
  fill(L.W3, A, H2);
  return theta;
}

/** Activations of one forward pass (reused buffers). */
interface Forward {
  h1: Float64Array;
  h2: Float64Array;
  /** Action probabilities p = softmax(o). */
  p: Float64Array;
}

function forward(theta: Float64Array, s: ArrayLike<number>, o: number, f: Forward): void {
  const L = MLP_LAYOUT;
  for (let i = 0; i < H1; i++) {
    let z = theta[L.b1 + i];
    for (let j = 0; j < S; j++) z += theta[L.W1 + i * S + j] * s[o + j];
    f.h1[i] = Math.tanh(z);
  }
  for (let i = 0; i < H2; i++) {
    let z = theta[L.b2 + i];
    for (let j = 0; j < H1; j++) z += theta[L.W2 + i * H1 + j] * f.h1[j];
    f.h2[i] = Math.tanh(z);
  }
  let o0 = theta[L.b3];
  let o1 = theta[L.b3 + 1];
  for (let j = 0; j < H2; j++) {
    o0 += theta[L.W3 + j] * f.h2[j];
    o1 += theta[L.W3 + H2 + j] * f.h2[j];
  }
  // softmax of two logits: p₁ = σ(o₁ − o₀)
  const p1 = 1 / (1 + Math.exp(o0 - o1));
  f.p[0] = 1 - p1;
  f.p[1] = p1;
}

export function cartpoleMlp(horizon = 200, gamma = 0.99): PolicyTask {
  const L = MLP_LAYOUT;
  const f: Forward = { h1: new Float64Array(H1), h2: new Float64Array(H2), p: new Float64Array(A) };
  const dz2 = new Float64Array(H2);
  const dh1 = new Float64Array(H1);
  // R-operator buffers
  const rh1 = new Float64Array(H1);
  const rh2 = new Float64Array(H2);
  const rdz2 = new Float64Array(H2);
  const rdz1 = new Float64Array(H1);
  const dh2 = new Float64Array(H2);
  const rdh2 = new Float64Array(H2);

  /** Adds w·∇log π(a|s) into g, from the activations in f (backpropagation of δo = e_a − p). */
  const addScore = (theta: Float64Array, s: ArrayLike<number>, o: number, a: number, w: number, g: Float64Array) => {
    const do0 = w * ((a === 0 ? 1 : 0) - f.p[0]);
    const do1 = w * ((a === 1 ? 1 : 0) - f.p[1]);
    g[L.b3] += do0;
    g[L.b3 + 1] += do1;
    for (let j = 0; j < H2; j++) {
      g[L.W3 + j] += do0 * f.h2[j];
      g[L.W3 + H2 + j] += do1 * f.h2[j];
      // δz₂ = (W₃ᵀδo) ⊙ (1 − h₂²)
      dz2[j] = (theta[L.W3 + j] * do0 + theta[L.W3 + H2 + j] * do1) * (1 - f.h2[j] * f.h2[j]);
    }
    dh1.fill(0);
    for (let i = 0; i < H2; i++) {
      const d = dz2[i];
      g[L.b2 + i] += d;
      const row = L.W2 + i * H1;
      for (let j = 0; j < H1; j++) {
        g[row + j] += d * f.h1[j];
        dh1[j] += theta[row + j] * d;
      }
    }
    for (let i = 0; i < H1; i++) {
      const d = dh1[i] * (1 - f.h1[i] * f.h1[i]);
      g[L.b1 + i] += d;
      for (let j = 0; j < S; j++) g[L.W1 + i * S + j] += d * s[o + j];
    }
  };

  /** Adds w·∇²log π(a|s)·v into out (R-operator of the backward pass above), from the activations in f. */
  const addHvp = (theta: Float64Array, s: ArrayLike<number>, o: number, a: number, w: number, v: Float64Array, out: Float64Array) => {
    // forward R-pass: R{z₁} = V₁s + c₁, R{h₁} = (1 − h₁²)R{z₁}, R{z₂} = V₂h₁ + W₂R{h₁} + c₂, R{h₂}, R{o} = V₃h₂ + W₃R{h₂} + c₃
    for (let i = 0; i < H1; i++) {
      let rz = v[L.b1 + i];
      for (let j = 0; j < S; j++) rz += v[L.W1 + i * S + j] * s[o + j];
      rh1[i] = (1 - f.h1[i] * f.h1[i]) * rz;
    }
    for (let i = 0; i < H2; i++) {
      let rz = v[L.b2 + i];
      const row = L.W2 + i * H1;
      for (let j = 0; j < H1; j++) rz += v[row + j] * f.h1[j] + theta[row + j] * rh1[j];
      rh2[i] = (1 - f.h2[i] * f.h2[i]) * rz;
    }
    let ro0 = v[L.b3];
    let ro1 = v[L.b3 + 1];
    for (let j = 0; j < H2; j++) {
      ro0 += v[L.W3 + j] * f.h2[j] + theta[L.W3 + j] * rh2[j];
      ro1 += v[L.W3 + H2 + j] * f.h2[j] + theta[L.W3 + H2 + j] * rh2[j];
    }
    // R{p} = p ⊙ (R{o} − pᵀR{o}); δo = e_a − p, so R{δo} = −R{p}
    const pro = f.p[0] * ro0 + f.p[1] * ro1;
    const do0 = (a === 0 ? 1 : 0) - f.p[0];
    const do1 = (a === 1 ? 1 : 0) - f.p[1];
    const rdo0 = -f.p[0] * (ro0 - pro);
    const rdo1 = -f.p[1] * (ro1 - pro);
    // output layer: R{∇W₃} = R{δo}h₂ᵀ + δo R{h₂}ᵀ, R{∇b₃} = R{δo}
    out[L.b3] += w * rdo0;
    out[L.b3 + 1] += w * rdo1;
    for (let j = 0; j < H2; j++) {
      out[L.W3 + j] += w * (rdo0 * f.h2[j] + do0 * rh2[j]);
      out[L.W3 + H2 + j] += w * (rdo1 * f.h2[j] + do1 * rh2[j]);
      // δh₂ = W₃ᵀδo; R{δh₂} = V₃ᵀδo + W₃ᵀR{δo}; δz₂ = δh₂(1 − h₂²); R{δz₂} = R{δh₂}(1 − h₂²) − 2δh₂h₂R{h₂}
      dh2[j] = theta[L.W3 + j] * do0 + theta[L.W3 + H2 + j] * do1;
      rdh2[j] = v[L.W3 + j] * do0 + v[L.W3 + H2 + j] * do1 + theta[L.W3 + j] * rdo0 + theta[L.W3 + H2 + j] * rdo1;
      dz2[j] = dh2[j] * (1 - f.h2[j] * f.h2[j]);
      rdz2[j] = rdh2[j] * (1 - f.h2[j] * f.h2[j]) - 2 * dh2[j] * f.h2[j] * rh2[j];
    }
    // second layer: R{∇W₂} = R{δz₂}h₁ᵀ + δz₂R{h₁}ᵀ; δh₁ = W₂ᵀδz₂, R{δh₁} = V₂ᵀδz₂ + W₂ᵀR{δz₂}
    dh1.fill(0);
    rdz1.fill(0); // holds R{δh₁} until converted below
    for (let i = 0; i < H2; i++) {
      const row = L.W2 + i * H1;
      out[L.b2 + i] += w * rdz2[i];
      for (let j = 0; j < H1; j++) {
        out[row + j] += w * (rdz2[i] * f.h1[j] + dz2[i] * rh1[j]);
        dh1[j] += theta[row + j] * dz2[i];
        rdz1[j] += v[row + j] * dz2[i] + theta[row + j] * rdz2[i];
      }
    }
    // first layer: R{δz₁} = R{δh₁}(1 − h₁²) − 2δh₁h₁R{h₁}; R{∇W₁} = R{δz₁}sᵀ (s is data), R{∇b₁} = R{δz₁}
    for (let i = 0; i < H1; i++) {
      const r = rdz1[i] * (1 - f.h1[i] * f.h1[i]) - 2 * dh1[i] * f.h1[i] * rh1[i];
      out[L.b1 + i] += w * r;
      for (let j = 0; j < S; j++) out[L.W1 + i * S + j] += w * r * s[o + j];
    }
  };

  return {
    name: 'cartpole-mlp',
    dim: L.dim,
    stateDim: S,
    horizon,
    gamma,
    initialTheta: xavierInit,
    rollout(theta: Float64Array, rng: Rng): Trajectory {
      return cartpoleEpisode(horizon, rng, (st) => {
        forward(theta, st, 0, f);
        return f.p[1];
      });
    },
    weightedScore(theta, tr, w) {
      const g = new Float64Array(L.dim);
      for (let h = 0; h < tr.rewards.length; h++) {
        if (w[h] === 0) continue;
        forward(theta, tr.states, h * S, f);
        addScore(theta, tr.states, h * S, tr.actions[h], w[h], g);
      }
      return g;
    },
    addWeightedScoreHvp(theta, tr, w, v, out) {
      for (let h = 0; h < tr.rewards.length; h++) {
        if (w[h] === 0) continue;
        forward(theta, tr.states, h * S, f);
        addHvp(theta, tr.states, h * S, tr.actions[h], w[h], v, out);
      }
    },
  };
}
