// k-level structured sparsity via the Weighted Group Sparse Envelope Function (WGSEF)
// (Refael, Arbel, Huleihel), spec optimizers.md §14.
// SEF s_k = convex envelope of ½‖·‖² + indicator{‖·‖₀ ≤ k} = ½(k-support norm)². WGSEF applies it to
// the vector of weighted group norms u_j = w_j‖θ_{G_j}‖. Its prox reduces to the vector prox of
// λ s_k on u (groups are rescaled by p_j/u_j), which has the k-support structure: the top k−r−1
// entries are scaled by a common factor, a middle block shifted by a common threshold, the rest
// set to 0. Training: proximal gradient (FISTA) θ ← prox_{ηλΩ_k}(θ − η∇L). Baseline: group lasso.
// Problems: (a) group-sparse linear/logistic regression (groups of features); (b) an MLP d→h→2 whose
// groups are the hidden neurons (incoming weights and bias), trained by prox-Adam from a shared dense
// pre-trained network, keeping k neurons; its synthetic labels are even "bumps" that need 2 neurons each. Each regularizer's λ is searched (geometric path, then
// bisection, same number of fits) for the least-shrunk model with at most k groups.
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../../core/experiment';
import { encodeNpy } from '../../core/io/npy';
import { log1pExp, sigmoid } from '../../core/linalg/logistic';
import { Rng } from '../../core/rng';
import { loadDataset, mean, median, splitRows, type Dataset } from './data';
import { mlpProblem, type Problem } from './lr-refine';

/** Indices of |v| sorted decreasingly. */
function sortedOrder(v: ArrayLike<number>): number[] {
  const idx = Array.from({ length: v.length }, (_, i) => i);
  idx.sort((a, b) => Math.abs(v[b]) - Math.abs(v[a]));
  return idx;
}

/**
 * s_k(u) = ½(‖u‖^{sp}_k)² in closed form: with |u| sorted decreasingly (1-based u₍ᵢ₎, u₍₀₎ = ∞), the unique
 * r ∈ {0..k−1} with u₍k−r−1₎ > (1/(r+1)) Σ_{i≥k−r} u₍ᵢ₎ ≥ u₍k−r₎ gives
 * s_k = ½ Σ_{i<k−r} u₍ᵢ₎² + (Σ_{i≥k−r} u₍ᵢ₎)² / (2(r+1)).
 */
export function sparseEnvelope(u: ArrayLike<number>, k: number): number {
  const m = u.length;
  if (!(k >= 1 && k <= m)) throw new Error(`sparseEnvelope: k must be in 1..${m}, got ${k}`);
  const z = sortedOrder(u).map((i) => Math.abs(u[i]));
  const at = (i: number) => (i <= 0 ? Infinity : z[i - 1]); // 1-based
  let tail = 0; // Σ_{i ≥ k−r} z_i, grown as r increases
  for (let i = k; i <= m; i++) tail += at(i);
  for (let r = 0; r < k; r++) {
    if (r > 0) tail += at(k - r);
    const avg = tail / (r + 1);
    if (at(k - r - 1) > avg - 1e-12 * avg && avg >= at(k - r) - 1e-12 * avg) {
      let head = 0;
      for (let i = 1; i < k - r; i++) head += at(i) ** 2;
      return 0.5 * head + (tail * tail) / (2 * (r + 1));
    }
  }
  // numerically tied case: r = k−1 puts everything in the averaged block
  return (tail * tail) / (2 * k);
}

/**
 * prox_{λ s_k}(v) = argmin_p ½‖p − v‖² + λ s_k(p) (Argyriou, Foygel, Srebro 2012, Alg. 1 with β = 1/λ):
 * sort |v| decreasingly (z₁ ≥ … ≥ z_m, z₀ = +∞, z_{m+1} = −∞), find r ∈ {0..k−1}, ℓ ∈ {k..m} with
 *   z_{k−r−1}/(β+1) > T/D ≥ z_{k−r}/(β+1)  and  z_ℓ > T/D ≥ z_{ℓ+1},
 *   T = Σ_{i=k−r}^{ℓ} z_i, D = ℓ − k + (β+1)r + β + 1;
 * then p_i = β/(β+1)·z_i (i < k−r), z_i − T/D (k−r ≤ i ≤ ℓ), 0 (i > ℓ); signs restored.
 * Cost O(m log m): the sort, then for each r a binary search for ℓ (O(k log m)).
 */
export function proxSparseEnvelope(v: ArrayLike<number>, k: number, lambda: number): Float64Array {
  const m = v.length;
  if (!(k >= 1 && k <= m)) throw new Error(`proxSparseEnvelope: k must be in 1..${m}, got ${k}`);
  const out = new Float64Array(m);
  if (lambda === 0) {
    for (let i = 0; i < m; i++) out[i] = v[i];
    return out;
  }
  const order = sortedOrder(v);
  const z = order.map((i) => Math.abs(v[i]));
  const at = (i: number) => (i <= 0 ? Infinity : i > m ? -Infinity : z[i - 1]);
  const beta = 1 / lambda;
  let found: { r: number; l: number; thr: number } | null = null;
  const prefix = new Float64Array(m + 1); // prefix[i] = z_1 + … + z_i
  for (let i = 1; i <= m; i++) prefix[i] = prefix[i - 1] + z[i - 1];
  const tol = 1e-12 * (z[0] || 1); // the tests compare a computed average with one of its summands
  const thrOf = (r: number, l: number) => (prefix[l] - prefix[k - r - 1]) / (l - k + (beta + 1) * r + beta + 1);
  for (let r = 0; r < k && !found; r++) {
    // P(ℓ): z_ℓ > T/D holds for ℓ = k..ℓ* and fails after (the threshold is a running weighted
    // average of the z's), and at ℓ* the second test T/D ≥ z_{ℓ*+1} holds: binary search for ℓ*.
    if (!(at(k) > thrOf(r, k) - tol)) continue;
    let lo = k;
    let hi = m;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (at(mid) > thrOf(r, mid) - tol) lo = mid;
      else hi = mid - 1;
    }
    const thr = thrOf(r, lo);
    if (at(k - r - 1) / (beta + 1) > thr - tol && thr >= at(k - r) / (beta + 1) - tol) found = { r, l: lo, thr };
  }
  if (!found) {
    // ties in |v| can make every strict inequality fail by rounding; fall back to the r = k−1, ℓ = m block
    let T = 0;
    for (let i = 1; i <= m; i++) T += z[i - 1];
    found = { r: k - 1, l: m, thr: T / (m - k + (beta + 1) * (k - 1) + beta + 1) };
  }
  const { r, l, thr } = found;
  for (let i = 1; i <= m; i++) {
    const zi = z[i - 1];
    let p: number;
    if (i < k - r) p = (beta / (beta + 1)) * zi;
    else if (i <= l) p = Math.max(zi - thr, 0);
    else p = 0;
    const j = order[i - 1];
    out[j] = Math.sign(v[j]) * p;
  }
  return out;
}

export interface GroupSpec {
  /** Group index of each parameter; −1 = not penalized (e.g. an MLP's output weights). */
  groupOf: Int32Array;
  /** Number of groups. */
  m: number;
  /** Group weights w_j. */
  weights: Float64Array;
}

export function groupNorms(theta: Float64Array, g: GroupSpec): Float64Array {
  const s = new Float64Array(g.m);
  for (let i = 0; i < theta.length; i++) {
    const j = g.groupOf[i];
    if (j >= 0) s[j] += theta[i] * theta[i];
  }
  for (let j = 0; j < g.m; j++) s[j] = Math.sqrt(s[j]);
  return s;
}

/**
 * 'sef-minus-ridge': R(u) = s_k(u) − ½‖u‖² ≥ 0, zero exactly on k-sparse u (Beck–Refael bidual
 * regularizer; the paper calls its problem non-convex — our reading, unverified). 'sef': R = s_k (convex).
 */
export type WgsefPenalty = 'sef-minus-ridge' | 'sef';

/**
 * prox of λR on the group-norm vector u. For R = s_k − ½‖·‖² and λ < 1:
 * argmin ½‖p − u‖² + λ s_k(p) − (λ/2)‖p‖² = prox_{(λ/(1−λ)) s_k}(u/(1−λ)).
 */
export function proxPenalty(u: ArrayLike<number>, k: number, lambda: number, penalty: WgsefPenalty): Float64Array {
  if (penalty === 'sef') return proxSparseEnvelope(u, k, lambda);
  if (!(lambda < 1)) throw new Error(`proxPenalty: step·λ must be < 1 for the non-convex s_k − ½‖·‖² penalty, got ${lambda}`);
  return proxSparseEnvelope(Float64Array.from(u, (v) => v / (1 - lambda)), k, lambda / (1 - lambda));
}

/** θ_{G_j} ← scale_j·θ_{G_j}; unpenalized parameters are left alone. In place. */
function scaleGroups(theta: Float64Array, g: GroupSpec, scale: Float64Array): Float64Array {
  for (let i = 0; i < theta.length; i++) {
    const j = g.groupOf[i];
    if (j >= 0) theta[i] *= scale[j];
  }
  return theta;
}

/** WGSEF prox: prox of λR on u_j = w_j‖θ_{G_j}‖, then θ_{G_j} ← (p_j/u_j)·θ_{G_j}. In place. */
export function proxWgsef(theta: Float64Array, g: GroupSpec, k: number, lambda: number, penalty: WgsefPenalty = 'sef-minus-ridge'): Float64Array {
  const norms = groupNorms(theta, g);
  const u = Float64Array.from(norms, (v, j) => v * g.weights[j]);
  const p = proxPenalty(u, k, lambda, penalty);
  const scale = Float64Array.from(u, (v, j) => (v > 0 ? p[j] / v : 0));
  return scaleGroups(theta, g, scale);
}

/** Group-lasso prox of λ Σ_j w_j‖θ_{G_j}‖: θ_{G_j} ← max(0, 1 − λw_j/‖θ_{G_j}‖)·θ_{G_j}. In place. */
export function proxGroupLasso(theta: Float64Array, g: GroupSpec, lambda: number): Float64Array {
  const norms = groupNorms(theta, g);
  const scale = Float64Array.from(norms, (v, j) => (v > 0 ? Math.max(0, 1 - (lambda * g.weights[j]) / v) : 0));
  return scaleGroups(theta, g, scale);
}

export type LossKind = 'squared' | 'logistic';

/** Data loss L(θ) = (1/n) Σ ℓ(a_iᵀθ, y_i) (squared: ½(aᵀθ − y)²; logistic: log(1 + e^{−y aᵀθ})); gradient into grad. */
export function dataLoss(ds: Dataset, loss: LossKind, theta: Float64Array, grad?: Float64Array): number {
  const { X, y, n, d } = ds;
  if (grad) grad.fill(0);
  let s = 0;
  for (let i = 0; i < n; i++) {
    let a = 0;
    for (let j = 0; j < d; j++) a += X[i * d + j] * theta[j];
    let c: number;
    if (loss === 'squared') {
      const r = a - y[i];
      s += 0.5 * r * r;
      c = r;
    } else {
      const mg = y[i] * a;
      s += log1pExp(-mg);
      c = -y[i] * sigmoid(-mg);
    }
    if (grad) {
      const cn = c / n;
      for (let j = 0; j < d; j++) grad[j] += cn * X[i * d + j];
    }
  }
  return s / n;
}

/** Smoothness bound of L: λ_max(XᵀX)/n (× ¼ for logistic), by power iteration. */
export function smoothness(ds: Dataset, loss: LossKind, rng: Rng): number {
  const { X, n, d } = ds;
  const v = rng.fillNormal(new Float64Array(d));
  let lam = 0;
  for (let it = 0; it < 100; it++) {
    const xv = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xv[i] += X[i * d + j] * v[j];
    const w = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) w[j] += X[i * d + j] * xv[i];
    const nw = Math.hypot(...w);
    lam = nw;
    for (let j = 0; j < d; j++) v[j] = w[j] / nw;
  }
  return (lam / n) * (loss === 'logistic' ? 0.25 : 1) * 1.01;
}

export type Regularizer = { kind: 'wgsef'; k: number; lambda: number; penalty: WgsefPenalty } | { kind: 'group-lasso'; lambda: number };

/** θ ← prox_{ηλΩ}(θ) for the regularizer's Ω. In place. */
function applyProx(theta: Float64Array, g: GroupSpec, reg: Regularizer, eta: number): Float64Array {
  return reg.kind === 'wgsef' ? proxWgsef(theta, g, reg.k, eta * reg.lambda, reg.penalty) : proxGroupLasso(theta, g, eta * reg.lambda);
}

/** FISTA on L(θ) + λΩ(θ) from a warm start; returns θ. */
export function fitProximal(ds: Dataset, loss: LossKind, g: GroupSpec, reg: Regularizer, L: number, iters: number, start?: Float64Array): Float64Array {
  const d = ds.d;
  const eta = 1 / L;
  let x = start ? Float64Array.from(start) : new Float64Array(d);
  const yv = Float64Array.from(x);
  const grad = new Float64Array(d);
  let t = 1;
  for (let k = 0; k < iters; k++) {
    dataLoss(ds, loss, yv, grad);
    const xn = new Float64Array(d);
    for (let j = 0; j < d; j++) xn[j] = yv[j] - eta * grad[j];
    applyProx(xn, g, reg, eta);
    const tn = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    for (let j = 0; j < d; j++) yv[j] = xn[j] + ((t - 1) / tn) * (xn[j] - x[j]);
    x = xn;
    t = tn;
  }
  return x;
}

export function countGroups(theta: Float64Array, g: GroupSpec, tol = 1e-10): number {
  return groupNorms(theta, g).reduce((a, v) => a + (v > tol ? 1 : 0), 0);
}

/** Group-sparse linear data: m groups of size s, k* active groups with N(0,1) coefficients, a ~ N(0, I). */
export function groupSparseData(rng: Rng, n: number, m: number, size: number, kTrue: number, noise: number, loss: LossKind): { ds: Dataset; thetaTrue: Float64Array; active: Set<number> } {
  const d = m * size;
  const groups = rng.shuffle(Array.from({ length: m }, (_, j) => j)).slice(0, kTrue);
  const thetaTrue = new Float64Array(d);
  for (const j of groups) for (let i = 0; i < size; i++) thetaTrue[j * size + i] = rng.normal();
  const X = rng.fillNormal(new Float64Array(n * d));
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let a = 0;
    for (let j = 0; j < d; j++) a += X[i * d + j] * thetaTrue[j];
    if (loss === 'squared') y[i] = a + noise * rng.normal();
    else y[i] = rng.uniform() < sigmoid(a / Math.max(noise, 1e-12)) ? 1 : -1; // noise = temperature of the labels
  }
  return { ds: { X, y, n, d }, thetaTrue, active: new Set(groups) };
}

export function contiguousGroups(d: number, size: number, weighting: 'uniform' | 'sqrt-size'): GroupSpec {
  if (d % size !== 0) throw new Error(`groupSize: ${size} does not divide the number of features ${d}`);
  const m = d / size;
  const groupOf = new Int32Array(d);
  for (let i = 0; i < d; i++) groupOf[i] = Math.floor(i / size);
  return { groupOf, m, weights: new Float64Array(m).fill(weighting === 'uniform' ? 1 : Math.sqrt(size)) };
}

export interface PathResult {
  lambda: number;
  theta: Float64Array;
  groups: number;
  fits: number;
}

/**
 * Smallest λ (geometric path by factors of 4, then bisection in log λ) at which `fit` keeps at most k groups:
 * the least-biased model at the preset sparsity. Starts at `lambdaStart`; if that keeps more than k groups
 * the path goes up (never above `lambdaMax`), otherwise down. Each fit warm-starts from the last fit that kept
 * ≤ k groups (going down) or from the previous one (going up); every regularizer gets `fits` fits in all.
 */
export function searchLambda(fit: (lambda: number, start?: Float64Array) => Float64Array, count: (theta: Float64Array) => number, k: number, lambdaStart: number, lambdaMax: number, fits: number, check?: () => void): PathResult {
  let hi = Math.min(lambdaStart, lambdaMax);
  let thetaHi = fit(hi);
  let used = 1;
  let lo = hi;
  let found = false;
  if (count(thetaHi) > k) {
    // too many groups: raise λ until at most k survive
    while (used < fits && count(thetaHi) > k && hi < lambdaMax) {
      check?.();
      lo = hi;
      hi = Math.min(hi * 4, lambdaMax);
      thetaHi = fit(hi, thetaHi);
      used++;
    }
    found = count(thetaHi) <= k && lo < hi;
  } else {
    // geometric path downward until more than k groups survive
    while (used < fits) {
      check?.();
      lo = hi / 4;
      const th = fit(lo, thetaHi);
      used++;
      if (count(th) > k) {
        found = true;
        break;
      }
      hi = lo;
      thetaHi = th;
    }
  }
  // bisection in log λ between lo (too many groups) and hi (≤ k groups)
  while (found && used < fits) {
    check?.();
    const mid = Math.sqrt(lo * hi);
    const th = fit(mid, thetaHi);
    used++;
    if (count(th) > k) lo = mid;
    else {
      hi = mid;
      thetaHi = th;
    }
  }
  return { lambda: hi, theta: thetaHi, groups: count(thetaHi), fits: used };
}

/** searchLambda for the linear problems, fitted by FISTA. */
export function lambdaForSparsity(ds: Dataset, loss: LossKind, g: GroupSpec, make: (lambda: number) => Regularizer, k: number, lambdaHi: number, L: number, iters: number, fits: number, check?: () => void): PathResult {
  return searchLambda(
    (lambda, start) => fitProximal(ds, loss, g, make(lambda), L, iters, start),
    (th) => countGroups(th, g),
    k,
    lambdaHi,
    lambdaHi,
    fits,
    check,
  );
}

/** Test metric: MSE (squared loss) or classification accuracy (logistic). */
export function testMetric(ds: Dataset, loss: LossKind, theta: Float64Array): number {
  const { X, y, n, d } = ds;
  let s = 0;
  for (let i = 0; i < n; i++) {
    let a = 0;
    for (let j = 0; j < d; j++) a += X[i * d + j] * theta[j];
    s += loss === 'squared' ? (a - y[i]) ** 2 : a * y[i] > 0 ? 1 : 0;
  }
  return s / n;
}

function supportF1(theta: Float64Array, g: GroupSpec, active: Set<number>): number {
  const norms = groupNorms(theta, g);
  let tp = 0;
  let fp = 0;
  norms.forEach((v, j) => {
    if (v > 1e-10) {
      if (active.has(j)) tp++;
      else fp++;
    }
  });
  const fn = active.size - tp;
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

export interface CompareResult {
  wgsef: { lambda: number; groups: number; metric: number; f1: number; theta: Float64Array };
  groupLasso: { lambda: number; groups: number; metric: number; f1: number; theta: Float64Array };
}

/** λ_max of the group lasso: max_j ‖∇_{G_j} L(0)‖ / w_j (above it every group is zero). */
function groupLassoLambdaMax(ds: Dataset, loss: LossKind, g: GroupSpec): number {
  const grad = new Float64Array(ds.d);
  dataLoss(ds, loss, new Float64Array(ds.d), grad);
  const norms = groupNorms(grad, g);
  return Math.max(...Array.from(norms, (v, j) => v / g.weights[j]));
}

export function compareAtSparsity(train: Dataset, test: Dataset, loss: LossKind, g: GroupSpec, k: number, iters: number, fits: number, rng: Rng, penalty: WgsefPenalty, active?: Set<number>, check?: () => void): CompareResult {
  const L = smoothness(train, loss, rng);
  const lmax = groupLassoLambdaMax(train, loss, g);
  // WGSEF keeps ≥ k groups for every λ. The non-convex penalty needs step·λ = λ/L < 1; the convex
  // envelope starts where its ridge part dominates the loss curvature.
  const w = lambdaForSparsity(train, loss, g, (lambda) => ({ kind: 'wgsef', k, lambda, penalty }), k, penalty === 'sef' ? 64 * L : 0.95 * L, L, iters, fits, check);
  const gl = lambdaForSparsity(train, loss, g, (lambda) => ({ kind: 'group-lasso', lambda }), k, lmax, L, iters, fits, check);
  const pack = (r: PathResult) => ({ lambda: r.lambda, groups: r.groups, metric: testMetric(test, loss, r.theta), f1: active ? supportF1(r.theta, g, active) : NaN, theta: r.theta });
  return { wgsef: pack(w), groupLasso: pack(gl) };
}

// ---- (b) k-level neuron sparsity of a one-hidden-layer MLP ----

/**
 * Groups = hidden neurons of lr-refine's one-hidden-layer tanh MLP, parameters [W (h×d), b (h), v (h), c]:
 * group j = incoming weights W_{j·} and bias b_j (uniform weights, equal sizes). A neuron with a zero group
 * outputs tanh(0) = 0, so it can be removed. Output weights v, c are not penalized.
 */
export function neuronGroups(d: number, hidden: number): GroupSpec {
  const groupOf = new Int32Array(hidden * d + 2 * hidden + 1).fill(-1);
  for (let j = 0; j < hidden; j++) {
    for (let q = 0; q < d; q++) groupOf[j * d + q] = j;
    groupOf[hidden * d + j] = j;
  }
  return { groupOf, m: hidden, weights: new Float64Array(hidden).fill(1) };
}

export interface ProxAdamOptions {
  lr: number;
  iters: number;
  /** Coupled ℓ2 term (wd/2)‖θ‖² on every parameter, part of the loss for both regularizers (default 0). */
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
}

/**
 * Full-batch prox-Adam: the Adam step (Kingma & Ba, bias-corrected moments) on the loss, then the prox of
 * the regularizer with the same scalar step: θ ← prox_{ηλΩ}(θ − η m̂/(√v̂ + ε)). reg = null trains the dense net.
 */
export function fitProxAdam(problem: Problem, g: GroupSpec, reg: Regularizer | null, o: ProxAdamOptions, start: Float64Array, check?: () => void): Float64Array {
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  const eps = o.eps ?? 1e-8;
  const theta = Float64Array.from(start);
  const grad = new Float64Array(theta.length);
  const m = new Float64Array(theta.length);
  const v = new Float64Array(theta.length);
  for (let t = 1; t <= o.iters; t++) {
    if (t % 50 === 0) check?.();
    problem.loss(theta, grad);
    const wd = o.weightDecay ?? 0;
    if (wd > 0) for (let i = 0; i < theta.length; i++) grad[i] += wd * theta[i];
    const c1 = 1 / (1 - b1 ** t);
    const c2 = 1 / (1 - b2 ** t);
    for (let i = 0; i < theta.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * grad[i];
      v[i] = b2 * v[i] + (1 - b2) * grad[i] * grad[i];
      theta[i] -= (o.lr * m[i] * c1) / (Math.sqrt(v[i] * c2) + eps);
    }
    if (reg) applyProx(theta, g, reg, o.lr);
  }
  return theta;
}

/** Classification accuracy: the per-example logistic loss log(1 + e^{−y f(x)}) is below log 2 exactly when y f(x) > 0. */
export function problemAccuracy(problem: Problem, theta: Float64Array): number {
  let correct = 0;
  const one = [0];
  for (let i = 0; i < problem.n; i++) {
    one[0] = i;
    if (problem.loss(theta, undefined, one) < Math.LN2) correct++;
  }
  return correct / problem.n;
}

export interface MlpCompareOptions {
  hidden: number;
  k: number;
  lr: number;
  pretrainIters: number;
  iters: number;
  fits: number;
  penalty: WgsefPenalty;
  weightDecay: number;
}

export interface MlpCompareResult {
  dense: { trainAccuracy: number; testAccuracy: number };
  wgsef: { lambda: number; groups: number; testAccuracy: number; theta: Float64Array };
  groupLasso: { lambda: number; groups: number; testAccuracy: number; theta: Float64Array };
}

/**
 * Pre-trains the dense MLP with Adam, then for each regularizer searches λ (same number of prox-Adam fits,
 * each from the dense network) for the least-regularized network keeping at most k neurons; compares held-out accuracy.
 * The group-lasso path starts at the largest pre-trained neuron norm per unit of total shrinkage (λ·η·iters),
 * WGSEF at ηλ = 0.95 (near the projection onto k groups; the non-convex prox needs ηλ < 1).
 */
export function compareMlpAtSparsity(train: Dataset, test: Dataset, o: MlpCompareOptions, rng: Rng, check?: () => void): MlpCompareResult {
  const problem = mlpProblem(train, o.hidden);
  const testProblem = mlpProblem(test, o.hidden);
  const g = neuronGroups(train.d, o.hidden);
  if (o.k > g.m) throw new Error(`k: preset sparsity ${o.k} exceeds the number of hidden neurons ${g.m}`);
  const dense = fitProxAdam(problem, g, null, { lr: o.lr, iters: o.pretrainIters, weightDecay: o.weightDecay }, problem.init(rng), check);
  const count = (th: Float64Array) => countGroups(th, g);
  const search = (make: (lambda: number) => Regularizer, start: number, max: number) =>
    // every fit starts from the dense network: on this non-convex problem a warm start from a sparser fit
    // would keep its dead neurons dead and make the neuron count depend on the search path, not on λ
    searchLambda((lambda) => fitProxAdam(problem, g, make(lambda), { lr: o.lr, iters: o.iters, weightDecay: o.weightDecay }, dense, check), count, o.k, start, max, o.fits, check);
  const wMax = o.penalty === 'sef' ? 64 / o.lr : 0.95 / o.lr;
  const w = search((lambda) => ({ kind: 'wgsef', k: o.k, lambda, penalty: o.penalty }), wMax, wMax);
  const glStart = Math.max(...groupNorms(dense, g)) / (o.lr * o.iters);
  const gl = search((lambda) => ({ kind: 'group-lasso', lambda }), glStart, Infinity);
  const pack = (r: PathResult) => ({ lambda: r.lambda, groups: r.groups, testAccuracy: problemAccuracy(testProblem, r.theta), theta: r.theta });
  return {
    dense: { trainAccuracy: problemAccuracy(problem, dense), testAccuracy: problemAccuracy(testProblem, dense) },
    wgsef: pack(w),
    groupLasso: pack(gl),
  };
}

/**
 * Synthetic data that needs its hidden neurons: x ~ N(0, I_d), f(x) = Σ_{j<B} s_j·[tanh(2(w_jᵀx − 1)) − tanh(2(w_jᵀx + 1))]
 * with unit directions w_j and signs s_j, labels y = sign(f(x) − median f) with a fraction flipped. Each term is
 * an even bump along w_j (no linear part, so a linear classifier is near chance) written with two tanh neurons:
 * a network with 2B neurons represents f exactly, fewer neurons must drop bumps.
 */
export function bumpTeacherData(rng: Rng, n: number, d: number, bumps: number, flip: number): Dataset {
  const W = new Float64Array(bumps * d);
  for (let j = 0; j < bumps; j++) {
    const w = rng.fillNormal(new Float64Array(d));
    const nw = Math.hypot(...w);
    for (let q = 0; q < d; q++) W[j * d + q] = w[q] / nw;
  }
  const signs = Float64Array.from({ length: bumps }, (_, j) => (j % 2 === 0 ? 1 : -1));
  const X = rng.fillNormal(new Float64Array(n * d));
  const f = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < bumps; j++) {
      let a = 0;
      for (let q = 0; q < d; q++) a += W[j * d + q] * X[i * d + q];
      f[i] += signs[j] * (Math.tanh(2 * (a - 1)) - Math.tanh(2 * (a + 1)));
    }
  }
  const mid = median(Array.from(f));
  const y = Float64Array.from(f, (v) => (v >= mid ? 1 : -1) * (rng.uniform() < flip ? -1 : 1));
  return { X, y, n, d };
}

const schema = z
  .object({
    dataX: z.string().default('').describe('X (n×d) as .npy or .json; empty = generate group-sparse data. The last testFraction of rows is held out'),
    dataY: z.string().default('').describe('targets (real for squared loss, {0,1}/{−1,+1} for logistic) as .npy or .json'),
    model: z
      .enum(['linear', 'mlp'])
      .default('linear')
      .describe('linear model with groups of features, or an MLP inputs→hidden→2 whose groups are the hidden neurons (incoming weights + bias), trained by prox-Adam'),
    loss: z.enum(['squared', 'logistic']).default('squared').describe('linear model: regression or logistic classification (the MLP is always a two-class logistic classifier)'),
    groups: z.number().int().min(2).max(2000).default(50).describe('generated number of groups m'),
    groupSize: z.number().int().min(1).max(100).default(5).describe('features per group (contiguous); must divide d for file data'),
    activeGroups: z.number().int().min(1).default(5).describe('generated number of truly active groups k*'),
    n: z.number().int().min(0).max(100000).default(0).describe('generated training examples; 0 = 200 for the linear model, 1000 for the MLP'),
    nTest: z.number().int().min(10).max(100000).default(1000).describe('generated held-out examples'),
    testFraction: z.number().gt(0).lt(1).default(0.3).describe('fraction of file rows held out for testing'),
    noise: z.number().min(0).default(0.1).describe('generated noise: std for squared loss, label temperature for logistic'),
    k: z.number().int().min(0).default(0).describe('preset sparsity: number of surviving groups (neurons for the MLP); 0 = 5 for the linear model, 8 for the MLP'),
    penalty: z
      .enum(['sef-minus-ridge', 'sef'])
      .default('sef-minus-ridge')
      .describe('WGSEF penalty: s_k − ½‖·‖² (zero on k-group-sparse θ, non-convex; our reading of the paper, unverified) or the convex envelope s_k'),
    weighting: z
      .enum(['uniform', 'sqrt-size'])
      .default('uniform')
      .describe('group weights w_j; non-uniform weights are handled by rescaling group norms (our reading of the paper; unverified)'),
    iters: z.number().int().min(10).default(300).describe('iterations per fit: FISTA for the linear model (warm-started along the λ path), prox-Adam for the MLP (each from the dense network)'),
    fits: z.number().int().min(2).max(200).default(16).describe('fits per regularizer for the λ search (same for both)'),
    inputs: z.number().int().min(1).max(1000).default(20).describe('MLP: generated input dimension'),
    bumps: z.number().int().min(1).max(100).default(4).describe('MLP: even bumps along random directions in the generated labels; each needs 2 tanh neurons'),
    hidden: z.number().int().min(1).max(1024).default(64).describe('MLP: hidden neurons = groups'),
    labelFlip: z.number().min(0).max(0.5).default(0.05).describe('MLP: fraction of generated labels flipped'),
    lr: z.number().positive().max(1).default(0.01).describe('MLP: Adam step η (the prox uses the same η)'),
    pretrainIters: z.number().int().min(0).default(500).describe('MLP: full-batch Adam iterations of the shared dense network'),
    weightDecay: z.number().min(0).default(0.01).describe('MLP: ℓ2 term (wd/2)‖θ‖² in the loss of both methods and of the dense network'),
  })
  .strict();
type Config = z.infer<typeof schema>;

async function runMlp(ctx: RunContext<Config>) {
  const c = ctx.config;
  const n = c.n || 1000;
  const k = c.k || 8;
  let train: Dataset;
  let test: Dataset;
  if (c.dataX) {
    const ds = loadDataset(c.dataX, c.dataY, { xField: 'dataX', yField: 'dataY', labels: 'binary' });
    ({ train, test } = splitRows(ds, Math.max(2, Math.round(ds.n * (1 - c.testFraction)))));
  } else {
    ({ train, test } = splitRows(bumpTeacherData(ctx.rng.fork(), n + c.nTest, c.inputs, c.bumps, c.labelFlip), n));
  }
  if (k > c.hidden) throw new Error(`k: preset sparsity ${k} exceeds the number of hidden neurons ${c.hidden}`);
  const t0 = performance.now();
  let step = 0;
  const total = c.pretrainIters / 50 + (2 * c.fits * c.iters) / 50;
  const res = compareMlpAtSparsity(train, test, { hidden: c.hidden, k, lr: c.lr, pretrainIters: c.pretrainIters, iters: c.iters, fits: c.fits, penalty: c.penalty, weightDecay: c.weightDecay }, ctx.rng.fork(), () => {
    ctx.throwIfCancelled();
    ctx.progress(Math.min(++step, total), total);
  });
  ctx.log(1, {
    'dense/test_accuracy': res.dense.testAccuracy,
    'wgsef/test_accuracy': res.wgsef.testAccuracy,
    'wgsef/groups': res.wgsef.groups,
    'wgsef/lambda': res.wgsef.lambda,
    'group_lasso/test_accuracy': res.groupLasso.testAccuracy,
    'group_lasso/groups': res.groupLasso.groups,
    'group_lasso/lambda': res.groupLasso.lambda,
    wall_s: (performance.now() - t0) / 1000,
  });
  const dim = res.wgsef.theta.length;
  const W = new Float64Array(2 * dim);
  W.set(res.wgsef.theta, 0);
  W.set(res.groupLasso.theta, dim);
  ctx.artifact('parameters.npy', encodeNpy(W, [2, dim]));
  const summary = {
    model: 'mlp',
    k,
    metric: 'test_accuracy',
    layout: `[W (${c.hidden}×${train.d}), b (${c.hidden}), v (${c.hidden}), c] per row of parameters.npy (wgsef, group_lasso)`,
    dense: { train_accuracy: res.dense.trainAccuracy, test_accuracy: res.dense.testAccuracy },
    wgsef: { lambda: res.wgsef.lambda, groups: res.wgsef.groups, test_accuracy: res.wgsef.testAccuracy },
    group_lasso: { lambda: res.groupLasso.lambda, groups: res.groupLasso.groups, test_accuracy: res.groupLasso.testAccuracy },
  };
  ctx.artifact('summary.json', summary);
  return summary;
}

async function run(ctx: RunContext<Config>) {
  if (ctx.config.model === 'mlp') return runMlp(ctx);
  const c = { ...ctx.config, n: ctx.config.n || 200, k: ctx.config.k || 5 };
  let train: Dataset;
  let test: Dataset;
  let active: Set<number> | undefined;
  if (c.dataX) {
    const ds = loadDataset(c.dataX, c.dataY, { xField: 'dataX', yField: 'dataY', labels: c.loss === 'logistic' ? 'binary' : 'real' });
    if (ds.d % c.groupSize !== 0) throw new Error(`groupSize: ${c.groupSize} does not divide the ${ds.d} columns of '${c.dataX}'`);
    const nTrain = Math.max(2, Math.round(ds.n * (1 - c.testFraction)));
    ({ train, test } = splitRows(ds, nTrain));
  } else {
    const gen = groupSparseData(ctx.rng.fork(), c.n + c.nTest, c.groups, c.groupSize, Math.min(c.activeGroups, c.groups), c.noise, c.loss);
    ({ train, test } = splitRows(gen.ds, c.n));
    active = gen.active;
  }
  const g = contiguousGroups(train.d, c.groupSize, c.weighting);
  if (c.k > g.m) throw new Error(`k: preset sparsity ${c.k} exceeds the number of groups ${g.m}`);
  const t0 = performance.now();
  let step = 0;
  const res = compareAtSparsity(train, test, c.loss, g, c.k, c.iters, c.fits, ctx.rng.fork(), c.penalty, active, () => {
    ctx.throwIfCancelled();
    ctx.progress(++step, 2 * c.fits);
  });
  const metricName = c.loss === 'squared' ? 'test_mse' : 'test_accuracy';
  ctx.log(1, {
    [`wgsef/${metricName}`]: res.wgsef.metric,
    [`wgsef/groups`]: res.wgsef.groups,
    [`wgsef/lambda`]: res.wgsef.lambda,
    [`group_lasso/${metricName}`]: res.groupLasso.metric,
    [`group_lasso/groups`]: res.groupLasso.groups,
    [`group_lasso/lambda`]: res.groupLasso.lambda,
    wall_s: (performance.now() - t0) / 1000,
  });
  const W = new Float64Array(2 * train.d);
  W.set(res.wgsef.theta, 0);
  W.set(res.groupLasso.theta, train.d);
  ctx.artifact('coefficients.npy', encodeNpy(W, [2, train.d]));
  const summary = {
    k: c.k,
    metric: metricName,
    wgsef: { lambda: res.wgsef.lambda, groups: res.wgsef.groups, [metricName]: res.wgsef.metric, support_f1: res.wgsef.f1 },
    group_lasso: { lambda: res.groupLasso.lambda, groups: res.groupLasso.groups, [metricName]: res.groupLasso.metric, support_f1: res.groupLasso.f1 },
  };
  ctx.artifact('summary.json', summary);
  return summary;
}

/** Settings of the full MLP claim (spec §14b: 20→64→2, k = 8 neurons, prox-Adam); 4 bumps need 8 neurons. */
export const MLP_CLAIM = { n: 1000, nTest: 2000, inputs: 20, bumps: 4, labelFlip: 0.05, hidden: 64, k: 8, lr: 0.01, pretrainIters: 500, iters: 200, fits: 10, weightDecay: 0.01, penalty: 'sef-minus-ridge' as WgsefPenalty };
/** The fast form's smaller network. */
export const MLP_FAST = { ...MLP_CLAIM, n: 500, nTest: 1000, hidden: 32, k: 4, pretrainIters: 300, iters: 100, fits: 8 };

function claimRunMlp(seed: number, o: typeof MLP_CLAIM) {
  const rng = new Rng(seed);
  const { train, test } = splitRows(bumpTeacherData(rng.fork(), o.n + o.nTest, o.inputs, o.bumps, o.labelFlip), o.n);
  return compareMlpAtSparsity(train, test, o, rng.fork());
}

function claimRun(seed: number, loss: LossKind, iters: number, fits: number) {
  const rng = new Rng(seed);
  const gen = groupSparseData(rng.fork(), 1200, 50, 5, 5, loss === 'squared' ? 0.1 : 0.3, loss);
  const { train, test } = splitRows(gen.ds, 200);
  return compareAtSparsity(train, test, loss, contiguousGroups(train.d, 5, 'uniform'), 5, iters, fits, rng.fork(), 'sef-minus-ridge', gen.active);
}

export const wgsef = defineExperiment({
  id: 'wgsef',
  title: 'WGSEF (group sparse envelope) proximal training vs group lasso at a preset group sparsity',
  paper: 'k-level structured sparse neural networks using group envelope regularization',
  kind: 'optimizer',
  tasks: ['group-sparse-regression', 'group-sparse-logistic', 'mlp-neuron-sparsity'],
  schema,
  keyMetric: 'wgsef/test_mse',
  lowerIsBetter: true,
  run,
  claim: {
    statement:
      'Proximal training with the WGSEF regularizer reaches the preset number of surviving groups k with equal or better held-out accuracy than group lasso tuned to the same sparsity: group-sparse linear/logistic regression (k = 5 groups) and an MLP pruned to k hidden neurons by prox-Adam (fast: 20→32→2, k = 4; full: 20→64→2, k = 8 and 4, mean accuracy within 0.01).',
    async fast({ seed }) {
      const r = claimRun(seed, 'squared', 200, 12);
      const m = claimRunMlp(seed, MLP_FAST);
      const linearOk = r.wgsef.groups === 5 && r.groupLasso.groups <= 5 && r.wgsef.metric <= r.groupLasso.metric * 1.02;
      const mlpOk = m.wgsef.groups === MLP_FAST.k && m.groupLasso.groups <= MLP_FAST.k && m.wgsef.testAccuracy >= m.groupLasso.testAccuracy;
      return {
        pass: linearOk && mlpOk,
        measured: {
          wgsef_groups: r.wgsef.groups,
          wgsef_test_mse: r.wgsef.metric,
          wgsef_support_f1: r.wgsef.f1,
          group_lasso_groups: r.groupLasso.groups,
          group_lasso_test_mse: r.groupLasso.metric,
          group_lasso_support_f1: r.groupLasso.f1,
          mlp_dense_accuracy: m.dense.testAccuracy,
          mlp_wgsef_neurons: m.wgsef.groups,
          mlp_wgsef_accuracy: m.wgsef.testAccuracy,
          mlp_group_lasso_neurons: m.groupLasso.groups,
          mlp_group_lasso_accuracy: m.groupLasso.testAccuracy,
        },
        summary: `group-sparse regression (m=50×5, k=5, n=200): WGSEF ${r.wgsef.groups} groups, test MSE ${r.wgsef.metric.toFixed(4)} vs group lasso ${r.groupLasso.groups} groups, test MSE ${r.groupLasso.metric.toFixed(4)}; MLP 20→32→2 pruned to k=4 neurons: test accuracy WGSEF ${m.wgsef.testAccuracy.toFixed(3)} (${m.wgsef.groups} neurons) vs group lasso ${m.groupLasso.testAccuracy.toFixed(3)} (${m.groupLasso.groups}), dense ${m.dense.testAccuracy.toFixed(3)}`,
      };
    },
    async full({ seeds }) {
      const measured: Record<string, number> = {};
      let pass = true;
      for (const loss of ['squared', 'logistic'] as LossKind[]) {
        const ws: number[] = [];
        const gs: number[] = [];
        for (const seed of seeds) {
          const r = claimRun(seed, loss, 300, 16);
          ws.push(r.wgsef.metric);
          gs.push(r.groupLasso.metric);
          measured[`${loss}_wgsef_seed${seed}`] = r.wgsef.metric;
          measured[`${loss}_group_lasso_seed${seed}`] = r.groupLasso.metric;
          if (r.wgsef.groups !== 5) pass = false;
        }
        measured[`${loss}_wgsef_median`] = median(ws);
        measured[`${loss}_group_lasso_median`] = median(gs);
        const better = loss === 'squared' ? mean(ws) <= mean(gs) * 1.02 : mean(ws) >= mean(gs) - 0.01;
        pass = pass && better;
      }
      // (b) MLP 20→64→2 at k = 8 neurons (what the 4-bump labels need) and k = 4 (fewer than needed)
      const mlpParts: string[] = [];
      for (const k of [8, 4]) {
        const wa: number[] = [];
        const ga: number[] = [];
        for (const seed of seeds) {
          const r = claimRunMlp(seed, { ...MLP_CLAIM, k });
          wa.push(r.wgsef.testAccuracy);
          ga.push(r.groupLasso.testAccuracy);
          Object.assign(measured, {
            [`mlp_k${k}_dense_accuracy_seed${seed}`]: r.dense.testAccuracy,
            [`mlp_k${k}_wgsef_accuracy_seed${seed}`]: r.wgsef.testAccuracy,
            [`mlp_k${k}_wgsef_neurons_seed${seed}`]: r.wgsef.groups,
            [`mlp_k${k}_group_lasso_accuracy_seed${seed}`]: r.groupLasso.testAccuracy,
            [`mlp_k${k}_group_lasso_neurons_seed${seed}`]: r.groupLasso.groups,
          });
          if (r.wgsef.groups !== k || r.groupLasso.groups > k) pass = false;
        }
        measured[`mlp_k${k}_wgsef_accuracy_mean`] = mean(wa);
        measured[`mlp_k${k}_group_lasso_accuracy_mean`] = mean(ga);
        pass = pass && mean(wa) >= mean(ga) - 0.01;
        mlpParts.push(`k=${k}: WGSEF ${wa.map((v) => v.toFixed(3)).join('/')} vs group lasso ${ga.map((v) => v.toFixed(3)).join('/')}`);
      }
      const mlp = `MLP 20→64→2 test accuracy (seeds ${seeds.join(',')}) ${mlpParts.join('; ')}`;
      const lin = `linear, k=5 groups: squared test MSE ${measured.squared_wgsef_median.toFixed(4)} vs ${measured.squared_group_lasso_median.toFixed(4)}, logistic accuracy ${measured.logistic_wgsef_median.toFixed(3)} vs ${measured.logistic_group_lasso_median.toFixed(3)} (medians)`;
      return { pass, measured, summary: `${lin}; ${mlp}` };
    },
  },
});
