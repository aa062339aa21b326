// GPT-2 decoder with Hugging Face parameter names (transformer.wte/wpe/h.{i}.*/ln_f; lm_head tied
// to wte), Conv1D layouts [in, out], gelu_new (tanh form), LayerNorm eps 1e-5.
import { Tensor } from '../graph/graph';
import * as O from '../graph/ops';
import { ParamScope, normalInit } from './params';
import * as C from '../graph/composite';
import { causalAttention, embedding, layerNorm, linear } from './layers';

export interface Gpt2Config {
  vocabSize: number;
  /** Maximum context (n_positions). */
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  layerNormEps?: number;
  initializerRange?: number;
}

/** HF config.json fields for this config. */
export function gpt2HfConfig(c: Gpt2Config): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocabSize,
    n_positions: c.nPositions,
    n_ctx: c.nPositions,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: null,
    activation_function: 'gelu_new',
    layer_norm_epsilon: c.layerNormEps ?? 1e-5,
    initializer_range: c.initializerRange ?? 0.02,
    tie_word_embeddings: true,
  };
}

/** One pre-LN block: x + attn(ln_1 x), then + mlp(ln_2 x). */
export function gpt2Block(s: ParamScope, c: Gpt2Config, i: number, x: Tensor): Tensor {
  const p = `transformer.h.${i}`;
  const eps = c.layerNormEps ?? 1e-5;
  const std = c.initializerRange ?? 0.02;
  const projInit = normalInit(std / Math.sqrt(2 * c.nLayer)); // GPT-2's scaled residual projections
  const D = c.nEmbd;
  const h = layerNorm(s, `${p}.ln_1`, x, eps);
  const qkv = linear(s, `${p}.attn.c_attn`, h, 3 * D, { layout: 'conv1d', init: normalInit(std) });
  const [q, k, v] = O.split(qkv, [D, D, D], -1);
  const att = linear(s, `${p}.attn.c_proj`, causalAttention(q, k, v, { heads: c.nHead }), D, { layout: 'conv1d', init: projInit });
  const x1 = O.add(x, att);
  const h2 = layerNorm(s, `${p}.ln_2`, x1, eps);
  const fc = linear(s, `${p}.mlp.c_fc`, h2, 4 * D, { layout: 'conv1d', init: normalInit(std) });
  const m = linear(s, `${p}.mlp.c_proj`, C.gelu(fc, 'tanh'), D, { layout: 'conv1d', init: projInit });
  return O.add(x1, m);
}

/** Hidden states [B,T,D] after ln_f for int64 ids [B,T]. */
export function gpt2Hidden(s: ParamScope, c: Gpt2Config, ids: Tensor): Tensor {
  const [, T] = ids.shape;
  if (T > c.nPositions) throw new Error(`gpt2: sequence length ${T} exceeds n_positions ${c.nPositions}`);
  const std = c.initializerRange ?? 0.02;
  const tok = embedding(s, 'transformer.wte', ids, c.vocabSize, c.nEmbd, normalInit(std));
  const wpe = s.param('transformer.wpe.weight', [c.nPositions, c.nEmbd], normalInit(0.01));
  let x = O.add(tok, T === c.nPositions ? wpe : O.slice(wpe, [0], [T], [0]));
  for (let i = 0; i < c.nLayer; i++) x = gpt2Block(s, c, i, x);
  return layerNorm(s, 'transformer.ln_f', x, c.layerNormEps ?? 1e-5);
}

/** Logits [B,T,V] (lm_head tied to transformer.wte). */
export function gpt2Logits(s: ParamScope, c: Gpt2Config, ids: Tensor): Tensor {
  const h = gpt2Hidden(s, c, ids);
  const wte = s.param('transformer.wte.weight', [c.vocabSize, c.nEmbd], normalInit(c.initializerRange ?? 0.02));
  return O.matmul(h, O.transpose(wte));
}
