// BSVRB: blockwise stochastic variance-reduced multi-block bilevel optimization (Hu, Qiu, Guo,
// Zhang, Yang, ICML 2023; spec optimizers.md §9), version v1 (low-dimensional y: the lower-level
// gradients and Hessians are tracked with the MSVR estimator, the upper gradient with STORM),
// beside the same block/data sampling without variance reduction.
//
// Problem (multi-task hyper-data-weighting): shared training inputs a_j (j ≤ n), per-sample weight
// logits p ∈ Rⁿ (upper variable, weights s_j = σ(p_j)), m logistic-regression tasks with labels l_ij:
//   g_i(p, y) = (1/n) Σ_j s_j ℓ(l_ij a_jᵀy) + (λ/2)‖y‖²,   f_i(y) = mean over task i's validation set of ℓ,
//   F(p) = (1/m) Σ_i f_i(y_i*(p)),  ℓ(u) = log(1 + e^{−u}).
// Block hypergradient: ∇F_i = −∇²_{py} g_i [∇²_yy g_i]⁻¹ ∇_y f_i, with
//   [∇²_{py} g_i v]_j = (1/n) s_j(1 − s_j) ℓ'(u_ij) l_ij a_jᵀv.
import { z } from 'zod';
import { defineExperiment } from '../experiment';
import { encodeNpy } from '../io/npy';
import { loadProblemFile } from '../io/problem-file';
import { solveSpd } from '../linalg/cholesky';
import { norm2 } from '../linalg/dense';
import { log1pExp, sigmoid } from '../linalg/logistic';
import { symmetricEigenvalues } from '../linalg/symmetric-eigen';
import { Rng } from '../rng';
import { signalReporter, type RunReporter } from './run-reporter';

export interface MultiTaskProblem {
  name: string;
  n: number;
  d: number;
  m: number;
  nVal: number;
  /** n × d training inputs (shared by the tasks). */
  A: Float64Array;
  /** m × n training labels in {−1, +1}. */
  L: Float64Array;
  /** nVal × d validation inputs. */
  Av: Float64Array;
  /** m × nVal validation labels. */
  Lv: Float64Array;
  lambda: number;
}

/**
 * m tasks with their own true weights and temperatures; a fraction of the training points is
 * corrupted (labels flipped in every task), which the shared weights p can learn to down-weight.
 */
export function generateMultiTask(rng: Rng, n: number, nVal: number, d: number, m: number, corrupt: number, lambda: number): MultiTaskProblem {
  const A = rng.fillNormal(new Float64Array(n * d));
  const Av = rng.fillNormal(new Float64Array(nVal * d));
  const L = new Float64Array(m * n);
  const Lv = new Float64Array(m * nVal);
  const bad = new Uint8Array(n);
  for (let j = 0; j < n; j++) bad[j] = rng.uniform() < corrupt ? 1 : 0;
  const base = rng.fillNormal(new Float64Array(d));
  for (let i = 0; i < m; i++) {
    const w = Float64Array.from(base, (v) => v + 0.5 * rng.normal());
    const temp = rng.range(0.5, 2);
    const label = (x: Float64Array, off: number) => {
      let u = 0;
      for (let k = 0; k < d; k++) u += x[off + k] * w[k];
      return rng.uniform() < sigmoid(u / temp) ? 1 : -1;
    };
    for (let j = 0; j < n; j++) L[i * n + j] = (bad[j] ? -1 : 1) * label(A, j * d);
    for (let v = 0; v < nVal; v++) Lv[i * nVal + v] = label(Av, v * d);
  }
  return { name: `hyper-weighting-${m}x${n}`, n, d, m, nVal, A, L, Av, Lv, lambda };
}

export function loadMultiTask(path: string, lambda: number): MultiTaskProblem {
  const f = loadProblemFile(path);
  const A = f.get('A', ['n', 'd']);
  const L = f.get('L', ['m', 'n']);
  const Av = f.get('Av', ['nVal', 'd']);
  const Lv = f.get('Lv', ['m', 'nVal']);
  for (const [name, arr] of [['L', L], ['Lv', Lv]] as const) {
    const k = arr.findIndex((v) => v !== 1 && v !== -1);
    if (k >= 0) throw new Error(`${path}: field '${name}' must hold labels −1 or +1 (flat index ${k} is ${arr[k]})`);
  }
  return { name: path, n: f.dims.get('n')!, d: f.dims.get('d')!, m: f.dims.get('m')!, nVal: f.dims.get('nVal')!, A, L, Av, Lv, lambda: f.scalar('lambda', lambda) };
}

/** Block derivatives of the lower and upper levels, estimated on lists of data indices. */
export class MultiTaskOracle {
  constructor(readonly p: MultiTaskProblem) {}

  private margin(i: number, j: number, y: Float64Array): number {
    const { d, A, L, n } = this.p;
    let u = 0;
    for (let k = 0; k < d; k++) u += A[j * d + k] * y[k];
    return L[i * n + j] * u;
  }

  /** ∇_y g_i and ∇²_yy g_i estimated on training indices `idx` (full data when idx covers 0..n−1). */
  lowerDerivs(i: number, x: Float64Array, y: Float64Array, idx: ArrayLike<number>, wantHessian: boolean): { grad: Float64Array; hess: Float64Array | null } {
    const { d, A, L, n, lambda } = this.p;
    const grad = Float64Array.from(y, (v) => lambda * v);
    const hess = wantHessian ? new Float64Array(d * d) : null;
    if (hess) for (let k = 0; k < d; k++) hess[k * d + k] = lambda;
    const scale = 1 / idx.length;
    for (let b = 0; b < idx.length; b++) {
      const j = idx[b];
      const s = sigmoid(x[j]);
      const u = this.margin(i, j, y);
      const c = scale * s * -sigmoid(-u) * L[i * n + j]; // s_j ℓ'(u) l_ij
      for (let k = 0; k < d; k++) grad[k] += c * A[j * d + k];
      if (hess) {
        const h2 = scale * s * sigmoid(u) * sigmoid(-u); // s_j ℓ''(u)
        for (let k = 0; k < d; k++) {
          const ak = h2 * A[j * d + k];
          for (let l = 0; l < d; l++) hess[k * d + l] += ak * A[j * d + l];
        }
      }
    }
    return { grad, hess };
  }

  /** −∇²_{py} g_i v estimated on `idx`, accumulated (times `weight`) into the n-vector `out`. */
  mixedTimes(i: number, x: Float64Array, y: Float64Array, v: Float64Array, idx: ArrayLike<number>, weight: number, out: Float64Array): void {
    const { d, A, L, n } = this.p;
    const scale = weight / idx.length;
    for (let b = 0; b < idx.length; b++) {
      const j = idx[b];
      const s = sigmoid(x[j]);
      const u = this.margin(i, j, y);
      let av = 0;
      for (let k = 0; k < d; k++) av += A[j * d + k] * v[k];
      // (1/n)-normalized entry j estimated by (1/B)·Σ over samples hitting j; the sign makes it −∇²_{py} g v.
      out[j] -= scale * s * (1 - s) * -sigmoid(-u) * L[i * n + j] * av;
    }
  }

  /** ∇_y f_i (validation loss gradient) on validation indices `idx`, and the loss value. */
  upperGrad(i: number, y: Float64Array, idx: ArrayLike<number>): { grad: Float64Array; loss: number } {
    const { d, Av, Lv, nVal } = this.p;
    const grad = new Float64Array(d);
    let loss = 0;
    for (let b = 0; b < idx.length; b++) {
      const v = idx[b];
      let u = 0;
      for (let k = 0; k < d; k++) u += Av[v * d + k] * y[k];
      u *= Lv[i * nVal + v];
      loss += log1pExp(-u);
      const c = -sigmoid(-u) * Lv[i * nVal + v];
      for (let k = 0; k < d; k++) grad[k] += c * Av[v * d + k];
    }
    for (let k = 0; k < d; k++) grad[k] /= idx.length;
    return { grad, loss: loss / idx.length };
  }
}

/** Solves H v = r for a symmetric estimate H whose spectrum is shifted up to at least `floor`. */
export function solveFloored(H: Float64Array, d: number, r: Float64Array, floor: number): Float64Array {
  const sym = new Float64Array(d * d);
  for (let k = 0; k < d; k++) for (let l = 0; l < d; l++) sym[k * d + l] = 0.5 * (H[k * d + l] + H[l * d + k]);
  const lo = symmetricEigenvalues(sym, d)[0];
  if (lo < floor) for (let k = 0; k < d; k++) sym[k * d + k] += floor - lo;
  return solveSpd(sym, d, r);
}

/** Exact lower-level solutions (Newton, warm-started), the exact ∇F(p) and F(p). */
export class ExactHypergradient {
  private ys: Float64Array[];
  private readonly all: Int32Array;
  private readonly allVal: Int32Array;
  constructor(private readonly o: MultiTaskOracle) {
    const { m, d, n, nVal } = o.p;
    this.ys = Array.from({ length: m }, () => new Float64Array(d));
    this.all = Int32Array.from({ length: n }, (_, j) => j);
    this.allVal = Int32Array.from({ length: nVal }, (_, j) => j);
  }

  evaluate(x: Float64Array): { grad: Float64Array; value: number; yStar: Float64Array[] } {
    const { m, d, n } = this.o.p;
    const grad = new Float64Array(n);
    let value = 0;
    for (let i = 0; i < m; i++) {
      const y = this.ys[i];
      for (let it = 0; it < 50; it++) {
        const { grad: g, hess } = this.o.lowerDerivs(i, x, y, this.all, true);
        const step = solveSpd(hess!, d, g);
        for (let k = 0; k < d; k++) y[k] -= step[k];
        if (norm2(step) < 1e-12 * (1 + norm2(y))) break;
      }
      const { hess } = this.o.lowerDerivs(i, x, y, this.all, true);
      const up = this.o.upperGrad(i, y, this.allVal);
      value += up.loss / m;
      const v = solveSpd(hess!, d, up.grad);
      this.o.mixedTimes(i, x, y, v, this.all, 1 / m, grad);
    }
    return { grad, value, yStar: this.ys };
  }
}

export interface BsvrbParams {
  /** Blocks per iteration I and data points per block B (validation batch too). */
  blocks: number;
  batch: number;
  eta: number;
  tau: number;
  /** MSVR weights: α (new-estimate weight) and γ (correction weight); α = 1, γ = 0 is plain sampling. */
  alpha: number;
  gamma: number;
  /** STORM momentum β on the upper gradient; β = 1 is plain sampling. */
  beta: number;
  /** Eigenvalue floor of tracked Hessians (the true ones are ⪰ λI). */
  hFloor: number;
  /** v1: track ∇²_yy g_i and solve with it; v2: track v_i ≈ [∇²_yy g_i]⁻¹∇_y f_i by SGD (Hessian-vector products only). */
  version?: 'v1' | 'v2';
  /** v2: step of the v_i update and the radius of the ball v_i is projected onto. */
  vStep?: number;
  vBound?: number;
}

export interface HypergradPoint {
  iteration: number;
  samples: number;
  /** ‖estimate − ∇F‖/‖∇F‖ of the direction used for the x-step. */
  relError: number;
  value: number;
  wall_s: number;
}

type Hook = (p: HypergradPoint) => void;

/**
 * BSVRB-v1 (with α = 1, γ = 0, β = 1 it is the same sampling scheme without variance reduction).
 * Per iteration: sample I blocks and B training / validation points each; MSVR updates of the tracked
 * ∇_y g_i (s_i) and ∇²_yy g_i (H_i) on the same samples at the current and previous iterates;
 * y_i ← y_i − τ s_i; block hypergradients at both iterates; STORM z_t = (1−β)(z_{t−1} − G_{t−1}) + G_t;
 * x ← x − η z_t.
 */
export function bsvrb(o: MultiTaskOracle, h: BsvrbParams, iterations: number, rng: Rng, evalEvery: number, onPoint?: Hook, tick?: () => void) {
  const { n, d, m, nVal } = o.p;
  const t0 = performance.now();
  const exact = new ExactHypergradient(o);
  const x = new Float64Array(n);
  const xPrev = new Float64Array(n);
  const y = Array.from({ length: m }, () => new Float64Array(d));
  let yPrev = y.map((v) => Float64Array.from(v)); // y^{t−1}: all blocks at the start of the previous iteration
  const s = Array.from({ length: m }, () => new Float64Array(d));
  const H = Array.from({ length: m }, () => new Float64Array(d * d));
  const v2 = h.version === 'v2';
  const vv = Array.from({ length: m }, () => new Float64Array(d)); // v2: v_i ≈ H_i⁻¹∇_y f_i
  let vPrev = vv.map((v) => Float64Array.from(v));
  const w = Array.from({ length: m }, () => new Float64Array(d)); // v2: MSVR tracker of H_i v_i − ∇_y f_i
  const lastVisit = new Int32Array(m).fill(-1);
  const catchUpCap = Math.ceil(m / h.blocks);
  const visited = new Uint8Array(m);
  const zt = new Float64Array(n);
  const trace: HypergradPoint[] = [];
  const blockIdx = Array.from({ length: m }, (_, i) => i);
  let samples = 0;
  for (let t = 0; t < iterations; t++) {
    tick?.();
    const yNow = y.map((v) => Float64Array.from(v)); // y^t
    const vNow = vv.map((v) => Float64Array.from(v)); // v^t (v2)
    const chosen = rng.shuffle(blockIdx.slice()).slice(0, h.blocks);
    const Gcur = new Float64Array(n);
    const Gprev = new Float64Array(n);
    for (const i of chosen) {
      const idx = Int32Array.from({ length: h.batch }, () => rng.int(n));
      const vIdx = Int32Array.from({ length: h.batch }, () => rng.int(nVal));
      samples += 2 * h.batch; // B training + B validation points; the previous-iterate terms reuse them
      const Hold = Float64Array.from(H[i]); // the tracker as used for the hypergradient at t−1
      const cur = o.lowerDerivs(i, x, yNow[i], idx, true);
      // MSVR: u ← (1−α)u + (α+γ)·h(x_t; ξ) − γ·h(x_{t−1}; ξ)   (first visit of a block: plain estimate)
      const first = !visited[i];
      visited[i] = 1;
      const prev = first || t === 0 ? cur : o.lowerDerivs(i, xPrev, yPrev[i], idx, true);
      const a = first ? 1 : h.alpha;
      const g = first ? 0 : h.gamma;
      for (let k = 0; k < d; k++) s[i][k] = (1 - a) * s[i][k] + (a + g) * cur.grad[k] - g * prev.grad[k];
      for (let k = 0; k < d * d; k++) H[i][k] = (1 - a) * H[i][k] + (a + g) * cur.hess![k] - g * prev.hess![k];
      const up = o.upperGrad(i, yNow[i], vIdx);
      const needPrev = t > 0 && (h.beta < 1 || (v2 && !first));
      const upP = needPrev ? o.upperGrad(i, yPrev[i], vIdx) : up;
      if (v2) {
        // MSVR on the gradient of v ↦ ½vᵀH_i v − ∇_y f_iᵀv at the current and previous iterates.
        const gvCur = Float64Array.from(up.grad, (gf, k) => {
          let hv = 0;
          for (let l = 0; l < d; l++) hv += cur.hess![k * d + l] * vNow[i][l];
          return hv - gf;
        });
        const gvPrev = first || t === 0 ? gvCur : Float64Array.from(upP.grad, (gf, k) => {
          let hv = 0;
          for (let l = 0; l < d; l++) hv += prev.hess![k * d + l] * vPrev[i][l];
          return hv - gf;
        });
        for (let k = 0; k < d; k++) w[i][k] = (1 - a) * w[i][k] + (a + g) * gvCur[k] - g * gvPrev[k];
        // Lazy catch-up: an unsampled block would have kept stepping; scale the step by the missed rounds (capped at m/I).
        const missed = lastVisit[i] < 0 ? 1 : Math.min(t - lastVisit[i], catchUpCap);
        for (let k = 0; k < d; k++) vv[i][k] -= (h.vStep ?? 0.5) * missed * w[i][k];
        const nv = norm2(vv[i]);
        const bound = h.vBound ?? 10;
        if (nv > bound) for (let k = 0; k < d; k++) vv[i][k] *= bound / nv;
        lastVisit[i] = t;
      }
      // Block hypergradient −∇²_{py} g_i · (H_i⁻¹∇_y f_i) at (x_t, y_i^t) with the updated tracker.
      o.mixedTimes(i, x, yNow[i], v2 ? vv[i] : solveFloored(H[i], d, up.grad, h.hFloor), idx, 1 / h.blocks, Gcur);
      // The same samples at the previous iterate (x_{t−1}, y_i^{t−1}, previous tracker) for STORM.
      if (t > 0 && h.beta < 1) {
        const vP = v2 ? (first ? vv[i] : vNow[i]) : solveFloored(first ? H[i] : Hold, d, upP.grad, h.hFloor);
        o.mixedTimes(i, xPrev, yPrev[i], vP, idx, 1 / h.blocks, Gprev);
      }
      for (let k = 0; k < d; k++) y[i][k] -= h.tau * s[i][k]; // y_i ← y_i − τ s_i
    }
    // STORM on the upper gradient: z_t = (1−β)(z_{t−1} − G_{t−1}) + G_t.
    const bt = t === 0 ? 1 : h.beta;
    for (let j = 0; j < n; j++) zt[j] = (1 - bt) * (zt[j] - Gprev[j]) + Gcur[j];
    if (t % evalEvery === 0 || t === iterations - 1) {
      const ex = exact.evaluate(x);
      let err = 0;
      for (let j = 0; j < n; j++) err += (zt[j] - ex.grad[j]) ** 2;
      const pt = { iteration: t, samples, relError: Math.sqrt(err) / Math.max(norm2(ex.grad), 1e-300), value: ex.value, wall_s: (performance.now() - t0) / 1000 };
      trace.push(pt);
      onPoint?.(pt);
    }
    yPrev = yNow;
    vPrev = vNow;
    xPrev.set(x);
    for (let j = 0; j < n; j++) x[j] -= h.eta * zt[j];
  }
  return { x, trace };
}

export const bsvrbSchema = z
  .object({
    problemFile: z
      .string()
      .default('')
      .describe('Optional JSON problem: A (n×d training inputs), L (m×n labels ±1), Av (nVal×d validation inputs), Lv (m×nVal labels ±1), optional lambda; arrays inline or as .npy paths'),
    n: z.number().int().min(2).max(100000).default(200).describe('Training points shared by the tasks (one weight logit each: the upper variable)'),
    nVal: z.number().int().min(1).max(100000).default(100).describe('Validation points per task'),
    d: z.number().int().min(1).max(50).default(10).describe('Feature dimension (the lower-level variable of each block)'),
    tasks: z.number().int().min(1).max(1000).default(20).describe('Number of lower-level blocks m (logistic-regression tasks, each with its own temperature)'),
    corrupt: z.number().min(0).max(0.9).default(0.3).describe('Fraction of training points whose labels are flipped in every task'),
    lambda: z.number().positive().max(100).default(0.05).describe('Lower-level ridge λ (strong convexity; also the eigenvalue floor of tracked Hessians)'),
    iterations: z.number().int().min(1).max(1_000_000).default(600).describe('Iterations (both methods: the same blocks × samples per iteration, hence the same samples)'),
    blocks: z.number().int().min(1).max(1000).default(5).describe('Blocks sampled per iteration I'),
    batch: z.number().int().min(1).max(10000).default(16).describe('Training (and validation) points sampled per block B'),
    eta: z.number().positive().max(100).default(0.5).describe('Upper step η on the weight logits'),
    tau: z.number().positive().max(10).default(0.5).describe('Lower step τ on y_i'),
    alpha: z.number().positive().max(1).default(0.1).describe('MSVR weight α of the new estimate (official script: 0.9 under its own parametrization; our reading: u ← (1−α)u + (α+γ)h_t − γh_{t−1})'),
    gamma: z.number().min(0).max(100).default(1).describe('MSVR correction weight γ (theory: (m−I)/(I(1−α)) + (1−α); official script exposes γ = 1)'),
    beta: z.number().positive().max(1).default(0.1).describe('STORM weight β of the upper-gradient estimator'),
    version: z.enum(['v1', 'v2']).default('v1').describe('BSVRB-v1 tracks the block Hessians (low-dimensional y); v2 tracks v_i ≈ H_i⁻¹∇_y f_i with Hessian-vector products only'),
    vStep: z.number().positive().max(10).default(0.5).describe('v2: step of the v_i updates (times the missed rounds, capped at m/I: lazy catch-up)'),
    vBound: z.number().positive().max(1e6).default(10).describe('v2: radius of the ball v_i is projected onto (official script: 10)'),
    evalEvery: z.number().int().min(1).default(20).describe('Compute the exact hypergradient (Newton on every block) every this many iterations'),
  })
  .strict();
export type BsvrbConfig = z.infer<typeof bsvrbSchema>;

export function bsvrbProblem(c: BsvrbConfig, rng: Rng): MultiTaskProblem {
  return c.problemFile ? loadMultiTask(c.problemFile, c.lambda) : generateMultiTask(rng, c.n, c.nVal, c.d, c.tasks, c.corrupt, c.lambda);
}

/** Mean relative hypergradient error over the second half of a trace (the estimator's steady state). */
export function steadyError(trace: HypergradPoint[]): number {
  const half = trace.filter((p) => p.iteration >= trace[trace.length - 1].iteration / 2);
  return half.reduce((a, p) => a + p.relError, 0) / half.length;
}

export function compareBsvrb(c: BsvrbConfig, rng: Rng, ctx?: RunReporter) {
  const problem = bsvrbProblem(c, rng.fork());
  const o = new MultiTaskOracle(problem);
  if (c.blocks > problem.m) throw new Error(`blocks (${c.blocks}) must not exceed the number of tasks (${problem.m})`);
  const vr: BsvrbParams = {
    blocks: c.blocks, batch: c.batch, eta: c.eta, tau: c.tau, alpha: c.alpha, gamma: c.gamma, beta: c.beta, hFloor: problem.lambda,
    version: c.version, vStep: c.vStep, vBound: c.vBound,
  };
  const plain: BsvrbParams = { ...vr, alpha: 1, gamma: 0, beta: 1 };
  const samplingSeed = rng.nextUint32();
  const log = (prefix: string) => (p: HypergradPoint) =>
    ctx?.log(p.iteration, {
      iteration: p.iteration,
      [`${prefix}/residual`]: p.relError,
      [`${prefix}/objective`]: p.value,
      [`${prefix}/samples`]: p.samples,
      [`${prefix}/wall_s`]: p.wall_s,
    });
  let offset = 0;
  let t = 0;
  const tick = () => {
    ctx?.throwIfCancelled();
    ctx?.progress(offset + ++t, 2 * c.iterations);
  };
  const a = bsvrb(o, vr, c.iterations, new Rng(samplingSeed), c.evalEvery, log('bsvrb'), tick);
  offset = c.iterations;
  t = 0;
  const b = bsvrb(o, plain, c.iterations, new Rng(samplingSeed), c.evalEvery, log('plain'), tick);
  return { problem, bsvrb: a, plain: b, bsvrbError: steadyError(a.trace), plainError: steadyError(b.trace) };
}

function claimRun(seeds: number[], over: Partial<BsvrbConfig>, signal?: AbortSignal) {
  return seeds.map((s) => compareBsvrb(bsvrbSchema.parse(over), new Rng(s), signalReporter(signal)));
}

export const bsvrbExperiment = defineExperiment({
  id: 'bsvrb',
  title: 'BSVRB (blockwise MSVR + STORM; v1 Hessian tracking, v2 Hessian-vector products) vs the same block sampling without variance reduction',
  paper: 'Blockwise Stochastic Variance-Reduced Methods with Parallel Speedup for Multi-Block Bilevel Optimization',
  kind: 'solver',
  tasks: ['multi-task-hyper-weighting'],
  schema: bsvrbSchema,
  keyMetric: 'bsvrb/residual',
  lowerIsBetter: true,
  async run(ctx) {
    const c = ctx.config;
    const r = compareBsvrb(c, ctx.rng, ctx);
    const enc = (t: HypergradPoint[]) => {
      const a = new Float64Array(t.length * 4);
      t.forEach((p, i) => a.set([p.iteration, p.samples, p.relError, p.value], i * 4));
      return encodeNpy(a, [t.length, 4]);
    };
    ctx.artifact('bsvrb_trace.npy', enc(r.bsvrb.trace));
    ctx.artifact('plain_trace.npy', enc(r.plain.trace));
    ctx.artifact('bsvrb_weight_logits.npy', encodeNpy(r.bsvrb.x));
    ctx.artifact('plain_weight_logits.npy', encodeNpy(r.plain.x));
    const last = <T>(a: T[]) => a[a.length - 1];
    const summary = {
      problem: r.problem.name,
      samples: last(r.bsvrb.trace).samples,
      bsvrb_mean_rel_error: r.bsvrbError,
      plain_mean_rel_error: r.plainError,
      bsvrb_final_val_loss: last(r.bsvrb.trace).value,
      plain_final_val_loss: last(r.plain.trace).value,
      start_val_loss: r.bsvrb.trace[0].value,
      trace_columns: ['iteration', 'samples', 'rel_hypergradient_error', 'val_loss'],
    };
    ctx.artifact('summary.json', summary);
    ctx.info(`relative hypergradient error (2nd half): BSVRB ${r.bsvrbError.toFixed(3)}, without VR ${r.plainError.toFixed(3)}`);
    return summary;
  },
  claim: {
    statement:
      'At the same number of samples (same blocks and data points per iteration), the BSVRB estimator of the hypergradient has a lower error than block sampling without variance reduction (at least 2× lower relative error in steady state).',
    async fast({ seed, signal }) {
      const [r] = claimRun([seed], { iterations: 300, evalEvery: 20 }, signal);
      const ratio = r.plainError / r.bsvrbError;
      return {
        pass: ratio >= 2,
        measured: { bsvrb_rel_error: r.bsvrbError, plain_rel_error: r.plainError, error_ratio: ratio, samples: r.bsvrb.trace[r.bsvrb.trace.length - 1].samples },
        summary: `m=20 tasks, I=5, B=16, 300 iterations: relative hypergradient error BSVRB ${r.bsvrbError.toFixed(3)} vs ${r.plainError.toFixed(3)} without VR (${ratio.toFixed(1)}× lower)`,
      };
    },
    async full({ seeds, signal }) {
      const measured: Record<string, number> = { seeds: seeds.length };
      let pass = true;
      const parts: string[] = [];
      for (const I of [1, 5, 10]) {
        const rs = claimRun(seeds, { iterations: 800, blocks: I, evalEvery: 40 }, signal);
        const vr = rs.reduce((a, r) => a + r.bsvrbError, 0) / rs.length;
        const pl = rs.reduce((a, r) => a + r.plainError, 0) / rs.length;
        const worst = Math.min(...rs.map((r) => r.plainError / r.bsvrbError));
        measured[`I${I}_bsvrb_rel_error`] = vr;
        measured[`I${I}_plain_rel_error`] = pl;
        measured[`I${I}_worst_ratio`] = worst;
        pass &&= worst >= 2;
        parts.push(`I=${I}: ${vr.toFixed(2)} vs ${pl.toFixed(2)}`);
      }
      // BSVRB-v2 (Hessian-vector products only) against the same sampling without variance reduction.
      const r2 = claimRun(seeds, { iterations: 800, blocks: 5, evalEvery: 40, version: 'v2' }, signal);
      const worst2 = Math.min(...r2.map((r) => r.plainError / r.bsvrbError));
      measured.v2_I5_bsvrb_rel_error = r2.reduce((a, r) => a + r.bsvrbError, 0) / r2.length;
      measured.v2_I5_plain_rel_error = r2.reduce((a, r) => a + r.plainError, 0) / r2.length;
      measured.v2_I5_worst_ratio = worst2;
      pass &&= worst2 >= 2;
      parts.push(`v2, I=5: ${measured.v2_I5_bsvrb_rel_error.toFixed(2)} vs ${measured.v2_I5_plain_rel_error.toFixed(2)}`);
      return { pass, measured, summary: `relative hypergradient error, BSVRB vs without VR (${seeds.length} seeds, 800 iterations): ${parts.join('; ')}` };
    },
  },
});
