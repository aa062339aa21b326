// LLaMA-family model configuration, with the field names of Hugging Face `config.json`
// (model_type "llama"), and the list of parameters (HF names and shapes) it implies.
import { z } from 'zod';

export const llamaConfigSchema = z
  .object({
    model_type: z.literal('llama').describe('Architecture; only "llama" is supported'),
    vocab_size: z.number().int().min(2).max(1 << 20).describe('Vocabulary size (rows of the embedding)'),
    hidden_size: z.number().int().min(1).max(16384).describe('Model width'),
    intermediate_size: z.number().int().min(1).max(65536).describe('Width of the SwiGLU MLP'),
    num_hidden_layers: z.number().int().min(1).max(256).describe('Number of decoder layers'),
    num_attention_heads: z.number().int().min(1).max(256).describe('Query heads'),
    num_key_value_heads: z.number().int().min(1).max(256).describe('Key/value heads (grouped-query attention when fewer than query heads)'),
    head_dim: z.number().int().min(1).max(1024).describe('Width of one head'),
    max_position_embeddings: z.number().int().min(1).max(1 << 20).describe('Longest sequence (rotary table length)'),
    rms_norm_eps: z.number().positive().max(1).describe('Epsilon of RMSNorm'),
    rope_theta: z.number().positive().describe('Rotary base frequency'),
    tie_word_embeddings: z.boolean().describe('Whether lm_head shares the embedding matrix'),
    hidden_act: z.literal('silu').describe('MLP activation (SwiGLU)'),
    bos_token_id: z.number().int().min(0).nullable().describe('Beginning-of-sequence id'),
    eos_token_id: z.union([z.number().int().min(0), z.array(z.number().int().min(0))]).nullable().describe('End-of-sequence id(s)'),
    pad_token_id: z.number().int().min(0).nullable().describe('Padding id'),
  })
  .strict();

export type LlamaConfig = z.infer<typeof llamaConfigSchema>;

export interface LlamaDims {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim?: number;
  maxPositions: number;
  tieEmbeddings?: boolean;
  ropeTheta?: number;
  rmsNormEps?: number;
  bosTokenId?: number | null;
  eosTokenId?: number | null;
  padTokenId?: number | null;
}

/** A complete, validated config from the few dimensions that matter. */
export function llamaConfig(d: LlamaDims): LlamaConfig {
  return parseLlamaConfig({
    model_type: 'llama',
    vocab_size: d.vocabSize,
    hidden_size: d.hiddenSize,
    intermediate_size: d.intermediateSize,
    num_hidden_layers: d.layers,
    num_attention_heads: d.heads,
    num_key_value_heads: d.kvHeads,
    head_dim: d.headDim ?? d.hiddenSize / d.heads,
    max_position_embeddings: d.maxPositions,
    rms_norm_eps: d.rmsNormEps ?? 1e-5,
    rope_theta: d.ropeTheta ?? 10000,
    tie_word_embeddings: d.tieEmbeddings ?? true,
    hidden_act: 'silu',
    bos_token_id: d.bosTokenId ?? null,
    eos_token_id: d.eosTokenId ?? null,
    pad_token_id: d.padTokenId ?? null,
  });
}

/** Validate a config object; errors name the field. Extra HF fields are accepted and dropped. */
export function parseLlamaConfig(raw: unknown, where = 'config.json'): LlamaConfig {
  if (!raw || typeof raw !== 'object') throw new Error(`${where}: expected a JSON object`);
  const obj = { ...(raw as Record<string, unknown>) };
  if (obj.model_type !== 'llama') {
    throw new Error(`${where}: model_type ${JSON.stringify(obj.model_type)} is not supported (supported: "llama")`);
  }
  // Defaults HF applies when a field is absent.
  const heads = obj.num_attention_heads;
  const defaults: Record<string, unknown> = {
    num_key_value_heads: heads,
    head_dim: typeof obj.hidden_size === 'number' && typeof heads === 'number' ? obj.hidden_size / heads : undefined,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    tie_word_embeddings: false,
    hidden_act: 'silu',
    bos_token_id: null,
    eos_token_id: null,
    pad_token_id: null,
    max_position_embeddings: 2048,
  };
  for (const [k, v] of Object.entries(defaults)) if (obj[k] === undefined || (k === 'head_dim' && obj[k] === null)) obj[k] = v;
  const known = Object.keys(llamaConfigSchema.shape);
  const picked: Record<string, unknown> = {};
  for (const k of known) picked[k] = obj[k];
  if (obj.rope_scaling !== undefined && obj.rope_scaling !== null) {
    throw new Error(`${where}: rope_scaling ${JSON.stringify(obj.rope_scaling)} is not supported`);
  }
  if (obj.attention_bias === true || obj.mlp_bias === true) throw new Error(`${where}: attention_bias / mlp_bias are not supported`);
  const r = llamaConfigSchema.safeParse(picked);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`${where}: field ${issue.path.join('.')}: ${issue.message}`);
  }
  const c = r.data;
  if (c.num_attention_heads % c.num_key_value_heads !== 0) {
    throw new Error(`${where}: num_attention_heads (${c.num_attention_heads}) must be a multiple of num_key_value_heads (${c.num_key_value_heads})`);
  }
  if (c.head_dim % 2 !== 0) throw new Error(`${where}: head_dim must be even for rotary embeddings, got ${c.head_dim}`);
  return c;
}

export interface ParamSpec {
  name: string;
  shape: number[];
  /** 'norm' weights start at 1, the rest are random matrices. */
  kind: 'embedding' | 'linear' | 'norm';
}

/** Every parameter of the model, with Hugging Face names and shapes ([out, in] for linear layers). */
export function llamaParamSpecs(c: LlamaConfig): ParamSpec[] {
  const H = c.hidden_size;
  const q = c.num_attention_heads * c.head_dim;
  const kv = c.num_key_value_heads * c.head_dim;
  const specs: ParamSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocab_size, H], kind: 'embedding' }];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    specs.push(
      { name: `${p}.input_layernorm.weight`, shape: [H], kind: 'norm' },
      { name: `${p}.self_attn.q_proj.weight`, shape: [q, H], kind: 'linear' },
      { name: `${p}.self_attn.k_proj.weight`, shape: [kv, H], kind: 'linear' },
      { name: `${p}.self_attn.v_proj.weight`, shape: [kv, H], kind: 'linear' },
      { name: `${p}.self_attn.o_proj.weight`, shape: [H, q], kind: 'linear' },
      { name: `${p}.post_attention_layernorm.weight`, shape: [H], kind: 'norm' },
      { name: `${p}.mlp.gate_proj.weight`, shape: [c.intermediate_size, H], kind: 'linear' },
      { name: `${p}.mlp.up_proj.weight`, shape: [c.intermediate_size, H], kind: 'linear' },
      { name: `${p}.mlp.down_proj.weight`, shape: [H, c.intermediate_size], kind: 'linear' },
    );
  }
  specs.push({ name: 'model.norm.weight', shape: [H], kind: 'norm' });
  if (!c.tie_word_embeddings) specs.push({ name: 'lm_head.weight', shape: [c.vocab_size, H], kind: 'linear' });
  return specs;
}

export function countParams(c: LlamaConfig): number {
  return llamaParamSpecs(c).reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
}

/** Named float32 weights (HF names), the currency between training, export and import. */
export type Weights = Map<string, Float32Array>;
