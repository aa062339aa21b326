// Ops built from primitives (their gradients come from the primitives' rules; ORT's graph
// optimizer fuses the common patterns, e.g. Gelu, back into single kernels).
import { type DType, Graph, Tensor } from './graph';
import * as O from './ops';

/** GELU: 'tanh' is GPT-2's "gelu_new"; 'erf' is the exact form. */
export function gelu(x: Tensor, approximate: 'tanh' | 'erf' = 'tanh'): Tensor {
  // the fused ONNX op (one kernel, saves only x for backward) where ORT's CPU provider has it
  if (x.dtype === 'float32' || (x.dtype === 'float64' && approximate === 'tanh')) return O.geluOp(x, approximate === 'tanh' ? 'tanh' : 'none');
  if (approximate === 'erf') return O.mul(O.mul(x, 0.5), O.add(O.erf(O.mul(x, Math.SQRT1_2)), 1));
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  const inner = O.mul(O.add(x, O.mul(O.mul(O.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
  return O.mul(O.mul(x, 0.5), O.add(O.tanh(inner), 1));
}

/** SiLU / swish: x * sigmoid(x). */
export const silu = (x: Tensor): Tensor => O.mul(x, O.sigmoid(x));

/** RMS norm over the last axis (LLaMA): x / sqrt(mean(x^2) + eps) * weight. */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-5): Tensor {
  const ms = O.mean(O.mul(x, x), [-1], true);
  return O.mul(O.div(x, O.sqrt(O.add(ms, eps))), weight);
}

/** Additive causal mask [T, T]: 0 on and below the diagonal, a large negative number above. */
export function causalMask(g: Graph, T: number, dtype: DType = 'float32'): Tensor {
  const n = T * T;
  const v = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) v[i * T + j] = -1e9;
  return g.constant(v, [T, T], dtype);
}

/** cos/sin tables [T, headDim] for rotary embeddings as in HF (emb = cat(freqs, freqs)). */
export function rotaryTables(g: Graph, T: number, headDim: number, theta = 10000, dtype: DType = 'float32', offset = 0): { cos: Tensor; sin: Tensor } {
  const half = headDim / 2;
  const cos = dtype === 'float64' ? new Float64Array(T * headDim) : new Float32Array(T * headDim);
  const sin = dtype === 'float64' ? new Float64Array(T * headDim) : new Float32Array(T * headDim);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      // inv_freq computed in float32 as HF does: 1 / theta^(2i/d)
      const invFreq = Math.fround(1 / Math.pow(theta, (2 * i) / headDim));
      const ang = Math.fround((t + offset) * invFreq);
      cos[t * headDim + i] = cos[t * headDim + i + half] = Math.cos(ang);
      sin[t * headDim + i] = sin[t * headDim + i + half] = Math.sin(ang);
    }
  }
  return { cos: g.constant(cos, [T, headDim], dtype), sin: g.constant(sin, [T, headDim], dtype) };
}

/** HF rotate_half: cat(-x2, x1) over the last axis. */
export function rotateHalf(x: Tensor): Tensor {
  const d = x.shape[x.rank - 1];
  const [x1, x2] = O.split(x, [d / 2, d / 2], -1);
  return O.concat([O.neg(x2), x1], -1);
}

/** Rotary position embedding: x * cos + rotate_half(x) * sin; x [..., T, headDim]. */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return O.add(O.mul(x, cos), O.mul(rotateHalf(x), sin));
}

/** log(sum(exp(x))) along axis, stabilized by the (detached) max. */
export function logSumExp(x: Tensor, axis = -1, keepdims = false): Tensor {
  const m = O.stopGradient(O.max(x, [axis], true));
  const s = O.add(O.log(O.sum(O.exp(O.sub(x, m)), [axis], true)), m);
  return keepdims ? s : O.squeeze(s, [axis < 0 ? axis + x.rank : axis]);
}
