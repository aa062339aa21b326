// AdamW (Loshchilov & Hutter 2019) with PyTorch's semantics (torch.optim.AdamW, single-tensor
// path): decoupled weight decay p <- p (1 - lr wd), then Adam with bias correction:
//   m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2
//   p <- p - (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps)
import { Tensor } from '../graph/graph';
import * as O from '../graph/ops';
import type { Optimizer } from './optimizer';

export interface AdamWOptions {
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Which parameters get weight decay (default: all, as torch with one param group). */
  decay?: (name: string) => boolean;
}

export function adamw(opts: AdamWOptions = {}): Optimizer {
  const [b1, b2] = opts.betas ?? [0.9, 0.999];
  const eps = opts.eps ?? 1e-8;
  const wd = opts.weightDecay ?? 0.01;
  const decays = (name: string) => wd !== 0 && (opts.decay ? opts.decay(name) : true);
  return {
    name: 'adamw',
    stateNames: ['exp_avg', 'exp_avg_sq'],
    scalars(t, lr) {
      return { decay: 1 - lr * wd, step_size: lr / (1 - Math.pow(b1, t)), sqrt_bc2: Math.sqrt(1 - Math.pow(b2, t)) };
    },
    update(p, g, st, sc, name) {
      const p1 = decays(name) ? O.mul(p, sc.decay) : p;
      const m = O.add(O.mul(st.exp_avg, b1), O.mul(g, 1 - b1));
      const v = O.add(O.mul(st.exp_avg_sq, b2), O.mul(O.mul(g, g), 1 - b2));
      const denom = O.add(O.div(O.sqrt(v), sc.sqrt_bc2), eps);
      const param = O.sub(p1, O.mul(O.div(m, denom), sc.step_size));
      return { param, state: { exp_avg: m, exp_avg_sq: v } };
    },
    updateInPlace(p, g, st, sc, name) {
      const m = st.exp_avg, v = st.exp_avg_sq;
      const decay = decays(name) ? sc.decay : 1;
      const { step_size: ss, sqrt_bc2: sb } = sc;
      const c1 = 1 - b1, c2 = 1 - b2;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const mi = (m[i] = b1 * m[i] + c1 * gi);
        const vi = (v[i] = b2 * v[i] + c2 * gi * gi);
        p[i] = p[i] * decay - (ss * mi) / (Math.sqrt(vi) / sb + eps);
      }
    },
  };
}

export type { Tensor };
