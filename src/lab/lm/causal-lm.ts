// A causal LM loaded from a Hugging Face-layout folder and run with onnxruntime-node:
// one forward = one session.run over input_ids / attention_mask / position_ids / KV cache.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { MODEL_FILE, readConfig, readOnnxWeights } from './hf-folder';
import type { LlamaConfig, Weights } from './llama/config';
import { pastKeyName, pastValueName, presentKeyName, presentValueName } from './onnx/llama-onnx';
import { buildSamplerOnnx, type SamplerMode } from './onnx/sampler-onnx';
import { buildScorerOnnx } from './onnx/scorer-onnx';
import { loadTokenizer, type LoadedTokenizer } from './tokenizer/load';

export interface LoadOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  threads?: number;
}

export interface ForwardResult {
  /** [B, L, V] with L = kept positions. */
  logits: Float32Array;
  keptPositions: number;
  /** present.{i}.key / .value in layer order (k0, v0, k1, v1, ...), to feed back as the cache. */
  present: ort.Tensor[];
}

export class CausalLm {
  private samplers = new Map<string, Promise<ort.InferenceSession>>();
  private weights: Weights | null = null;

  private constructor(
    readonly dir: string,
    readonly config: LlamaConfig,
    readonly tokenizer: LoadedTokenizer,
    readonly session: ort.InferenceSession,
    private readonly sessionOptions: ort.InferenceSession.SessionOptions,
  ) {}

  static async load(dir: string, opts: LoadOptions = {}): Promise<CausalLm> {
    const config = readConfig(dir);
    const modelPath = join(dir, MODEL_FILE);
    if (!existsSync(modelPath)) throw new Error(`${modelPath}: not found`);
    const tokenizer = loadTokenizer(dir);
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
    };
    const session = await ort.InferenceSession.create(modelPath, sessionOptions);
    for (const name of ['input_ids', 'attention_mask', pastKeyName(0)]) {
      if (!session.inputNames.includes(name)) throw new Error(`${modelPath}: input ${name} missing (inputs: ${session.inputNames.join(', ')})`);
    }
    return new CausalLm(dir, config, tokenizer, session, sessionOptions);
  }

  private loadWeights(): Weights {
    this.weights ??= readOnnxWeights(join(this.dir, MODEL_FILE), this.config);
    return this.weights;
  }

  /** The scoring model (onnx/scorer-onnx.ts: per-token log-probs in the graph), built on first use. */
  scorerSession(): Promise<ort.InferenceSession> {
    let s = this.samplers.get('scorer');
    if (!s) {
      s = ort.InferenceSession.create(buildScorerOnnx(this.config, this.loadWeights()), this.sessionOptions);
      this.samplers.set('scorer', s);
    }
    return s;
  }

  /** The decode-loop model (onnx/sampler-onnx.ts) for a sampling mode, built from the weights on first use. */
  samplerSession(mode: SamplerMode): Promise<ort.InferenceSession> {
    const key = mode.kind === 'greedy' ? 'greedy' : `sample:${mode.k}`;
    let s = this.samplers.get(key);
    if (!s) {
      s = ort.InferenceSession.create(buildSamplerOnnx(this.config, this.loadWeights(), mode), this.sessionOptions);
      this.samplers.set(key, s);
    }
    return s;
  }

  get vocabSize(): number {
    return this.config.vocab_size;
  }

  /** Zero-length cache tensors for a batch of B. */
  emptyCache(B: number): ort.Tensor[] {
    const c = this.config;
    const out: ort.Tensor[] = [];
    for (let i = 0; i < c.num_hidden_layers * 2; i++) {
      out.push(new ort.Tensor('float32', new Float32Array(0), [B, c.num_key_value_heads, 0, c.head_dim]));
    }
    return out;
  }

  /**
   * ids/positions [B,S], mask [B,P+S] (1 = real token), past from the previous call (or null).
   * keep = number of trailing positions whose logits are returned (0 = all).
   */
  async forward(
    ids: BigInt64Array,
    B: number,
    S: number,
    mask: BigInt64Array,
    positions: BigInt64Array,
    past: ort.Tensor[] | null,
    keep = 0,
  ): Promise<ForwardResult> {
    const T = mask.length / B;
    const cache = past ?? this.emptyCache(B);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [B, S]),
      attention_mask: new ort.Tensor('int64', mask, [B, T]),
    };
    const inputs = this.session.inputNames;
    if (inputs.includes('position_ids')) feeds.position_ids = new ort.Tensor('int64', positions, [B, S]);
    if (inputs.includes('num_logits_to_keep')) feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), []);
    const L = this.config.num_hidden_layers;
    for (let i = 0; i < L; i++) {
      feeds[pastKeyName(i)] = cache[2 * i];
      feeds[pastValueName(i)] = cache[2 * i + 1];
    }
    const out = await this.session.run(feeds);
    const present: ort.Tensor[] = [];
    for (let i = 0; i < L; i++) present.push(out[presentKeyName(i)], out[presentValueName(i)]);
    const logits = out.logits;
    return { logits: logits.data as Float32Array, keptPositions: logits.dims[1], present };
  }

  async dispose(): Promise<void> {
    await this.session.release();
    for (const s of this.samplers.values()) await (await s).release();
    this.samplers.clear();
  }
}
