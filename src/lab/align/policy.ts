// Shared machinery of the LM alignment methods (spec alignment.md §0.3): every method computes
// detached per-token weights from log-probs under θ / π_ref / π_old and takes one weighted
// token-NLL step (src/core/nn/lm.ts). This file holds, once:
//   - the policy trainer: θ in a parameter store, fixed-shape log-prob and training programs,
//     log-probs under any other weight set (reference, old policy, anchor) by swapping buffers;
//   - parameter-space ops on checkpoints (copy, interpolate, extrapolate);
//   - sampling through the LM layer: θ exported as an HF folder (the checkpoint) and run by the
//     KV-cache sampler; Nash-MD's token-wise logit-mixture sampler;
//   - held-out evaluation: mean reward, win-rate vs the reference, KL to the reference, distinct-n.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ParamStore } from '../../core/nn/params';
import { compileLogProbs, compileWeightedNllStep, type LmSpec, type LogProbsProgram, type WeightedNllStep } from '../../core/nn/lm';
import { adamw } from '../../core/optim';
import { Rng } from '../../core/rng';
import { CausalLm } from '../lm/causal-lm';
import { exportHfFolder, importHfFolder } from '../lm/hf-folder';
import { type LlamaConfig, llamaParamSpecs, type Weights } from '../lm/llama/config';
import { resolveLocalModel } from '../lm/models';
import { toCoreConfig } from '../lm/pretrain';
import { type Generation, generate, growAttentionMask, logSumExp, sampleToken, validateSampleOptions } from '../lm/sampler';
import type { LoadedTokenizer } from '../lm/tokenizer/load';
import { distinctN, winRate } from '../tasks/sentiment';

/** A prompt/completion pair of token ids (prompt starts with BOS; completion without the stop token's absence implied). */
export interface Seq {
  prompt: number[];
  completion: number[];
}

/** Config fields every LM alignment experiment shares (spread into each schema). */
export const lmFields = {
  model: z.string().min(1).default('prox-text-small').describe('Policy/reference model: a bundled name or an HF-layout folder'),
  prompts: z.number().int().min(2).max(4096).default(48).describe('Training prompts per round (Brown train split)'),
  evalPrompts: z.number().int().min(2).max(4096).default(32).describe('Held-out prompts for evaluation (Brown validation split)'),
  promptWords: z.number().int().min(1).max(32).default(5).describe('Words per prompt (a Brown sentence prefix)'),
  maxPromptTokens: z.number().int().min(2).max(128).default(12).describe('Prompts are cut to this many tokens (BOS included)'),
  maxNewTokens: z.number().int().min(1).max(128).default(8).describe('Continuation length in tokens'),
  temperature: z.number().positive().max(2).default(1).describe('Sampling temperature (1 keeps the KL estimate unbiased)'),
  batch: z.number().int().min(2).max(256).default(16).describe('Sequences per training step'),
  lr: z.number().positive().max(1).default(1e-3).describe('AdamW learning rate'),
  maxGradNorm: z.number().positive().default(1).describe('Gradient clipping (global L2 norm)'),
  klLimit: z.number().positive().default(25).describe('Bound on the Monte-Carlo KL(π‖π_ref) (nats per continuation) that the claim check requires'),
  resumeFrom: z.string().default('').describe('Resume from a checkpoint folder written by an earlier run (artifacts/checkpoints/round-N); empty = fresh start'),
};

// ---------------------------------------------------------------- parameter-space ops

export function copyWeights(w: Weights): Weights {
  return new Map([...w].map(([k, v]) => [k, v.slice()]));
}

/** a + α (a − b): APO's Nesterov extrapolation θ̂_{t+1} + α(θ̂_{t+1} − θ̂_t) (spec §1.2, paper §5.2). */
export function extrapolateWeights(a: Weights, b: Weights, alpha: number): Weights {
  const out: Weights = new Map();
  for (const [k, va] of a) {
    const vb = b.get(k);
    if (!vb || vb.length !== va.length) throw new Error(`extrapolate: parameter ${k} missing or of another size in the second weight set`);
    const o = new Float32Array(va.length);
    for (let i = 0; i < va.length; i++) o[i] = va[i] + alpha * (va[i] - vb[i]);
    out.set(k, o);
  }
  return out;
}

/** (1 − t) a + t b (EMA / TR-DPO style mixing). */
export function interpolateWeights(a: Weights, b: Weights, t: number): Weights {
  return extrapolateWeights(a, b, -t);
}

// ---------------------------------------------------------------- model loading

export interface AlignModel {
  dir: string;
  config: LlamaConfig;
  weights: Weights;
}

export function loadAlignModel(ref: string): AlignModel {
  const dir = resolveLocalModel(ref);
  if (!dir) throw new Error(`model ${ref}: a Hub id that is not downloaded yet; use a bundled model or a local folder`);
  const m = importHfFolder(dir);
  return { dir, config: m.config, weights: m.weights };
}

// ---------------------------------------------------------------- the trainer

/** θ plus compiled fixed-shape programs: per-token log-probs and the weighted token-NLL step. */
export class PolicyTrainer {
  private constructor(
    readonly model: AlignModel,
    readonly tokenizer: LoadedTokenizer,
    readonly store: ParamStore,
    private readonly evalStore: ParamStore,
    private readonly lp: LogProbsProgram,
    private readonly lpOther: LogProbsProgram,
    private readonly nll: WeightedNllStep,
    readonly batch: number,
    readonly ctx: number,
    readonly padId: number,
  ) {}

  static async create(o: { model: AlignModel; tokenizer: LoadedTokenizer; batch: number; ctx: number; maxGradNorm: number; threads?: number; weightDecay?: number }): Promise<PolicyTrainer> {
    if (o.ctx > o.model.config.max_position_embeddings) throw new Error(`prompt + continuation (${o.ctx} tokens) exceeds the model's ${o.model.config.max_position_embeddings} positions`);
    const mk = (w: Weights) => {
      const s = new ParamStore(new Rng(0));
      for (const p of llamaParamSpecs(o.model.config)) s.set(p.name, p.shape, w.get(p.name)!.slice());
      return s;
    };
    const store = mk(o.model.weights);
    const evalStore = mk(o.model.weights);
    const spec: LmSpec = { family: 'llama', config: toCoreConfig(o.model.config) };
    const runtime = { threads: o.threads };
    const lp = await compileLogProbs({ params: store, model: spec, batch: o.batch, ctx: o.ctx, runtime });
    const lpOther = await compileLogProbs({ params: evalStore, model: spec, batch: o.batch, ctx: o.ctx, runtime });
    const nll = await compileWeightedNllStep({
      params: store,
      model: spec,
      batch: o.batch,
      ctx: o.ctx,
      optimizer: adamw({ betas: [0.9, 0.999], weightDecay: o.weightDecay ?? 0, decay: (n) => !n.endsWith('norm.weight') }),
      maxGradNorm: o.maxGradNorm,
      runtime,
    });
    const pad = o.tokenizer.padId ?? o.tokenizer.eosId ?? 0;
    return new PolicyTrainer(o.model, o.tokenizer, store, evalStore, lp, lpOther, nll, o.batch, o.ctx, pad);
  }

  /** A copy of θ. */
  weights(): Weights {
    const w: Weights = new Map();
    for (const p of llamaParamSpecs(this.model.config)) w.set(p.name, this.store.get(p.name).data.slice());
    return w;
  }

  /** θ ← w (copied); the optimizer's moments are reset (fresh AdamW per round, spec §1.2 pitfalls). */
  setWeights(w: Weights): void {
    for (const p of llamaParamSpecs(this.model.config)) this.store.get(p.name).data.set(w.get(p.name)!);
    this.resetOptimizer();
  }

  resetOptimizer(): void {
    for (const st of this.nll.step.state.values()) for (const a of Object.values(st)) a.fill(0);
    this.nll.step.step = 0;
  }

  /** Per-token completion log-probs under θ (weights omitted) or under another weight set. */
  async logProbs(seqs: Seq[], weights?: Weights): Promise<number[][]> {
    const out: number[][] = [];
    let saved: Map<string, Float32Array> | null = null;
    if (weights) {
      saved = new Map();
      for (const [k, v] of weights) saved.set(k, this.evalStore.swap(k, v));
    }
    try {
      for (let i = 0; i < seqs.length; i += this.batch) {
        const chunk = seqs.slice(i, i + this.batch);
        const flat = await (weights ? this.lpOther : this.lp).run(packSequences(chunk, this.batch, this.ctx, this.padId));
        out.push(...unpackCompletionRows(chunk, flat, this.ctx - 1));
      }
    } finally {
      if (saved) for (const [k, v] of saved) this.evalStore.swap(k, v);
    }
    return out;
  }

  /** One AdamW step on −Σ_i Σ_t w_{i,t} ℓ_{i,t} / Z over ≤ batch sequences; returns ℓ at the pre-step θ. */
  async step(seqs: Seq[], tokenWeights: number[][], normalizer: number, lr: number): Promise<{ loss: number; logprobs: number[][]; gradNorm?: number }> {
    const W = this.ctx - 1;
    const w = packCompletionRows(seqs, tokenWeights, this.batch, W, 'step');
    const r = await this.nll.run(packSequences(seqs, this.batch, this.ctx, this.padId), w, normalizer, lr);
    return { loss: r.loss, logprobs: unpackCompletionRows(seqs, r.logprobs, W), gradNorm: r.gradNorm };
  }
}

/**
 * Pack ≤ batch sequences into right-padded [B, ctx] ids (causal attention keeps pads out of real tokens).
 * Token j of a completion is scored at position |prompt| − 1 + j of the [B, ctx − 1] outputs.
 */
export function packSequences(seqs: Seq[], batch: number, ctx: number, padId: number): BigInt64Array {
  if (seqs.length > batch) throw new Error(`pack: ${seqs.length} sequences exceed the batch of ${batch}`);
  const ids = new BigInt64Array(batch * ctx).fill(BigInt(padId));
  seqs.forEach((s, b) => {
    const all = [...s.prompt, ...s.completion];
    if (all.length > ctx) throw new Error(`pack: sequence of ${all.length} tokens exceeds the context of ${ctx}`);
    all.forEach((t, j) => (ids[b * ctx + j] = BigInt(t)));
  });
  return ids;
}

/** Per-completion-token rows from a [B, W = ctx − 1] output. */
export function unpackCompletionRows(seqs: Seq[], flat: Float32Array, W: number): number[][] {
  return seqs.map((s, b) => s.completion.map((_, j) => flat[b * W + s.prompt.length - 1 + j]));
}

/** Per-completion-token rows (weights, targets) into a [B, W = ctx − 1] input; `what` names the caller in errors. */
export function packCompletionRows(seqs: Seq[], rows: number[][], batch: number, W: number, what: string): Float32Array {
  const out = new Float32Array(batch * W);
  seqs.forEach((s, b) => {
    if (rows[b].length !== s.completion.length) throw new Error(`${what}: sequence ${b} has ${s.completion.length} tokens but ${rows[b].length} values`);
    rows[b].forEach((x, j) => (out[b * W + s.prompt.length - 1 + j] = x));
  });
  return out;
}

export const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
export const mean = (a: number[]): number => (a.length ? sum(a) / a.length : NaN);

// ---------------------------------------------------------------- checkpoints and sampling

/** Write θ as an HF-layout folder (onnx/model.onnx + config + tokenizer) with a training_state.json. */
export function writeCheckpoint(dir: string, model: AlignModel, weights: Weights, state: Record<string, unknown>): void {
  exportHfFolder(dir, { config: model.config, weights, tokenizerDir: model.dir, extraFiles: { 'training_state.json': state } });
}

export function readCheckpointState(dir: string): Record<string, unknown> {
  const p = join(dir, 'training_state.json');
  if (!existsSync(p)) throw new Error(`resumeFrom: ${p} not found (expected a checkpoint folder artifacts/checkpoints/round-N of an earlier run)`);
  return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
}

/** Weights of a checkpoint folder (or of a side file <name>.f32 written by saveSideWeights). */
export function readCheckpointWeights(dir: string): Weights {
  return importHfFolder(dir).weights;
}

export function saveSideWeights(path: string, config: LlamaConfig, w: Weights): void {
  const specs = llamaParamSpecs(config);
  const n = specs.reduce((a, s) => a + w.get(s.name)!.length, 0);
  const all = new Float32Array(n);
  let o = 0;
  for (const s of specs) {
    all.set(w.get(s.name)!, o);
    o += w.get(s.name)!.length;
  }
  writeFileSync(path, new Uint8Array(all.buffer));
}

export function loadSideWeights(path: string, config: LlamaConfig): Weights {
  if (!existsSync(path)) throw new Error(`${path}: not found`);
  const buf = readFileSync(path);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const w: Weights = new Map();
  let o = 0;
  for (const s of llamaParamSpecs(config)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (o + n > all.length) throw new Error(`${path}: too short for ${s.name}`);
    w.set(s.name, all.slice(o, o + n));
    o += n;
  }
  if (o !== all.length) throw new Error(`${path}: ${all.length} values, expected ${o}`);
  return w;
}

/** A sampler over weight set `w`: exported to `dir` (an HF folder) and loaded by the LM layer. */
export async function samplerFor(dir: string, model: AlignModel, w: Weights, threads?: number, state: Record<string, unknown> = {}): Promise<CausalLm> {
  rmSync(dir, { recursive: true, force: true });
  writeCheckpoint(dir, model, w, state);
  return CausalLm.load(dir, { threads });
}

export interface Completion extends Seq {
  text: string;
  /** log π(y_t | ·) under the sampling model (temperature 1). */
  logprobs: number[];
}

function toCompletion(lm: CausalLm, prompt: number[], g: Generation): Completion {
  const body = g.finishReason === 'stop' ? g.tokens.slice(0, -1) : g.tokens;
  return { prompt, completion: g.tokens, text: lm.tokenizer.decode(body, true), logprobs: g.logprobs };
}

export async function sampleCompletions(lm: CausalLm, prompts: number[][], o: { maxNewTokens: number; temperature: number; seed: number }): Promise<Completion[]> {
  const gens = await generate(lm, prompts, { maxNewTokens: o.maxNewTokens, temperature: o.temperature, seed: o.seed });
  return gens.map((g, i) => toCompletion(lm, prompts[i], g));
}

/**
 * Nash-MD's opponent (TRL GeometricMixtureWrapper, spec §2.3): per token, sample from
 * softmax((1 − m)·logits_θ + m·logits_ref). Both models keep their own KV cache (TRL disables it).
 */
export async function sampleMixture(policy: CausalLm, ref: CausalLm, prompts: number[][], m: number, o: { maxNewTokens: number; temperature: number; seed: number }): Promise<Completion[]> {
  const so = validateSampleOptions({ maxNewTokens: o.maxNewTokens, temperature: o.temperature, seed: o.seed });
  const B = prompts.length;
  const V = policy.vocabSize;
  if (ref.vocabSize !== V) throw new Error(`mixture sampling: vocabularies differ (${V} vs ${ref.vocabSize})`);
  const stop = policy.tokenizer.eosId;
  const padId = BigInt(policy.tokenizer.padId ?? 0);
  const root = new Rng(o.seed);
  const rngs = prompts.map(() => root.fork());
  const maxLen = Math.max(...prompts.map((p) => p.length));
  const ids = new BigInt64Array(B * maxLen).fill(padId);
  const positions = new BigInt64Array(B * maxLen);
  let mask = new BigInt64Array(B * maxLen);
  const nextPos = prompts.map((p) => p.length);
  prompts.forEach((p, b) => {
    const pad = maxLen - p.length;
    p.forEach((t, j) => {
      ids[b * maxLen + pad + j] = BigInt(t);
      positions[b * maxLen + pad + j] = BigInt(j);
      mask[b * maxLen + pad + j] = 1n;
    });
  });
  let outP = await policy.forward(ids, B, maxLen, mask, positions, null, 1);
  let outR = await ref.forward(ids, B, maxLen, mask, positions, null, 1);
  const tokens: number[][] = prompts.map(() => []);
  const lps: number[][] = prompts.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  const row = new Float32Array(V);
  let T = maxLen;
  for (let step = 0; step < so.maxNewTokens; step++) {
    const next = new BigInt64Array(B).fill(padId);
    for (let b = 0; b < B; b++) {
      if (done[b]) continue;
      const lp = outP.logits.subarray((b * outP.keptPositions + outP.keptPositions - 1) * V, (b * outP.keptPositions + outP.keptPositions) * V);
      const lr = outR.logits.subarray((b * outR.keptPositions + outR.keptPositions - 1) * V, (b * outR.keptPositions + outR.keptPositions) * V);
      for (let v = 0; v < V; v++) row[v] = (1 - m) * lp[v] + m * lr[v];
      const { token } = sampleToken(row, so, rngs[b]);
      tokens[b].push(token);
      lps[b].push(row[token] - logSumExp(row));
      next[b] = BigInt(token);
      if (token === stop) done[b] = true;
    }
    if (done.every(Boolean) || step === so.maxNewTokens - 1) break;
    mask = growAttentionMask(mask, B, T);
    T++;
    const pos = BigInt64Array.from(nextPos, (p) => BigInt(p));
    for (let b = 0; b < B; b++) nextPos[b]++;
    outP = await policy.forward(next, B, 1, mask, pos, outP.present, 1);
    outR = await ref.forward(next, B, 1, mask, pos, outR.present, 1);
  }
  return prompts.map((p, b) => {
    const body = tokens[b].length && tokens[b][tokens[b].length - 1] === stop ? tokens[b].slice(0, -1) : tokens[b];
    return { prompt: p, completion: tokens[b], text: policy.tokenizer.decode(body, true), logprobs: lps[b] };
  });
}

/** Remove the run's scratch samplers (artifacts/tmp); checkpoints stay. */
export function removeScratch(artifactsDir: string): void {
  rmSync(join(artifactsDir, 'tmp'), { recursive: true, force: true });
}

/** BOS-started prompt ids cut to maxTokens. */
export function encodePrompts(tok: LoadedTokenizer, prompts: string[], maxTokens: number): number[][] {
  return prompts.map((p) => tok.encodeWithSpecials(p).slice(0, maxTokens));
}

// ---------------------------------------------------------------- evaluation

export interface EvalResult {
  /** Mean reward of policy samples on held-out prompts. */
  reward: number;
  /** Mean reward of reference samples on the same prompts. */
  refReward: number;
  /** Policy sample beats the reference sample for the same prompt (by the reward; ties ½). */
  winRate: number;
  /** Monte-Carlo KL(π‖π_ref) = E_{y∼π} Σ_t (ℓ_t − ℓ^ref_t), nats per continuation. */
  kl: number;
  distinct2: number;
  samples: Completion[];
}

export type RewardFn = (c: Completion) => number;

/**
 * Samples `perPrompt` continuations of each held-out prompt from the policy (weights `w`, sampler
 * `policy`) and compares them with reference samples. Log-probs for the KL estimate come from the
 * trainer's core graph under `w` and the reference weights, so both sides use the same numerics.
 */
export async function evaluatePolicy(
  trainer: PolicyTrainer,
  policy: CausalLm,
  w: Weights,
  refWeights: Weights,
  prompts: number[][],
  reward: RewardFn,
  o: { maxNewTokens: number; seed: number; perPrompt?: number; refSamples: Completion[]; winRate?: (p: Completion, r: Completion) => number },
): Promise<EvalResult> {
  const reps = o.perPrompt ?? 2;
  const all = Array.from({ length: reps }, () => prompts).flat();
  const pol = await sampleCompletions(policy, all, { maxNewTokens: o.maxNewTokens, temperature: 1, seed: o.seed });
  const refS = o.refSamples;
  if (refS.length !== pol.length) throw new Error(`evaluatePolicy: ${refS.length} reference samples for ${pol.length} policy samples`);
  const lpPol = await trainer.logProbs(pol, w);
  const lpRef = await trainer.logProbs(pol, refWeights);
  const pr = pol.map(reward);
  const rr = refS.map(reward);
  const wr = o.winRate ? mean(pol.map((c, i) => o.winRate!(c, refS[i]))) : winRate(pr, rr);
  return {
    reward: mean(pr),
    refReward: mean(rr),
    winRate: wr,
    kl: mean(pol.map((_, i) => sum(lpPol[i]) - sum(lpRef[i]))),
    distinct2: distinctN(pol.map((c) => c.text), 2),
    samples: pol,
  };
}

/** The Brown prompts of a run: training prompts per round drawn from `rng`, a fixed held-out set. */
export function pickRng(seed: number, salt: number): Rng {
  return new Rng(seed * 1_000_003 + salt);
}
