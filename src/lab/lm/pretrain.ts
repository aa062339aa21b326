// Causal-LM pretraining of a LLaMA-style model on a token stream, on the numeric core: the whole
// step (forward, loss, backward, clipping, AdamW) is one ONNX graph run per batch
// (src/core/optim compileTrainStep). Batches are random windows of the stream drawn from the
// seeded Rng; the learning rate follows linear warmup + cosine decay.
import { Rng } from '../../core/rng';
import { ParamStore, causalLmLoss, llamaLogits, type LlamaConfig as CoreLlamaConfig } from '../../core/nn';
import { adamw, compileEval, compileTrainStep, cosineSchedule } from '../../core/optim';
import { type LlamaConfig, llamaParamSpecs, type Weights } from './llama/config';
import { initLlamaWeights } from './llama/weights';

/** Training hyperparameters (also what a bundled model's recipe records). */
export interface PretrainHyperparams {
  steps: number;
  batchSize: number;
  seqLen: number;
  lr: number;
  minLr: number;
  warmup: number;
  weightDecay: number;
  maxGradNorm: number;
  seed: number;
  /** Evaluate validation loss every this many steps (and at the end). */
  evalEvery: number;
  /** Validation batches per evaluation (fixed windows, evenly spaced). */
  evalBatches: number;
}

export interface PretrainOptions extends PretrainHyperparams {
  config: LlamaConfig;
  train: Int32Array;
  validation: Int32Array;
  threads?: number;
  /** Start from these weights instead of a fresh init. */
  init?: Weights;
  onLog?: (row: Record<string, number>) => void;
  /** Called after each evaluation with the current weights (copies), e.g. to checkpoint. */
  onCheckpoint?: (step: number, weights: Weights) => void;
  signal?: AbortSignal;
}

export interface PretrainResult {
  weights: Weights;
  finalValLoss: number;
  tokensSeen: number;
  wallSeconds: number;
}

export function toCoreConfig(c: LlamaConfig): CoreLlamaConfig {
  if (c.head_dim * c.num_attention_heads !== c.hidden_size) {
    throw new Error(`pretrain: head_dim (${c.head_dim}) x num_attention_heads (${c.num_attention_heads}) must equal hidden_size (${c.hidden_size})`);
  }
  return {
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    intermediateSize: c.intermediate_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    numKvHeads: c.num_key_value_heads,
    rmsNormEps: c.rms_norm_eps,
    ropeTheta: c.rope_theta,
    maxPositionEmbeddings: c.max_position_embeddings,
    tieWordEmbeddings: c.tie_word_embeddings,
  };
}

export function storeFromWeights(c: LlamaConfig, w: Weights, seed: number): ParamStore {
  const store = new ParamStore(new Rng(seed));
  for (const s of llamaParamSpecs(c)) store.set(s.name, s.shape, w.get(s.name)!.slice());
  return store;
}

export function weightsFromStore(c: LlamaConfig, store: ParamStore): Weights {
  const w: Weights = new Map();
  for (const s of llamaParamSpecs(c)) w.set(s.name, store.get(s.name).data.slice());
  return w;
}

function fillWindow(stream: Int32Array, start: number, out: BigInt64Array, offset: number, T: number): void {
  for (let j = 0; j < T; j++) out[offset + j] = BigInt(stream[start + j]);
}

export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  const { config: c, batchSize: B, seqLen: T } = o;
  if (T > c.max_position_embeddings) throw new Error(`seqLen: ${T} exceeds max_position_embeddings ${c.max_position_embeddings}`);
  if (o.train.length <= T + 1) throw new Error(`train: stream of ${o.train.length} tokens is shorter than one window of ${T + 1}`);
  if (o.validation.length <= T + 1) throw new Error(`validation: stream of ${o.validation.length} tokens is shorter than one window of ${T + 1}`);
  const rng = new Rng(o.seed);
  const store = storeFromWeights(c, o.init ?? initLlamaWeights(c, rng.fork()), o.seed);
  const core = toCoreConfig(c);
  const runtime = { threads: o.threads };
  const step = await compileTrainStep({
    params: store,
    batch: { input_ids: { dtype: 'int64', shape: [B, T] } },
    loss: (s, b) => causalLmLoss(llamaLogits(s, core, b.input_ids), b.input_ids),
    // No decay on norm weights (standard for LLaMA-style training).
    optimizer: adamw({ betas: [0.9, 0.95], weightDecay: o.weightDecay, decay: (n) => !n.endsWith('norm.weight') }),
    maxGradNorm: o.maxGradNorm,
    runtime,
  });
  const evalProg = await compileEval({
    params: store,
    inputs: { input_ids: { dtype: 'int64', shape: [B, T] } },
    build: (s, i) => ({ loss: causalLmLoss(llamaLogits(s, core, i.input_ids), i.input_ids) }),
    runtime,
  });
  // Fixed validation windows, evenly spaced over the stream.
  const nVal = o.evalBatches * B;
  const valStarts = Array.from({ length: nVal }, (_, i) => Math.floor((i * (o.validation.length - T - 1)) / Math.max(1, nVal - 1)));
  const evaluate = async () => {
    let total = 0;
    const ids = new BigInt64Array(B * T);
    for (let k = 0; k < o.evalBatches; k++) {
      for (let b = 0; b < B; b++) fillWindow(o.validation, valStarts[k * B + b], ids, b * T, T);
      const out = await evalProg.run({ input_ids: ids });
      total += Number((out.loss.data as Float32Array)[0]);
    }
    return total / o.evalBatches;
  };
  const schedule = cosineSchedule(o.lr, o.steps, o.warmup, o.minLr);
  const ids = new BigInt64Array(B * T);
  const t0 = Date.now();
  let valLoss = NaN;
  let emaLoss = NaN;
  for (let t = 1; t <= o.steps; t++) {
    if (o.signal?.aborted) throw new Error('pretrain: cancelled');
    for (let b = 0; b < B; b++) fillWindow(o.train, rng.int(o.train.length - T), ids, b * T, T);
    const lr = schedule(t);
    const r = await step.run({ input_ids: ids }, { lr });
    emaLoss = Number.isNaN(emaLoss) ? r.loss : 0.95 * emaLoss + 0.05 * r.loss;
    const row: Record<string, number> = { step: t, loss: r.loss, lr, 'perf/tokens_per_s': (t * B * T) / ((Date.now() - t0) / 1000) };
    if (r.gradNorm !== undefined) row.grad_norm = r.gradNorm;
    if (t % o.evalEvery === 0 || t === o.steps) {
      valLoss = await evaluate();
      row['eval/loss'] = valLoss;
      row['eval/perplexity'] = Math.exp(valLoss);
      o.onCheckpoint?.(t, weightsFromStore(c, store));
    }
    o.onLog?.(row);
  }
  return { weights: weightsFromStore(c, store), finalValLoss: valLoss, tokensSeen: o.steps * B * T, wallSeconds: (Date.now() - t0) / 1000 };
}
