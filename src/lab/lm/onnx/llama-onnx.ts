// The LLaMA decoder (Touvron et al. 2023: RMSNorm, rotary positions, SwiGLU, grouped-query
// attention) as an ONNX inference model with a key/value cache, in the input/output contract of
// Hugging Face ONNX exports that @huggingface/transformers runs:
//   inputs  input_ids [B,S] int64, attention_mask [B,P+S] int64, position_ids [B,S] int64,
//           past_key_values.{i}.key / .value [B,Hkv,P,D] float32, num_logits_to_keep [] int64
//   outputs logits [B,L,V] (L = last num_logits_to_keep positions; 0 = all),
//           present.{i}.key / .value [B,Hkv,P+S,D]
// Parameters are initializers with their Hugging Face names and shapes (linear weights [out,in],
// applied through a Transpose that onnxruntime folds at load time), so import is a renaming.
import { type LlamaConfig, llamaParamSpecs, type Weights } from '../llama/config';
import { checkLlamaWeights } from '../llama/weights';
import { ELEM, OnnxGraphBuilder } from './builder';

const INT64_MAX = Number.MAX_SAFE_INTEGER; // exact in int64; any end past the length works for Slice
const MASKED = -1e9;

/** cos/sin tables [maxPos, D] in HF's layout (frequencies repeated over both halves). */
export function rotaryTables(c: LlamaConfig): { cos: Float32Array; sin: Float32Array } {
  const D = c.head_dim;
  const half = D / 2;
  const cos = new Float32Array(c.max_position_embeddings * D);
  const sin = new Float32Array(c.max_position_embeddings * D);
  for (let p = 0; p < c.max_position_embeddings; p++) {
    for (let j = 0; j < half; j++) {
      // float32 inverse frequencies and angles, as HF (and src/core/graph rotaryTables) compute them
      const invFreq = Math.fround(1 / Math.pow(c.rope_theta, (2 * j) / D));
      const a = Math.fround(p * invFreq);
      cos[p * D + j] = cos[p * D + j + half] = Math.cos(a);
      sin[p * D + j] = sin[p * D + j + half] = Math.sin(a);
    }
  }
  return { cos, sin };
}

export const pastKeyName = (i: number) => `past_key_values.${i}.key`;
export const pastValueName = (i: number) => `past_key_values.${i}.value`;
export const presentKeyName = (i: number) => `present.${i}.key`;
export const presentValueName = (i: number) => `present.${i}.value`;

/**
 * Graph values holding the weights: `weight(name)` is the HF-named tensor, `linearT(name)` its
 * transpose [in, out] for MatMul (computed once per graph; onnxruntime folds it at load time).
 */
export interface WeightRefs {
  weight(name: string): string;
  linearT(name: string): string;
  cos: string;
  sin: string;
  /** [maxPos, D/2] tables for the opset-23 RotaryEmbedding op (fused decoder only). */
  cosHalf: string;
  sinHalf: string;
}

/** Declare every parameter (and the rotary tables) as initializers of `b`; returns references. */
export function declareWeights(b: OnnxGraphBuilder, c: LlamaConfig, w: Weights, fused = false): WeightRefs {
  const names = new Map<string, string>();
  const transposed = new Map<string, string>();
  for (const s of llamaParamSpecs(c)) names.set(s.name, b.weight(s.name, w.get(s.name)!, s.shape));
  const { cos, sin } = rotaryTables(c);
  const D = c.head_dim;
  const half = (t: Float32Array) => {
    const out = new Float32Array(c.max_position_embeddings * (D / 2));
    for (let p = 0; p < c.max_position_embeddings; p++) out.set(t.subarray(p * D, p * D + D / 2), (p * D) / 2);
    return out;
  };
  return {
    cosHalf: fused ? b.weight('rotary.cos_half', half(cos), [c.max_position_embeddings, D / 2]) : '',
    sinHalf: fused ? b.weight('rotary.sin_half', half(sin), [c.max_position_embeddings, D / 2]) : '',
    weight: (n) => names.get(n)!,
    linearT: (n) => {
      let t = transposed.get(n);
      if (!t) transposed.set(n, (t = b.o('Transpose', [names.get(n)!], { perm: [1, 0] })));
      return t;
    },
    cos: fused ? '' : b.weight('rotary.cos', cos, [c.max_position_embeddings, c.head_dim]),
    sin: fused ? '' : b.weight('rotary.sin', sin, [c.max_position_embeddings, c.head_dim]),
  };
}

export interface DecoderIo {
  inputIds: string;
  attnMask: string;
  positionIds: string;
  past: { k: string; v: string }[];
}

/** Bool [B,1,S,T]: key j visible to query i iff j <= P + i (P = T - S, the cache length) and attention_mask[b, j] = 1. */
function attentionAllowed(b: OnnxGraphBuilder, inputIds: string, attnMask: string): string {
  const total = b.o('Shape', [attnMask], { start: 1, end: 2 });
  const seq = b.o('Shape', [inputIds], { start: 1, end: 2 });
  const zero = b.ints([0], true);
  const one = b.ints([1], true);
  const totalS = b.o('Squeeze', [total, b.ints([0])]);
  const pastS = b.o('Squeeze', [b.o('Sub', [total, seq]), b.ints([0])]);
  const keyIdx = b.o('Unsqueeze', [b.o('Range', [zero, totalS, one]), b.ints([0])]); // [1,T]
  const queryIdx = b.o('Unsqueeze', [b.o('Range', [pastS, totalS, one]), b.ints([1])]); // [S,1]
  const causal = b.o('LessOrEqual', [keyIdx, queryIdx]); // [S,T]
  const padOk = b.o('Unsqueeze', [b.o('Cast', [attnMask], { to: ELEM.bool }), b.ints([1, 2])]); // [B,1,1,T]
  return b.o('And', [causal, padOk]);
}

/**
 * Emit the decoder into `b` (which may be a Loop body reading the weights from the outer graph).
 * Returns the final-norm hidden states [B,S,H] and present.{i}.key/value values (k0, v0, k1, ...).
 */
export function emitDecoder(b: OnnxGraphBuilder, c: LlamaConfig, w: WeightRefs, io: DecoderIo, fused = false): { hidden: string; presents: string[] } {
  if (fused) return emitFusedDecoder(b, c, w, io);
  const D = c.head_dim;
  const Hq = c.num_attention_heads;
  const Hkv = c.num_key_value_heads;
  const rep = Hq / Hkv;
  const { inputIds, attnMask, positionIds, past } = io;

  const allowed = attentionAllowed(b, inputIds, attnMask);
  const bias = b.o('Where', [allowed, b.scalar(0), b.scalar(MASKED)]);

  // ---- rotary cos/sin at the given positions: [B,1,S,D]
  const cos = b.o('Unsqueeze', [b.o('Gather', [w.cos, positionIds], { axis: 0 }), b.ints([1])]);
  const sin = b.o('Unsqueeze', [b.o('Gather', [w.sin, positionIds], { axis: 0 }), b.ints([1])]);
  const rotate = (x: string) => {
    // rotate_half(x) = cat(-x2, x1); x_rot = x * cos + rotate_half(x) * sin
    const [x1, x2] = b.op('Split', [x, b.ints([D / 2, D / 2])], { axis: 3 }, 2);
    const rh = b.o('Concat', [b.o('Neg', [x2]), x1], { axis: 3 });
    return b.o('Add', [b.o('Mul', [x, cos]), b.o('Mul', [rh, sin])]);
  };
  const rmsNorm = (x: string, weight: string) => {
    // Pow (not Mul) so that onnxruntime fuses the pattern into SimplifiedLayerNormalization
    const ms = b.o('ReduceMean', [b.o('Pow', [x, b.scalar(2)]), b.ints([-1])], { keepdims: 1 });
    const r = b.o('Sqrt', [b.o('Add', [ms, b.scalar(c.rms_norm_eps)])]);
    return b.o('Mul', [b.o('Div', [x, r]), weight]);
  };
  const heads = (x: string, n: number) => b.o('Transpose', [b.o('Reshape', [x, b.ints([0, 0, n, D])])], { perm: [0, 2, 1, 3] });
  const repeatKv = (x: string) =>
    rep === 1
      ? x
      : b.o('Reshape', [b.o('Expand', [b.o('Unsqueeze', [x, b.ints([2])]), b.ints([1, 1, rep, 1, 1])]), b.ints([0, Hq, -1, D])]);

  let x = b.o('Gather', [w.weight('model.embed_tokens.weight'), inputIds], { axis: 0 }); // [B,S,H]
  const presents: string[] = [];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    // Attention block: x = x + o_proj(attn(rmsnorm(x)))
    const h = rmsNorm(x, w.weight(`${p}.input_layernorm.weight`));
    const q = rotate(heads(b.o('MatMul', [h, w.linearT(`${p}.self_attn.q_proj.weight`)]), Hq));
    const k = rotate(heads(b.o('MatMul', [h, w.linearT(`${p}.self_attn.k_proj.weight`)]), Hkv));
    const v = heads(b.o('MatMul', [h, w.linearT(`${p}.self_attn.v_proj.weight`)]), Hkv);
    const kAll = b.o('Concat', [past[i].k, k], { axis: 2 });
    const vAll = b.o('Concat', [past[i].v, v], { axis: 2 });
    presents.push(kAll, vAll);
    const scores = b.o('Add', [
      b.o('Mul', [b.o('MatMul', [q, b.o('Transpose', [repeatKv(kAll)], { perm: [0, 1, 3, 2] })]), b.scalar(1 / Math.sqrt(D))]),
      bias,
    ]);
    const ctx = b.o('MatMul', [b.o('Softmax', [scores], { axis: -1 }), repeatKv(vAll)]); // [B,Hq,S,D]
    const merged = b.o('Reshape', [b.o('Transpose', [ctx], { perm: [0, 2, 1, 3] }), b.ints([0, 0, Hq * D])]);
    x = b.o('Add', [x, b.o('MatMul', [merged, w.linearT(`${p}.self_attn.o_proj.weight`)])]);
    // MLP block (SwiGLU): x = x + down(silu(gate(h)) * up(h))
    const h2 = rmsNorm(x, w.weight(`${p}.post_attention_layernorm.weight`));
    const gate = b.o('MatMul', [h2, w.linearT(`${p}.mlp.gate_proj.weight`)]);
    const up = b.o('MatMul', [h2, w.linearT(`${p}.mlp.up_proj.weight`)]);
    const act = b.o('Mul', [b.o('Mul', [gate, b.o('Sigmoid', [gate])]), up]);
    x = b.o('Add', [x, b.o('MatMul', [act, w.linearT(`${p}.mlp.down_proj.weight`)])]);
  }
  return { hidden: rmsNorm(x, w.weight('model.norm.weight')), presents };
}

/**
 * The same decoder with the opset-23 RotaryEmbedding and Attention operators (KV cache and
 * padding mask handled inside Attention): about a third of the nodes, which is what a decode step
 * of a small model costs. Needs an opset-23 model (the sampler's private graph), not the export.
 */
function emitFusedDecoder(b: OnnxGraphBuilder, c: LlamaConfig, w: WeightRefs, io: DecoderIo): { hidden: string; presents: string[] } {
  const Hq = c.num_attention_heads;
  const Hkv = c.num_key_value_heads;
  const { inputIds, attnMask, positionIds, past } = io;
  const maskBool = attentionAllowed(b, inputIds, attnMask); // [B,1,S,T], passed explicitly (is_causal = 0)
  const rmsNorm = (x: string, weight: string) => b.o('RMSNormalization', [x, weight], { axis: -1, epsilon: { float: c.rms_norm_eps } });
  let x = b.o('Gather', [w.weight('model.embed_tokens.weight'), inputIds], { axis: 0 });
  const presents: string[] = [];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    const h = rmsNorm(x, w.weight(`${p}.input_layernorm.weight`));
    const rope = (t: string, heads: number) => b.o('RotaryEmbedding', [t, w.cosHalf, w.sinHalf, positionIds], { interleaved: 0, num_heads: heads });
    const q = rope(b.o('MatMul', [h, w.linearT(`${p}.self_attn.q_proj.weight`)]), Hq);
    const k = rope(b.o('MatMul', [h, w.linearT(`${p}.self_attn.k_proj.weight`)]), Hkv);
    const v = b.o('MatMul', [h, w.linearT(`${p}.self_attn.v_proj.weight`)]);
    let y: string;
    if (past.length) {
      const [out, pk, pv] = b.op('Attention', [q, k, v, maskBool, past[i].k, past[i].v], { q_num_heads: Hq, kv_num_heads: Hkv, is_causal: 0 }, 3);
      presents.push(pk, pv);
      y = out;
    } else {
      // no cache in: prefill or scoring; the cache out is this step's keys/values in [B,H,S,D]
      y = b.o('Attention', [q, k, v, maskBool], { q_num_heads: Hq, kv_num_heads: Hkv, is_causal: 0 });
      const bhsd = (t: string) => b.o('Transpose', [b.o('Reshape', [t, b.ints([0, 0, Hkv, c.head_dim])])], { perm: [0, 2, 1, 3] });
      presents.push(bhsd(k), bhsd(v));
    }
    x = b.o('Add', [x, b.o('MatMul', [y, w.linearT(`${p}.self_attn.o_proj.weight`)])]);
    const h2 = rmsNorm(x, w.weight(`${p}.post_attention_layernorm.weight`));
    const gate = b.o('MatMul', [h2, w.linearT(`${p}.mlp.gate_proj.weight`)]);
    const up = b.o('MatMul', [h2, w.linearT(`${p}.mlp.up_proj.weight`)]);
    x = b.o('Add', [x, b.o('MatMul', [b.o('Mul', [b.o('Mul', [gate, b.o('Sigmoid', [gate])]), up]), w.linearT(`${p}.mlp.down_proj.weight`)])]);
  }
  return { hidden: rmsNorm(x, w.weight('model.norm.weight')), presents };
}

/** logits = hidden @ lm_head^T (the embedding when tied). */
export function emitLmHead(b: OnnxGraphBuilder, c: LlamaConfig, w: WeightRefs, hidden: string): string {
  const head = c.tie_word_embeddings ? w.linearT('model.embed_tokens.weight') : w.linearT('lm_head.weight');
  return b.o('MatMul', [hidden, head]);
}

/** Build the ONNX model bytes for `config` with `weights` (HF names). */
export function buildLlamaOnnx(c: LlamaConfig, weights: Weights): Uint8Array {
  const w = checkLlamaWeights(c, weights, 'export');
  const b = new OnnxGraphBuilder();
  const D = c.head_dim;
  const Hkv = c.num_key_value_heads;
  const L = c.num_hidden_layers;
  const inputIds = b.input('input_ids', ELEM.int64, ['batch_size', 'sequence_length']);
  const attnMask = b.input('attention_mask', ELEM.int64, ['batch_size', 'total_sequence_length']);
  const positionIds = b.input('position_ids', ELEM.int64, ['batch_size', 'sequence_length']);
  const past: { k: string; v: string }[] = [];
  for (let i = 0; i < L; i++) {
    past.push({
      k: b.input(pastKeyName(i), ELEM.float32, ['batch_size', Hkv, 'past_sequence_length', D]),
      v: b.input(pastValueName(i), ELEM.float32, ['batch_size', Hkv, 'past_sequence_length', D]),
    });
  }
  const keep = b.input('num_logits_to_keep', ELEM.int64, []);
  const refs = declareWeights(b, c, w);
  const { hidden, presents } = emitDecoder(b, c, refs, { inputIds, attnMask, positionIds, past });
  // Keep the last num_logits_to_keep positions (0 keeps all: Slice from -0 = 0).
  const start = b.o('Neg', [b.o('Unsqueeze', [keep, b.ints([0])])]);
  const kept = b.o('Slice', [hidden, start, b.ints([INT64_MAX]), b.ints([1])]);
  const logits = emitLmHead(b, c, refs, kept);

  b.rename(logits, 'logits');
  b.output('logits', ELEM.float32, ['batch_size', 'logits_length', c.vocab_size]);
  for (let i = 0; i < L; i++) {
    b.rename(presents[2 * i], presentKeyName(i));
    b.rename(presents[2 * i + 1], presentValueName(i));
    b.output(presentKeyName(i), ELEM.float32, ['batch_size', Hkv, 'total_sequence_length', D]);
    b.output(presentValueName(i), ELEM.float32, ['batch_size', Hkv, 'total_sequence_length', D]);
  }
  return b.encode('llama');
}
