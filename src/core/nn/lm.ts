// The LM side of the core (DESIGN.md §5, alignment.md §0.3): batched per-token log-probs and one
// weighted token-NLL training step. Every alignment method computes detached per-token weights
// w_{i,t} in plain TS from log-probs, then steps on  -Σ_i Σ_t w_{i,t} ℓ_{i,t} / Z.
import { Tensor } from '../graph/graph';
import { ParamScope, ParamStore } from './params';
import { type Gpt2Config, gpt2Logits } from './gpt2';
import { type LlamaConfig, llamaLogits } from './llama';
import { sequenceLogProbs, weightedNllOfLogProbs } from './losses';
import type { RuntimeOptions } from '../runtime/session';
import type { Optimizer } from '../optim/optimizer';
import { type EvalProgram, type TrainStep, compileEval, compileTrainStep } from '../optim/train-step';

export type LmSpec = { family: 'gpt2'; config: Gpt2Config } | { family: 'llama'; config: LlamaConfig };

/** Logits [B,T,V] of either family for int64 ids [B,T]. */
export function lmLogits(s: ParamScope, m: LmSpec, ids: Tensor): Tensor {
  return m.family === 'gpt2' ? gpt2Logits(s, m.config, ids) : llamaLogits(s, m.config, ids);
}

export interface LogProbsProgram {
  eval: EvalProgram;
  /** log p(ids[:, t+1] | ids[:, ≤t]) as a [B, T-1] row-major Float32Array. */
  run(ids: BigInt64Array): Promise<Float32Array>;
}

/** Per-token log-probs of given sequences (eval graph; used for θ, the reference and the old policy). */
export async function compileLogProbs(o: { params: ParamStore; model: LmSpec; batch: number; ctx: number; runtime?: RuntimeOptions }): Promise<LogProbsProgram> {
  const ev = await compileEval({
    params: o.params,
    inputs: { input_ids: { dtype: 'int64', shape: [o.batch, o.ctx] } },
    build: (s, x) => ({ logprobs: sequenceLogProbs(lmLogits(s, o.model, x.input_ids), x.input_ids) }),
    runtime: o.runtime,
  });
  return { eval: ev, run: async (ids) => (await ev.run({ input_ids: ids })).logprobs.data as Float32Array };
}

export interface WeightedNllStep {
  step: TrainStep;
  /**
   * One optimizer step on  -Σ w ℓ / Z. ids [B,T] int64; weights [B,T-1] float32 (weight of the
   * token ids[:, t+1]; 0 = masked); normalizer Z > 0. Also returns ℓ at the pre-step parameters.
   */
  run(ids: BigInt64Array, weights: Float32Array, normalizer: number, lr: number): Promise<{ loss: number; logprobs: Float32Array; gradNorm?: number }>;
}

export async function compileWeightedNllStep(o: {
  params: ParamStore;
  model: LmSpec;
  batch: number;
  ctx: number;
  optimizer: Optimizer;
  maxGradNorm?: number;
  trainable?: (name: string) => boolean;
  runtime?: RuntimeOptions;
}): Promise<WeightedNllStep> {
  const { batch: B, ctx: T } = o;
  const step = await compileTrainStep({
    params: o.params,
    batch: {
      input_ids: { dtype: 'int64', shape: [B, T] },
      weights: { dtype: 'float32', shape: [B, T - 1] },
      normalizer: { dtype: 'float32', shape: [] },
    },
    loss: (s, b) => {
      const ll = sequenceLogProbs(lmLogits(s, o.model, b.input_ids), b.input_ids); // [B, T-1]
      return { loss: weightedNllOfLogProbs(ll, b.weights, b.normalizer), outputs: { logprobs: ll } };
    },
    optimizer: o.optimizer,
    maxGradNorm: o.maxGradNorm,
    trainable: o.trainable,
    runtime: o.runtime,
  });
  return {
    step,
    async run(ids, weights, normalizer, lr) {
      if (!(normalizer > 0)) throw new Error(`weighted NLL step: normalizer must be > 0, got ${normalizer}`);
      const r = await step.run({ input_ids: ids, weights, normalizer: Float32Array.of(normalizer) }, { lr });
      return { loss: r.loss, logprobs: r.outputs.logprobs.data as Float32Array, gradNorm: r.gradNorm };
    },
  };
}
