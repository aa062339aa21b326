// Central finite-difference check of grad(): builds sum(f(x) * R) for a random R, compares the
// autodiff gradient of every float input with (L(x + h e_i) - L(x - h e_i)) / 2h per element.
import { Graph, Tensor, type DType } from '../../../src/core/graph/graph';
import * as O from '../../../src/core/graph/ops';
import { grad } from '../../../src/core/graph/autodiff';
import { compile } from '../../../src/core/runtime/session';
import { Rng } from '../../../src/core/rng';

export interface GradInput {
  shape: number[];
  dtype?: DType;
  /** Value generator (default N(0,1)); int inputs must give their own values. */
  init?: (i: number, rng: Rng) => number;
}

export interface GradCheckResult {
  maxRelErr: number;
  worst: string;
  checked: number;
}

export async function gradCheck(
  inputs: GradInput[],
  f: (...xs: Tensor[]) => Tensor,
  opts: { dtype?: 'float32' | 'float64'; seed?: number; h?: number; rtol?: number; atol?: number } = {},
): Promise<GradCheckResult> {
  const dtype = opts.dtype ?? 'float64';
  const rng = new Rng(opts.seed ?? 1);
  const g = new Graph();
  const xs = inputs.map((s, i) => g.input(`x${i}`, s.dtype ?? dtype, s.shape));
  const y = f(...xs);
  const rVals = Array.from({ length: y.size }, () => rng.normal());
  const R = g.constant(dtype === 'float64' ? Float64Array.from(rVals) : Float32Array.from(rVals), y.shape);
  const loss = O.sum(O.mul(y, R));
  const wrt = xs.filter((x) => x.dtype === dtype);
  const grads = grad(loss, wrt);
  const outs: Record<string, Tensor> = { loss };
  grads.forEach((t, i) => (outs[`g${i}`] = t));
  // ORT's extended fusions (e.g. QuickGelu) have float32-only kernels: float64 checks run the
  // basic optimization level; the float32 model tests run with every optimization on.
  const optimization = dtype === 'float64' ? 'basic' : 'all';
  const prog = await compile(g, outs, { optimization });
  const lossProg = await compile(g, { loss }, { optimization });
  const feeds: Record<string, Float64Array | Float32Array | BigInt64Array> = {};
  xs.forEach((x, i) => {
    const n = x.size;
    const init = inputs[i].init ?? ((_k: number, r: Rng) => r.normal());
    const vals = Array.from({ length: n }, (_, k) => init(k, rng));
    feeds[x.name!] =
      x.dtype === 'float64' ? Float64Array.from(vals) : x.dtype === 'float32' ? Float32Array.from(vals) : BigInt64Array.from(vals.map((v) => BigInt(v)));
  });
  const res = await prog.run(feeds);
  const h = opts.h ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const rtol = opts.rtol ?? (dtype === 'float64' ? 1e-6 : 2e-2);
  const atol = opts.atol ?? (dtype === 'float64' ? 1e-8 : 1e-3);
  let maxRelErr = 0;
  let worst = '';
  let checked = 0;
  for (let wi = 0; wi < wrt.length; wi++) {
    const x = wrt[wi];
    const buf = feeds[x.name!] as Float64Array | Float32Array;
    const analytic = res[`g${wi}`].data as Float64Array | Float32Array;
    for (let k = 0; k < buf.length; k++) {
      const old = buf[k];
      buf[k] = old + h;
      const lp = Number((await lossProg.run(feeds)).loss.data[0]);
      buf[k] = old - h;
      const lm = Number((await lossProg.run(feeds)).loss.data[0]);
      buf[k] = old;
      const numeric = (lp - lm) / (2 * h);
      const a = analytic[k];
      const err = Math.abs(a - numeric) / (atol / rtol + Math.abs(numeric));
      checked++;
      if (!(err <= maxRelErr)) {
        if (Number.isNaN(err) || err > maxRelErr) {
          maxRelErr = Number.isNaN(err) ? Infinity : err;
          worst = `${x.name}[${k}]: autodiff ${a} vs finite difference ${numeric}`;
        }
      }
    }
  }
  if (maxRelErr > rtol) throw new Error(`gradient check failed (rel err ${maxRelErr.toExponential(2)} > ${rtol}): ${worst}`);
  return { maxRelErr, worst, checked };
}
