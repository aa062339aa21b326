// LLaMA decoder with Hugging Face parameter names (model.embed_tokens, model.layers.{i}.*,
// model.norm, lm_head), nn.Linear layouts [out, in] without bias, RMSNorm, rotary (rotate_half,
// rope_theta), SiLU-gated MLP, optional grouped-query attention.
import { Tensor } from '../graph/graph';
import * as O from '../graph/ops';
import * as C from '../graph/composite';
import { ParamScope, normalInit } from './params';
import { causalAttention, embedding, linear, rmsNorm } from './layers';

export interface LlamaConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads?: number;
  rmsNormEps?: number;
  ropeTheta?: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings?: boolean;
  initializerRange?: number;
}

export function llamaHfConfig(c: LlamaConfig): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads ?? c.numHeads,
    rms_norm_eps: c.rmsNormEps ?? 1e-5,
    rope_theta: c.ropeTheta ?? 10000,
    max_position_embeddings: c.maxPositionEmbeddings,
    tie_word_embeddings: c.tieWordEmbeddings ?? false,
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    initializer_range: c.initializerRange ?? 0.02,
  };
}

export function llamaBlock(s: ParamScope, c: LlamaConfig, i: number, x: Tensor, rotary: { cos: Tensor; sin: Tensor }): Tensor {
  const p = `model.layers.${i}`;
  const eps = c.rmsNormEps ?? 1e-5;
  const init = normalInit(c.initializerRange ?? 0.02);
  const D = c.hiddenSize;
  const hd = D / c.numHeads;
  const kvD = (c.numKvHeads ?? c.numHeads) * hd;
  const lin = (n: string, t: Tensor, out: number) => linear(s, n, t, out, { bias: false, layout: 'linear', init });
  const h = rmsNorm(s, `${p}.input_layernorm`, x, eps);
  const q = lin(`${p}.self_attn.q_proj`, h, D);
  const k = lin(`${p}.self_attn.k_proj`, h, kvD);
  const v = lin(`${p}.self_attn.v_proj`, h, kvD);
  const att = causalAttention(q, k, v, { heads: c.numHeads, kvHeads: c.numKvHeads, rotary });
  const x1 = O.add(x, lin(`${p}.self_attn.o_proj`, att, D));
  const h2 = rmsNorm(s, `${p}.post_attention_layernorm`, x1, eps);
  const gated = O.mul(C.silu(lin(`${p}.mlp.gate_proj`, h2, c.intermediateSize)), lin(`${p}.mlp.up_proj`, h2, c.intermediateSize));
  return O.add(x1, lin(`${p}.mlp.down_proj`, gated, D));
}

export function llamaHidden(s: ParamScope, c: LlamaConfig, ids: Tensor): Tensor {
  const [, T] = ids.shape;
  if (T > c.maxPositionEmbeddings) throw new Error(`llama: sequence length ${T} exceeds max_position_embeddings ${c.maxPositionEmbeddings}`);
  const init = normalInit(c.initializerRange ?? 0.02);
  let x = embedding(s, 'model.embed_tokens', ids, c.vocabSize, c.hiddenSize, init);
  const rotary = C.rotaryTables(s.g, T, c.hiddenSize / c.numHeads, c.ropeTheta ?? 10000, 'float32');
  for (let i = 0; i < c.numLayers; i++) x = llamaBlock(s, c, i, x, rotary);
  return rmsNorm(s, 'model.norm', x, c.rmsNormEps ?? 1e-5);
}

export function llamaLogits(s: ParamScope, c: LlamaConfig, ids: Tensor): Tensor {
  const h = llamaHidden(s, c, ids);
  const init = normalInit(c.initializerRange ?? 0.02);
  const w = c.tieWordEmbeddings
    ? s.param('model.embed_tokens.weight', [c.vocabSize, c.hiddenSize], init)
    : s.param('lm_head.weight', [c.vocabSize, c.hiddenSize], init);
  return O.matmul(h, O.transpose(w));
}
