// The LLaMA decoder (Touvron et al. 2023: RMSNorm, rotary positions, SwiGLU, grouped-query
// attention) as an ONNX inference model with a key/value cache, in the input/output contract of
// Hugging Face ONNX exports that @huggingface/transformers runs:
//   inputs  input_ids [B,S] int64, attention_mask [B,P+S] int64, position_ids [B,S] int64,
//           past_key_values.{i}.key / .value [B,Hkv,P,D] float32, num_logits_to_keep [] int64
//   outputs logits [B,L,V] (L = last num_logits_to_keep positions; 0 = all),
//           present.{i}.key / .value [B,Hkv,P+S,D]
// Parameters are initializers with their Hugging Face names and shapes (linear weights [out,in],
// applied through a Transpose that onnxruntime folds at load time), so import is a renaming.
import { type LlamaConfig, type Weights } from '../llama/config';
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

/** Build the ONNX model bytes for `config` with `weights` (HF names). */
export function buildLlamaOnnx(c: LlamaConfig, weights: Weights): Uint8Array {
  const w = checkLlamaWeights(c, weights, 'export');
  const b = new OnnxGraphBuilder();
  const H = c.hidden_size;
  const D = c.head_dim;
  const Hq = c.num_attention_heads;
  const Hkv = c.num_key_value_heads;
  const rep = Hq / Hkv;
  const L = c.num_hidden_layers;

  const param = (name: string, dims: number[]) => b.weight(name, w.get(name)!, dims);

  // ---- inputs
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

  // ---- parameters
  const embed = param('model.embed_tokens.weight', [c.vocab_size, H]);
  const { cos: cosT, sin: sinT } = rotaryTables(c);
  const cosTable = b.weight('rotary.cos', cosT, [c.max_position_embeddings, D]);
  const sinTable = b.weight('rotary.sin', sinT, [c.max_position_embeddings, D]);
  const linearT = (name: string, outDim: number, inDim: number) => b.o('Transpose', [param(name, [outDim, inDim])], { perm: [1, 0] });

  // ---- attention bias [B,1,S,T]: key j visible to query i iff j <= P + i and attention_mask[b, j] = 1
  const total = b.o('Shape', [attnMask], { start: 1, end: 2 });
  const seq = b.o('Shape', [inputIds], { start: 1, end: 2 });
  const pastLen = b.o('Sub', [total, seq]);
  const zero = b.ints([0], true);
  const one = b.ints([1], true);
  const totalS = b.o('Squeeze', [total, b.ints([0])]);
  const pastS = b.o('Squeeze', [pastLen, b.ints([0])]);
  const keyIdx = b.o('Unsqueeze', [b.o('Range', [zero, totalS, one]), b.ints([0])]); // [1,T]
  const queryIdx = b.o('Unsqueeze', [b.o('Range', [pastS, totalS, one]), b.ints([1])]); // [S,1]
  const causal = b.o('LessOrEqual', [keyIdx, queryIdx]); // [S,T]
  const padOk = b.o('Unsqueeze', [b.o('Cast', [attnMask], { to: ELEM.bool }), b.ints([1, 2])]); // [B,1,1,T]
  const allowed = b.o('And', [causal, padOk]);
  const bias = b.o('Where', [allowed, b.scalar(0), b.scalar(MASKED)]);

  // ---- rotary cos/sin at the given positions: [B,1,S,D]
  const cos = b.o('Unsqueeze', [b.o('Gather', [cosTable, positionIds], { axis: 0 }), b.ints([1])]);
  const sin = b.o('Unsqueeze', [b.o('Gather', [sinTable, positionIds], { axis: 0 }), b.ints([1])]);
  const rotate = (x: string) => {
    // rotate_half(x) = cat(-x2, x1); x_rot = x * cos + rotate_half(x) * sin
    const [x1, x2] = b.op('Split', [x, b.ints([D / 2, D / 2])], { axis: 3 }, 2);
    const rh = b.o('Concat', [b.o('Neg', [x2]), x1], { axis: 3 });
    return b.o('Add', [b.o('Mul', [x, cos]), b.o('Mul', [rh, sin])]);
  };
  const rmsNorm = (x: string, weight: string) => {
    const ms = b.o('ReduceMean', [b.o('Pow', [x, b.scalar(2)]), b.ints([-1])], { keepdims: 1 });
    const r = b.o('Sqrt', [b.o('Add', [ms, b.scalar(c.rms_norm_eps)])]);
    return b.o('Mul', [b.o('Div', [x, r]), weight]);
  };
  const heads = (x: string, n: number) => b.o('Transpose', [b.o('Reshape', [x, b.ints([0, 0, n, D])])], { perm: [0, 2, 1, 3] });
  const repeatKv = (x: string) =>
    rep === 1
      ? x
      : b.o('Reshape', [b.o('Expand', [b.o('Unsqueeze', [x, b.ints([2])]), b.ints([1, 1, rep, 1, 1])]), b.ints([0, Hq, -1, D])]);

  let x = b.o('Gather', [embed, inputIds], { axis: 0 }); // [B,S,H]
  const presents: string[] = [];
  for (let i = 0; i < L; i++) {
    const p = `model.layers.${i}`;
    // Attention block: x = x + o_proj(attn(rmsnorm(x)))
    const h = rmsNorm(x, param(`${p}.input_layernorm.weight`, [H]));
    const q = rotate(heads(b.o('MatMul', [h, linearT(`${p}.self_attn.q_proj.weight`, Hq * D, H)]), Hq));
    const k = rotate(heads(b.o('MatMul', [h, linearT(`${p}.self_attn.k_proj.weight`, Hkv * D, H)]), Hkv));
    const v = heads(b.o('MatMul', [h, linearT(`${p}.self_attn.v_proj.weight`, Hkv * D, H)]), Hkv);
    const kAll = b.o('Concat', [past[i].k, k], { axis: 2 });
    const vAll = b.o('Concat', [past[i].v, v], { axis: 2 });
    presents.push(kAll, vAll);
    const scores = b.o('Add', [
      b.o('Mul', [b.o('MatMul', [q, b.o('Transpose', [repeatKv(kAll)], { perm: [0, 1, 3, 2] })]), b.scalar(1 / Math.sqrt(D))]),
      bias,
    ]);
    const ctx = b.o('MatMul', [b.o('Softmax', [scores], { axis: -1 }), repeatKv(vAll)]); // [B,Hq,S,D]
    const merged = b.o('Reshape', [b.o('Transpose', [ctx], { perm: [0, 2, 1, 3] }), b.ints([0, 0, Hq * D])]);
    x = b.o('Add', [x, b.o('MatMul', [merged, linearT(`${p}.self_attn.o_proj.weight`, H, Hq * D)])]);
    // MLP block (SwiGLU): x = x + down(silu(gate(h)) * up(h))
    const h2 = rmsNorm(x, param(`${p}.post_attention_layernorm.weight`, [H]));
    const gate = b.o('MatMul', [h2, linearT(`${p}.mlp.gate_proj.weight`, c.intermediate_size, H)]);
    const up = b.o('MatMul', [h2, linearT(`${p}.mlp.up_proj.weight`, c.intermediate_size, H)]);
    const act = b.o('Mul', [b.o('Mul', [gate, b.o('Sigmoid', [gate])]), up]);
    x = b.o('Add', [x, b.o('MatMul', [act, linearT(`${p}.mlp.down_proj.weight`, H, c.intermediate_size)])]);
  }
  x = rmsNorm(x, param('model.norm.weight', [H]));
  // Keep the last num_logits_to_keep positions (0 keeps all: Slice from -0 = 0).
  const start = b.o('Neg', [b.o('Unsqueeze', [keep, b.ints([0])])]);
  const kept = b.o('Slice', [x, start, b.ints([INT64_MAX]), b.ints([1])]);
  const head = c.tie_word_embeddings ? b.o('Transpose', [embed], { perm: [1, 0] }) : linearT('lm_head.weight', c.vocab_size, H);
  const logits = b.o('MatMul', [kept, head]);

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
