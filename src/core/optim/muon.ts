// Muon (Jordan et al. 2024, KellerJordan/Muon; optimizers.md §2 anchor): momentum on each hidden
// weight matrix, then the momentum is replaced by its (approximate) polar factor via quintic
// Newton–Schulz with fixed coefficients. Embeddings, the LM head and every non-matrix parameter
// go to an internal AdamW, as in MuonWithAuxAdam. The conventions that differ between the
// reference code bases are options, so Muon and ROOT can be compared apples to apples:
//   momentum 'ema': M ← μM + (1−μ)G, Nesterov U = (1−μ)G + μM   (KellerJordan)
//   momentum 'sum': M ← μM + G,      Nesterov U = G + μM        (ROOT, torch.optim.Muon)
//   lrScale 'moonlight': ΔW = −lr·0.2·√max(r, c)·O   (RMS matched to AdamW; ROOT, Moonlight)
//   lrScale 'keller':    ΔW = −lr·√max(1, r/c)·O
// Decoupled weight decay W ← (1 − lr·wd)W on the matrices.
import type { Tensor } from '../graph/graph';
import * as O from '../graph/ops';
import { adamw, type AdamWOptions } from './adamw';
import { MUON_NS_COEFFICIENTS, type NsCoefficients, newtonSchulzGraph } from './newton-schulz';
import type { Optimizer } from './optimizer';

export interface OrthogonalizedOptions {
  momentum?: number;
  nesterov?: boolean;
  momentumForm?: 'ema' | 'sum';
  nsSteps?: number;
  /** Decoupled weight decay of the matrix parameters. */
  weightDecay?: number;
  lrScale?: 'moonlight' | 'keller';
  /** The AdamW used for non-matrix parameters (same learning rate). */
  adamw?: AdamWOptions;
  /** Which parameters get the matrix update (default: 2-D, not an embedding or the LM head). */
  isMatrix?: (name: string, shape: readonly number[]) => boolean;
  /** Parameter shapes, needed only for the in-place (placement 'js') form. */
  shapeOf?: (name: string) => readonly number[] | undefined;
}

/** How a matrix optimizer turns the momentum direction U (rows×cols) into its update direction. */
export interface MatrixDirection {
  graph(u: Tensor): Tensor;
  js(u: Float64Array, rows: number, cols: number): Float64Array;
}

export const defaultIsMatrix = (name: string, shape: readonly number[]): boolean =>
  shape.length === 2 && !/embed|lm_head|wte|wpe/.test(name);

/** Shared machinery of Muon and ROOT: momentum, direction, scaling, aux AdamW. */
export function orthogonalizedOptimizer(name: string, o: OrthogonalizedOptions, direction: MatrixDirection): Optimizer {
  const mu = o.momentum ?? 0.95;
  const nesterov = o.nesterov ?? true;
  const form = o.momentumForm ?? 'sum';
  const wd = o.weightDecay ?? 0;
  const lrScale = o.lrScale ?? 'moonlight';
  const isMatrix = o.isMatrix ?? defaultIsMatrix;
  const aux = adamw(o.adamw ?? { betas: [0.9, 0.95], eps: 1e-8, weightDecay: wd });
  const scaleOf = (r: number, c: number) => (lrScale === 'moonlight' ? 0.2 * Math.sqrt(Math.max(r, c)) : Math.sqrt(Math.max(1, r / c)));
  const gScale = form === 'ema' ? 1 - mu : 1;
  return {
    name,
    stateNames: ['momentum_buffer', 'exp_avg', 'exp_avg_sq'],
    scalars(t, lr) {
      return { ...aux.scalars(t, lr), lr, matrix_decay: 1 - lr * wd };
    },
    update(p, g, st, sc, pname): { param: Tensor; state: Record<string, Tensor> } {
      if (!isMatrix(pname, p.shape)) {
        const u = aux.update(p, g, { exp_avg: st.exp_avg, exp_avg_sq: st.exp_avg_sq }, sc, pname);
        return { param: u.param, state: { ...u.state, momentum_buffer: O.identity(st.momentum_buffer) } };
      }
      const [r, c] = p.shape;
      const m = O.add(O.mul(st.momentum_buffer, mu), O.mul(g, gScale));
      const u = nesterov ? O.add(O.mul(g, gScale), O.mul(m, mu)) : m;
      const d = direction.graph(u);
      const param = O.sub(O.mul(p, sc.matrix_decay), O.mul(d, O.mul(sc.lr, scaleOf(r, c))));
      return { param, state: { momentum_buffer: m, exp_avg: O.identity(st.exp_avg), exp_avg_sq: O.identity(st.exp_avg_sq) } };
    },
    updateInPlace(p, g, st, sc, pname) {
      const shape = o.shapeOf?.(pname);
      if (!shape) throw new Error(`${name}: the in-place form needs shapeOf('${pname}') (pass shapeOf in the options)`);
      if (!isMatrix(pname, shape)) {
        aux.updateInPlace(p, g, st, sc, pname);
        return;
      }
      const [r, c] = shape;
      const m = st.momentum_buffer;
      const u = new Float64Array(p.length);
      for (let i = 0; i < p.length; i++) {
        m[i] = mu * m[i] + gScale * g[i];
        u[i] = nesterov ? gScale * g[i] + mu * m[i] : m[i];
      }
      const d = direction.js(u, r, c);
      const step = sc.lr * scaleOf(r, c);
      for (let i = 0; i < p.length; i++) p[i] = p[i] * sc.matrix_decay - step * d[i];
    },
  };
}

/** C = A·B for row-major A (n×k), B (k×m). */
function matmulDense(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < k; l++) {
      const ail = a[i * k + l];
      if (ail === 0) continue;
      for (let j = 0; j < m; j++) c[i * m + j] += ail * b[l * m + j];
    }
  }
  return c;
}

/** In-place reference of newtonSchulzGraph on a row-major rows×cols matrix. */
export function newtonSchulzDense(b: Float64Array, rows: number, cols: number, coef: NsCoefficients, steps: number, eps = 1e-7): Float64Array {
  const tall = rows > cols;
  const [m, n] = tall ? [cols, rows] : [rows, cols];
  let x: Float64Array = new Float64Array(m * n);
  if (tall) for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) x[j * rows + i] = b[i * cols + j];
  else x.set(b);
  let f = 0;
  for (const v of x) f += v * v;
  const inv = 1 / (Math.sqrt(f) + eps);
  for (let i = 0; i < x.length; i++) x[i] *= inv;
  for (let k = 0; k < steps; k++) {
    const xt = new Float64Array(n * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) xt[j * m + i] = x[i * n + j];
    const s = matmulDense(x, xt, m, n, m);
    const s2 = matmulDense(s, s, m, m, m);
    for (let i = 0; i < s.length; i++) s[i] = coef[1] * s[i] + coef[2] * s2[i];
    const px = matmulDense(s, x, m, m, n);
    for (let i = 0; i < x.length; i++) px[i] += coef[0] * x[i];
    x = px;
  }
  if (!tall) return x;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * cols + i] = x[i * n + j];
  return out;
}

/** Muon: fixed coefficients for every shape. Defaults: μ = 0.95, Nesterov, 5 NS steps, no weight decay. */
export function muon(o: OrthogonalizedOptions & { coefficients?: NsCoefficients } = {}): Optimizer {
  const coef = o.coefficients ?? MUON_NS_COEFFICIENTS;
  const steps = o.nsSteps ?? 5;
  return orthogonalizedOptimizer('muon', o, {
    graph: (u) => newtonSchulzGraph(u, coef, steps),
    js: (u, r, c) => newtonSchulzDense(u, r, c, coef, steps),
  });
}
