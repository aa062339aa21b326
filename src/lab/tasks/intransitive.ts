// The intransitive preference game (specs/alignment.md §2.1, §2.5): K responses, a pairwise
// preference matrix P with P + Pᵀ = 1 built on a rock-paper-scissors cycle (which no Bradley–Terry
// reward can represent), a reference policy, and the β-regularized game's exact quantities.
import type { Rng } from '../../core/rng';
import { logSumExp } from '../../core/linalg/logsumexp';

export interface PreferenceGame {
  /** Number of responses K. */
  size: number;
  /** Row-major K×K, P[i*K+j] = P(y_i ≻ y_j), P + Pᵀ = 1, diagonal ½. */
  P: Float64Array;
  /** Reference policy π_ref (strictly positive). */
  ref: Float64Array;
}

/** Dirichlet(1,…,1) draw: normalized Exp(1) variables. */
function dirichletOnes(rng: Rng, k: number): Float64Array {
  const x = new Float64Array(k);
  let s = 0;
  for (let i = 0; i < k; i++) {
    x[i] = -Math.log(1 - rng.uniform());
    s += x[i];
  }
  for (let i = 0; i < k; i++) x[i] = Math.max(x[i] / s, 1e-6);
  const t = x.reduce((a, b) => a + b, 0);
  return x.map((v) => v / t);
}

/**
 * Rock-paper-scissors core on responses 0,1,2 (y0 ≻ y1 ≻ y2 ≻ y0 with probability `strength`), the other
 * responses placed by a random antisymmetric perturbation; entries clipped to [0.1, 0.9].
 */
export function makeIntransitiveGame(rng: Rng, size = 5, strength = 0.9, perturbation = 0.2): PreferenceGame {
  if (size < 3) throw new Error(`intransitive game: size must be >= 3 (a preference cycle needs 3 responses), got ${size}`);
  const P = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    P[i * size + i] = 0.5;
    for (let j = i + 1; j < size; j++) {
      let p = 0.5 + perturbation * (rng.uniform() - 0.5) * 2;
      if (i < 3 && j < 3) p = (j - i === 1 ? strength : 1 - strength) + 0.05 * (rng.uniform() - 0.5);
      p = Math.min(0.9, Math.max(0.1, p));
      P[i * size + j] = p;
      P[j * size + i] = 1 - p;
    }
  }
  return { size, P, ref: dirichletOnes(rng, size) };
}

/** True if some triple i ≻ j ≻ k ≻ i (all > ½): no scalar (Bradley–Terry) reward orders such responses. */
export function hasPreferenceCycle(g: PreferenceGame): boolean {
  const K = g.size;
  const beats = (i: number, j: number) => g.P[i * K + j] > 0.5;
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) for (let k = 0; k < K; k++) if (beats(i, j) && beats(j, k) && beats(k, i)) return true;
  return false;
}

/** g = P π, i.e. g_y = P(y ≻ π): one "preference query batch" against π. */
export function preferenceAgainst(g: PreferenceGame, pi: Float64Array, out = new Float64Array(g.size)): Float64Array {
  const K = g.size;
  for (let i = 0; i < K; i++) {
    let s = 0;
    for (let j = 0; j < K; j++) s += g.P[i * K + j] * pi[j];
    out[i] = s;
  }
  return out;
}

/** Normalize log-weights into a policy (softmax). */
export function softmaxFromLogits(logits: Float64Array): Float64Array {
  const lse = logSumExp(logits);
  return logits.map((v) => Math.exp(v - lse));
}

/** KL(p ‖ q) for strictly positive q. */
export function kl(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) s += p[i] * Math.log(p[i] / q[i]);
  return Math.max(s, 0);
}

/**
 * Exploitability of π in the β-regularized game: max_π′ P_β(π′ ≻ π) − ½, where
 * P_β(π′ ≻ π) = π′ᵀPπ − β KL(π′‖ref) + β KL(π‖ref). The max over π′ has the closed form
 * β log Σ_y ref(y) exp(P(y ≻ π)/β) (the Gibbs variational principle).
 */
export function exploitability(g: PreferenceGame, pi: Float64Array, beta: number): number {
  const pref = preferenceAgainst(g, pi);
  const logits = new Float64Array(g.size);
  for (let y = 0; y < g.size; y++) logits[y] = Math.log(g.ref[y]) + pref[y] / beta;
  return beta * logSumExp(logits) + beta * kl(pi, g.ref) - 0.5;
}

/**
 * Residual of the equilibrium condition π = softmax(log ref + Pπ/β) (the regularized best response to itself),
 * in max-norm. Zero exactly at the unique symmetric Nash equilibrium π*_β.
 */
export function equilibriumResidual(g: PreferenceGame, pi: Float64Array, beta: number): number {
  const pref = preferenceAgainst(g, pi);
  const logits = new Float64Array(g.size);
  for (let y = 0; y < g.size; y++) logits[y] = Math.log(g.ref[y]) + pref[y] / beta;
  const br = softmaxFromLogits(logits);
  let m = 0;
  for (let y = 0; y < g.size; y++) m = Math.max(m, Math.abs(br[y] - pi[y]));
  return m;
}

/**
 * π*_β to machine precision. Extragradient in log space (KL geometry, step 1) is a contraction with
 * factor 1/(1+β) on this strongly monotone game; it is run until the equilibrium residual, which
 * certifies the answer independently of how it was found, stops improving.
 */
export function solveRegularizedNash(g: PreferenceGame, beta: number, maxIter = 100_000): { pi: Float64Array; residual: number } {
  const K = g.size;
  const eta = 1;
  let pi: Float64Array = Float64Array.from(g.ref);
  const logits = new Float64Array(K);
  const step = (anchor: Float64Array, opponent: Float64Array) => {
    const pref = preferenceAgainst(g, opponent);
    for (let y = 0; y < K; y++) logits[y] = (Math.log(anchor[y]) + eta * beta * Math.log(g.ref[y]) + eta * pref[y]) / (1 + eta * beta);
    return softmaxFromLogits(logits);
  };
  let best = { pi, residual: equilibriumResidual(g, pi, beta) };
  for (let it = 1; it <= maxIter && best.residual > 1e-15; it++) {
    pi = step(pi, step(pi, pi));
    if (it % 20 === 0) {
      const r = equilibriumResidual(g, pi, beta);
      if (r < best.residual) best = { pi, residual: r };
      else if (it > 2000) break;
    }
  }
  return best;
}

/** Least-squares slope and R² of y against x. */
export function linearFit(x: number[], y: number[]): { slope: number; intercept: number; r2: number } {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}
