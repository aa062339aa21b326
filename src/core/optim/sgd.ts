// SGD with momentum, PyTorch semantics (torch.optim.SGD, dampening 0):
//   g <- g + wd p;  buf <- mu buf + g;  step = nesterov ? g + mu buf : buf;  p <- p - lr step
import type { Tensor } from '../graph/graph';
import * as O from '../graph/ops';
import type { Optimizer } from './optimizer';

export interface SgdOptions {
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export function sgd(opts: SgdOptions = {}): Optimizer {
  const mu = opts.momentum ?? 0;
  const wd = opts.weightDecay ?? 0;
  const nesterov = opts.nesterov ?? false;
  return {
    name: 'sgd',
    stateNames: mu !== 0 ? ['momentum_buffer'] : [],
    scalars(_t, lr) {
      return { lr };
    },
    update(p, g0, st, sc): { param: Tensor; state: Record<string, Tensor> } {
      const g = wd !== 0 ? O.add(g0, O.mul(p, wd)) : g0;
      if (mu === 0) return { param: O.sub(p, O.mul(g, sc.lr)), state: {} };
      // torch initializes the buffer with the first gradient; a zero buffer gives the same value
      const buf = O.add(O.mul(st.momentum_buffer, mu), g);
      const step = nesterov ? O.add(g, O.mul(buf, mu)) : buf;
      return { param: O.sub(p, O.mul(step, sc.lr)), state: { momentum_buffer: buf } };
    },
    updateInPlace(p, g, st, sc) {
      const lr = sc.lr;
      const buf = st.momentum_buffer;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i] + wd * p[i];
        if (mu === 0) {
          p[i] -= lr * gi;
          continue;
        }
        const b = (buf[i] = mu * buf[i] + gi);
        p[i] -= lr * (nesterov ? gi + mu * b : b);
      }
    },
  };
}
