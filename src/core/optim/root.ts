// ROOT: Robust Orthogonalized Optimizer (He et al. 2025, arXiv 2511.20626; optimizers.md §2).
// Muon's momentum orthogonalization with two robustness fixes, per matrix parameter:
//  (1) outlier suppression: ε = q-quantile of |U| (q = 0.9); the outlier part O = sign(U)·max(|U| − ε, 0)
//      is the prox of ε‖·‖₁ (soft-threshold) and is discarded; the robust part B = U − O = clip(U, −ε, ε)
//      is what gets orthogonalized;
//  (2) shape-adaptive Newton–Schulz ("AdaNewton"): (a, b, c) looked up by matrix shape
//      (our fitted table, the paper's table, else Muon's triple).
// The rest (sum momentum with Nesterov, RMS-matched 0.2·√max(r, c) scaling, decoupled weight decay,
// AdamW for non-matrix parameters) follows the official example script.
import type { Tensor } from '../graph/graph';
import * as O from '../graph/ops';
import { type NsCoefficients, newtonSchulzGraph, nsCoefficientsFor } from './newton-schulz';
import { newtonSchulzDense, orthogonalizedOptimizer, type OrthogonalizedOptions } from './muon';
import type { Optimizer } from './optimizer';

export interface RootOptions extends OrthogonalizedOptions {
  /** Quantile of |U| used as the soft-threshold ε (official code: 0.9); null disables the suppression. */
  quantile?: number | null;
  /** Coefficient lookup by shape (default: fitted + published table, Muon fallback). */
  coefficientsFor?: (rows: number, cols: number) => NsCoefficients;
}

/** q-quantile with linear interpolation (torch.quantile's default), graph form, over all entries. */
export function quantileGraph(x: Tensor, q: number): Tensor {
  const n = x.size;
  const flat = O.reshape(x, [n]);
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const frac = pos - lo;
  const k = n - lo; // the k largest reach down to ascending rank lo
  const [top] = O.topk(flat, k);
  const at = O.slice(top, [k - 1], [k]); // ascending rank lo
  if (frac === 0 || k < 2) return at;
  const next = O.slice(top, [k - 2], [k - 1]); // ascending rank lo + 1
  return O.add(at, O.mul(O.sub(next, at), frac));
}

export function quantileDense(x: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(x).sort();
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const frac = pos - lo;
  return lo + 1 < s.length ? s[lo] + frac * (s[lo + 1] - s[lo]) : s[lo];
}

/** B = U − soft_ε(U) = clip(U, −ε, ε) with ε the q-quantile of |U| (graph form). */
export function suppressOutliersGraph(u: Tensor, q: number): Tensor {
  const eps = quantileGraph(O.abs(u), q);
  return O.minimum(O.maximum(u, O.neg(eps)), eps);
}

export function suppressOutliersDense(u: Float64Array, q: number): Float64Array {
  const eps = quantileDense(Float64Array.from(u, Math.abs), q);
  return Float64Array.from(u, (v) => Math.min(Math.max(v, -eps), eps));
}

/** ROOT. Defaults as the official example: μ = 0.95 (sum form), Nesterov, 5 NS steps, q = 0.9. */
export function root(o: RootOptions = {}): Optimizer {
  const q = o.quantile === undefined ? 0.9 : o.quantile;
  if (q !== null && !(q > 0 && q < 1)) throw new Error(`root: quantile must be in (0, 1) or null, got ${q}`);
  const steps = o.nsSteps ?? 5;
  const coefFor = o.coefficientsFor ?? ((r: number, c: number) => nsCoefficientsFor(r, c));
  return orthogonalizedOptimizer('root', { momentumForm: 'sum', ...o }, {
    graph: (u) => newtonSchulzGraph(q === null ? u : suppressOutliersGraph(u, q), coefFor(u.shape[0], u.shape[1]), steps),
    js: (u, r, c) => newtonSchulzDense(q === null ? u : suppressOutliersDense(u, q), r, c, coefFor(r, c), steps),
  });
}
