// Plain-TypeScript float64 LLaMA forward (full recompute, no cache): the reference the ONNX
// export is checked against. Straight from the HF modeling_llama equations.
import type { LlamaConfig, Weights } from '../../../src/lab/lm/llama/config';

function matvecT(w: Float32Array, x: Float64Array, out: number, inn: number): Float64Array {
  // y = W x with W [out, in]
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = 0;
    for (let i = 0; i < inn; i++) s += w[o * inn + i] * x[i];
    y[o] = s;
  }
  return y;
}

function rms(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  ms /= x.length;
  const r = 1 / Math.sqrt(ms + eps);
  return x.map((v, i) => v * r * w[i]);
}

/** Logits [S, V] for one unpadded sequence of ids, positions 0..S-1. */
export function referenceLogits(c: LlamaConfig, w: Weights, ids: number[]): Float64Array[] {
  const H = c.hidden_size, D = c.head_dim, Hq = c.num_attention_heads, Hkv = c.num_key_value_heads;
  const rep = Hq / Hkv;
  const emb = w.get('model.embed_tokens.weight')!;
  let xs = ids.map((t) => Float64Array.from(emb.subarray(t * H, (t + 1) * H)));
  const rope = (v: Float64Array, pos: number) => {
    const out = new Float64Array(v.length);
    for (let h = 0; h < v.length / D; h++) {
      for (let j = 0; j < D / 2; j++) {
        const a = pos * Math.pow(c.rope_theta, -(2 * j) / D);
        const x1 = v[h * D + j], x2 = v[h * D + j + D / 2];
        out[h * D + j] = x1 * Math.cos(a) - x2 * Math.sin(a);
        out[h * D + j + D / 2] = x2 * Math.cos(a) + x1 * Math.sin(a);
      }
    }
    return out;
  };
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    const hs = xs.map((x) => rms(x, w.get(`${p}.input_layernorm.weight`)!, c.rms_norm_eps));
    const q = hs.map((h, t) => rope(matvecT(w.get(`${p}.self_attn.q_proj.weight`)!, h, Hq * D, H), t));
    const k = hs.map((h, t) => rope(matvecT(w.get(`${p}.self_attn.k_proj.weight`)!, h, Hkv * D, H), t));
    const v = hs.map((h) => matvecT(w.get(`${p}.self_attn.v_proj.weight`)!, h, Hkv * D, H));
    xs = xs.map((x, t) => {
      const ctx = new Float64Array(Hq * D);
      for (let hh = 0; hh < Hq; hh++) {
        const kh = Math.floor(hh / rep);
        const scores: number[] = [];
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[t][hh * D + d] * k[s][kh * D + d];
          scores.push(dot / Math.sqrt(D));
        }
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let s = 0; s <= t; s++) for (let d = 0; d < D; d++) ctx[hh * D + d] += (e[s] / z) * v[s][kh * D + d];
      }
      const o = matvecT(w.get(`${p}.self_attn.o_proj.weight`)!, ctx, H, Hq * D);
      const x1 = x.map((xi, i) => xi + o[i]);
      const h2 = rms(x1, w.get(`${p}.post_attention_layernorm.weight`)!, c.rms_norm_eps);
      const g = matvecT(w.get(`${p}.mlp.gate_proj.weight`)!, h2, c.intermediate_size, H);
      const u = matvecT(w.get(`${p}.mlp.up_proj.weight`)!, h2, c.intermediate_size, H);
      const a = g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * u[i]);
      const dn = matvecT(w.get(`${p}.mlp.down_proj.weight`)!, a, H, c.intermediate_size);
      return x1.map((xi, i) => xi + dn[i]);
    });
  }
  const head = c.tie_word_embeddings ? emb : w.get('lm_head.weight')!;
  return xs.map((x) => matvecT(head, rms(x, w.get('model.norm.weight')!, c.rms_norm_eps), c.vocab_size, H));
}
