// Layers over a ParamScope. Parameter names and layouts follow Hugging Face so checkpoints
// convert by renaming only: Conv1D (GPT-2) weights are [in, out], nn.Linear weights are [out, in].
import { Tensor } from '../graph/graph';
import * as O from '../graph/ops';
import * as C from '../graph/composite';
import { type Init, ParamScope, normalInit, onesInit, zerosInit } from './params';

export interface LinearOptions {
  bias?: boolean;
  /** 'linear': weight [out, in] (torch nn.Linear); 'conv1d': weight [in, out] (HF GPT-2 Conv1D). */
  layout?: 'linear' | 'conv1d';
  init?: Init;
}

/** y = x W (+ b) over the last axis; parameters `${name}.weight` and `${name}.bias`. */
export function linear(s: ParamScope, name: string, x: Tensor, outDim: number, opts: LinearOptions = {}): Tensor {
  const inDim = x.shape[x.rank - 1];
  const layout = opts.layout ?? 'linear';
  const init = opts.init ?? normalInit(0.02);
  const w = s.param(`${name}.weight`, layout === 'linear' ? [outDim, inDim] : [inDim, outDim], init);
  const y = O.matmul(x, layout === 'linear' ? O.transpose(w) : w);
  if (opts.bias ?? true) return O.add(y, s.param(`${name}.bias`, [outDim], zerosInit));
  return y;
}

/** Embedding lookup: weight [num, dim] gathered by int64 ids. */
export function embedding(s: ParamScope, name: string, ids: Tensor, num: number, dim: number, init: Init = normalInit(0.02)): Tensor {
  return O.gather(s.param(`${name}.weight`, [num, dim], init), ids, 0);
}

export function layerNorm(s: ParamScope, name: string, x: Tensor, eps = 1e-5): Tensor {
  const d = x.shape[x.rank - 1];
  return O.layerNorm(x, s.param(`${name}.weight`, [d], onesInit), s.param(`${name}.bias`, [d], zerosInit), eps);
}

export function rmsNorm(s: ParamScope, name: string, x: Tensor, eps = 1e-5): Tensor {
  const d = x.shape[x.rank - 1];
  return C.rmsNorm(x, s.param(`${name}.weight`, [d], onesInit), eps);
}

/** Two-layer perceptron with an activation (GPT-2 naming: c_fc, c_proj). */
export function mlp(s: ParamScope, name: string, x: Tensor, hidden: number, act: (t: Tensor) => Tensor = (t) => C.gelu(t, 'tanh'), opts: LinearOptions = {}): Tensor {
  const d = x.shape[x.rank - 1];
  return linear(s, `${name}.c_proj`, act(linear(s, `${name}.c_fc`, x, hidden, opts)), d, opts);
}

export interface AttentionShape {
  heads: number;
  /** Key/value heads (grouped-query attention); defaults to `heads`. */
  kvHeads?: number;
  /** Rotary tables [T, headDim] applied to q and k (LLaMA). */
  rotary?: { cos: Tensor; sin: Tensor };
}

/**
 * Causal multi-head attention core. q [B,T,H*hd], k, v [B,T,Hkv*hd] -> [B,T,H*hd].
 * softmax(q k^T / sqrt(hd) + causal mask) v per head; kv heads are repeated for GQA.
 */
export function causalAttention(q: Tensor, k: Tensor, v: Tensor, a: AttentionShape): Tensor {
  const [B, T, D] = q.shape;
  const H = a.heads;
  const Hkv = a.kvHeads ?? H;
  const hd = D / H;
  const heads = (x: Tensor, h: number) => O.transpose(O.reshape(x, [B, T, h, hd]), [0, 2, 1, 3]); // [B,h,T,hd]
  let qh = heads(q, H);
  let kh = heads(k, Hkv);
  let vh = heads(v, Hkv);
  if (a.rotary) {
    qh = C.applyRotary(qh, a.rotary.cos, a.rotary.sin);
    kh = C.applyRotary(kh, a.rotary.cos, a.rotary.sin);
  }
  if (Hkv !== H) {
    const rep = (x: Tensor) => O.reshape(O.expand(O.unsqueeze(x, [2]), [B, Hkv, H / Hkv, T, hd]), [B, H, T, hd]);
    kh = rep(kh);
    vh = rep(vh);
  }
  const scores = O.add(O.mul(O.matmul(qh, O.transposeLast2(kh)), 1 / Math.sqrt(hd)), C.causalMask(q.graph, T, q.dtype));
  const ctx = O.matmul(O.softmax(scores, -1), vh); // [B,H,T,hd]
  return O.reshape(O.transpose(ctx, [0, 2, 1, 3]), [B, T, D]);
}
