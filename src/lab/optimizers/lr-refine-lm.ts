// The language-model member of the lr-refine suite (spec optimizers.md §15): the paper's headline
// setting, a decoder-only transformer trained with AdamW. A small byte-level LLaMA-style GPT on the
// Brown corpus, built as in the `root` experiment (its corpus loader and model config), trained by
// the numeric core's one-graph training step. The step runs with the update outside the graph
// (placement 'js') so that a thin optimizer wrapper sees every parameter's gradient and records the
// ℓ1 norm of the full gradient per step (the input of the paper's rule for Adam-type methods) and its
// ℓ2 norm. The compared quantity is the validation loss (nats per byte) at equal steps.
import { causalLmLoss, llamaLogits, ParamStore } from '../../core/nn';
import { adamw, compileEval, compileTrainStep, type Optimizer } from '../../core/optim';
import { Rng } from '../../core/rng';
import { loadCorpusBytes, modelConfig, rootSchema } from './root';

export interface LmMemberOptions {
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
  /** Bytes per training window. */
  seqLen: number;
  batchSize: number;
  /** Decoupled weight decay of AdamW (not on norm weights). */
  weightDecay: number;
  /** Clip the gradient to this global ℓ2 norm (0: no clipping); the recorded norms are the pre-clip ones. */
  maxGradNorm: number;
  /** Validation batches (fixed, evenly spaced windows of the validation split). */
  evalBatches: number;
  /** ORT intra-op threads (0: ORT default). */
  threads: number;
  /** UTF-8 text file (last 10 % = validation); empty: the Brown corpus splits. */
  corpusFile: string;
}

export const LM_MEMBER_DEFAULTS: LmMemberOptions = { hiddenSize: 64, layers: 2, heads: 4, intermediateSize: 192, seqLen: 64, batchSize: 16, weightDecay: 0.1, maxGradNorm: 1, evalBatches: 16, threads: 1, corpusFile: '' };

export interface LmScheduleRun {
  /** Validation loss after the last step. */
  finalLoss: number;
  /** ℓ2 norm of the full minibatch gradient at every step. */
  gradNorms: Float64Array;
  /** ℓ1 norm of the full minibatch gradient at every step (Adam-type refinement). */
  gradNormsL1: Float64Array;
  trainLoss: number;
}

/**
 * An optimizer that delegates to `inner` (in-place form only: use with placement 'js') and adds each
 * parameter's Σ|g| and Σg² to the current step's entry. The training step calls scalars(t, ·) once
 * per step before the per-parameter updates, which fixes the step index.
 */
export function withGradNormRecorder(inner: Optimizer, steps: number): { optimizer: Optimizer; l1: Float64Array; sq: Float64Array } {
  const l1 = new Float64Array(steps);
  const sq = new Float64Array(steps);
  let t = 0;
  const optimizer: Optimizer = {
    name: inner.name,
    stateNames: inner.stateNames,
    scalars(step, lr) {
      t = step - 1;
      return inner.scalars(step, lr);
    },
    update() {
      throw new Error('withGradNormRecorder: the gradient norms are read in the in-place update; compile the step with placement "js"');
    },
    updateInPlace(p, g, st, sc, name) {
      if (t >= steps) throw new Error(`withGradNormRecorder: step ${t + 1} is beyond the ${steps} steps recorded`);
      let a = 0;
      let s = 0;
      for (let i = 0; i < g.length; i++) {
        a += Math.abs(g[i]);
        s += g[i] * g[i];
      }
      l1[t] += a;
      sq[t] += s;
      inner.updateInPlace(p, g, st, sc, name);
    },
  };
  return { optimizer, l1, sq };
}

/**
 * Train the GPT for schedule.length AdamW steps (β = (0.9, 0.95), ε = 1e-8, as in the root
 * experiment) with learning rate schedule[t] at step t, from the seed's init on the seed's batch
 * sequence; return the final validation loss and the per-step gradient norms. `check` is called every
 * 10 steps (it may throw to cancel). A non-finite training loss ends the run with loss +∞.
 */
export async function trainLmWithSchedule(o: LmMemberOptions, schedule: Float64Array, seed: number, check?: () => void): Promise<LmScheduleRun> {
  const data = loadCorpusBytes(o.corpusFile);
  const cfg = modelConfig(rootSchema.parse({ hiddenSize: o.hiddenSize, layers: o.layers, heads: o.heads, intermediateSize: o.intermediateSize, seqLen: o.seqLen }));
  const { batchSize: B, seqLen: L } = o;
  const steps = schedule.length;
  for (const [name, s] of [['train', data.train], ['validation', data.validation]] as const) {
    if (s.length <= L + 1) throw new Error(`${name} stream has ${s.length} bytes, fewer than one window of ${L + 1} (seqLen)`);
  }
  const store = new ParamStore(new Rng(seed * 1000 + 1));
  const rec = withGradNormRecorder(adamw({ betas: [0.9, 0.95], eps: 1e-8, weightDecay: o.weightDecay, decay: (n) => !n.endsWith('norm.weight') }), steps);
  const runtime = { threads: o.threads || undefined };
  const step = await compileTrainStep({
    params: store,
    batch: { input_ids: { dtype: 'int64', shape: [B, L] } },
    loss: (s, b) => causalLmLoss(llamaLogits(s, cfg, b.input_ids), b.input_ids),
    optimizer: rec.optimizer,
    placement: 'js',
    maxGradNorm: o.maxGradNorm > 0 ? o.maxGradNorm : undefined,
    runtime,
  });
  const ev = await compileEval({ params: store, inputs: { input_ids: { dtype: 'int64', shape: [B, L] } }, build: (s, i) => ({ loss: causalLmLoss(llamaLogits(s, cfg, i.input_ids), i.input_ids) }), runtime });
  const ids = new BigInt64Array(B * L);
  const fill = (stream: Int32Array, start: number, b: number) => {
    for (let j = 0; j < L; j++) ids[b * L + j] = BigInt(stream[start + j]);
  };
  const batchRng = new Rng(seed * 1000 + 2);
  let ema = NaN;
  for (let t = 0; t < steps; t++) {
    if (check && t % 10 === 0) check();
    for (let b = 0; b < B; b++) fill(data.train, batchRng.int(data.train.length - L), b);
    const r = await step.run({ input_ids: ids }, { lr: schedule[t] });
    if (r.gradNorm !== undefined && r.gradNorm > 0) {
      // clipping scales the whole gradient by one factor: undo it on the recorded norms
      const clipped = Math.sqrt(rec.sq[t]);
      rec.l1[t] *= r.gradNorm / clipped;
      rec.sq[t] = r.gradNorm * r.gradNorm;
    }
    if (!Number.isFinite(r.loss)) return { finalLoss: Infinity, gradNorms: Float64Array.from(rec.sq, Math.sqrt), gradNormsL1: rec.l1, trainLoss: Infinity };
    ema = Number.isNaN(ema) ? r.loss : 0.9 * ema + 0.1 * r.loss;
  }
  // the same evenly spaced validation windows for every run
  const nVal = o.evalBatches * B;
  let total = 0;
  for (let k = 0; k < o.evalBatches; k++) {
    for (let b = 0; b < B; b++) fill(data.validation, Math.floor(((k * B + b) * (data.validation.length - L - 1)) / Math.max(1, nVal - 1)), b);
    total += Number((await ev.run({ input_ids: ids })).loss.data[0]);
  }
  const finalLoss = total / o.evalBatches;
  return { finalLoss: Number.isFinite(finalLoss) ? finalLoss : Infinity, gradNorms: Float64Array.from(rec.sq, Math.sqrt), gradNormsL1: rec.l1, trainLoss: ema };
}
