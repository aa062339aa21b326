// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_): scale every gradient by
// min(1, maxNorm / (||g||_2 + 1e-6)), the norm taken over all gradients together.
import { Tensor } from '../graph/graph';
import * as O from '../graph/ops';

export function globalNorm(grads: readonly Tensor[]): Tensor {
  let total: Tensor | null = null;
  for (const g of grads) {
    const s = O.sum(O.mul(g, g));
    total = total ? O.add(total, s) : s;
  }
  if (!total) throw new Error('globalNorm: no gradients');
  return O.sqrt(total);
}

export function clipByGlobalNorm(grads: readonly Tensor[], maxNorm: number): { grads: Tensor[]; norm: Tensor } {
  const norm = globalNorm(grads);
  const coef = O.minimum(O.div(maxNorm, O.add(norm, 1e-6)), 1);
  return { grads: grads.map((g) => O.mul(g, coef)), norm };
}

/** Same clipping in place over typed arrays; returns the pre-clip norm. */
export function clipByGlobalNormInPlace(grads: readonly Float32Array[], maxNorm: number): number {
  let ss = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) ss += g[i] * g[i];
  const norm = Math.sqrt(ss);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  if (coef < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return norm;
}
