// PPO for LM alignment (Schulman et al. 2017, "Proximal Policy Optimization Algorithms"), in the
// form of TRL's PPOTrainer (spec alignment.md §9.4): the KL to the reference is folded into a
// per-token reward, a separate critic (value model) gives per-token values, advantages are GAE(λ)
// with γ = 1, whitened over the batch, the policy steps on the clipped surrogate and the critic on
// the clipped value loss.
//
// Per rollout y = (y_1..y_T) of prompt x, at rollout time (π_old = θ):
//   r_t = −kl_coef (ℓ^old_t − ℓ^ref_t) + score(x, y)·1[t = T]                  (per-token reward, k1 KL)
//   δ_t = r_t + γ V(s_{t+1}) − V(s_t),  A_t = δ_t + γλ A_{t+1},  V(s_{T+1}) = 0  (GAE, Schulman et al. 2016 eq. 16)
//   R_t = A_t + V(s_t)                                                         (value targets)
//   Â = whiten(A) over all tokens of the iteration
// Per minibatch (TRL ppo_trainer.py, one epoch = one pass over shuffled rollouts):
//   policy:  L^CLIP = mean_t max(−Â_t ρ_t, −Â_t clip(ρ_t, 1 − ε, 1 + ε)), ρ_t = exp(ℓ_t − ℓ^old_t)   (PPO eq. 7)
//            ⇒ detached token weight w_t = Â_t ρ_t while the unclipped branch is active (spec §0.3)
//   critic:  L^V = ½ mean_t max((V_t − R_t)², (V^old_t + clip(V_t − V^old_t, −ε_v, ε_v) − R_t)²)
//
// The critic is its own network, as TRL's value model: a copy of the reference LM's decoder with a
// linear value head (`v_head`) on the last hidden state, trained with its own AdamW step. s_t is the
// prefix x, y_<t, read at the position that predicts y_t (the log-prob position). [ours] TRL starts the
// critic from the reward model; our reward is a lexicon, so the critic starts from the reference LM
// with a zero head (V ≡ 0: the first advantages are plain returns, not a random head's noise).
import { z } from 'zod';
import type { Tensor } from '../../core/graph/graph';
import * as O from '../../core/graph/ops';
import { llamaHidden } from '../../core/nn/llama';
import { linear } from '../../core/nn/layers';
import { ParamStore, type ParamScope, zerosInit } from '../../core/nn/params';
import { loadSafetensors, saveSafetensors } from '../../core/nn/safetensors';
import { compileEval, compileTrainStep, type EvalProgram, type TrainStep } from '../../core/optim/train-step';
import { adamw } from '../../core/optim';
import type { Rng } from '../../core/rng';
import { llamaParamSpecs } from '../lm/llama/config';
import { toCoreConfig } from '../lm/pretrain';
import { type AlignModel, mean, packCompletionRows, packSequences, type PolicyTrainer, type Seq, sum, unpackCompletionRows } from './policy';

/** PPO hyperparameters (TRL names in the help text). Spread into an experiment's schema. */
export const ppoFields = {
  gaeLambda: z.number().min(0).max(1).default(0.95).describe('PPO: GAE λ (TRL lam 0.95); γ is 1 as in TRL'),
  valueClip: z.number().positive().max(100).default(0.2).describe('PPO: value clip ε_v around the rollout-time values (TRL cliprange_value 0.2)'),
  vfCoef: z.number().positive().max(10).default(0.1).describe('PPO: value-loss coefficient (TRL vf_coef 0.1); the critic has its own AdamW, so this scales its loss against its gradient clip'),
};

// ---------------------------------------------------------------- per-token math (pure, unit-tested)

/** r_t = −kl_coef (ℓ^old_t − ℓ^ref_t) + score·1[t = T]: TRL's per-token reward with the k1 KL penalty. */
export function ppoTokenRewards(score: number, old: number[], ref: number[], klCoef: number): number[] {
  return old.map((o, t) => -klCoef * (o - ref[t]) + (t === old.length - 1 ? score : 0));
}

/** Undiscounted returns G_t = Σ_{s≥t} r_s (= GAE with V ≡ 0 and λ = 1). */
export function ppoReturns(score: number, old: number[], ref: number[], klCoef: number): number[] {
  return gae(ppoTokenRewards(score, old, ref, klCoef), old.map(() => 0), 1, 1).advantages;
}

/** GAE(γ, λ) advantages and value targets R_t = A_t + V_t for one sequence (terminal value 0). */
export function gae(rewards: number[], values: number[], gamma: number, lambda: number): { advantages: number[]; returns: number[] } {
  if (rewards.length !== values.length) throw new Error(`gae: ${rewards.length} rewards but ${values.length} values`);
  const T = rewards.length;
  const advantages = new Array<number>(T);
  let next = 0; // A_{t+1}
  for (let t = T - 1; t >= 0; t--) {
    const delta = rewards[t] + gamma * (t + 1 < T ? values[t + 1] : 0) - values[t];
    next = delta + gamma * lambda * next;
    advantages[t] = next;
  }
  return { advantages, returns: advantages.map((a, t) => a + values[t]) };
}

/** (x − mean) / std over all tokens of all sequences (TRL masked_whiten, unbiased variance). */
export function whiten(xs: number[][]): number[][] {
  const flat = xs.flat();
  const mu = mean(flat);
  const variance = flat.length > 1 ? sum(flat.map((x) => (x - mu) ** 2)) / (flat.length - 1) : 0;
  const sd = Math.sqrt(variance + 1e-8);
  return xs.map((a) => a.map((x) => (x - mu) / sd));
}

/** Clipped-surrogate weights w_t = A_t ρ_t while the unclipped branch is active (spec §0.3 table). */
export function ppoTokenWeights(adv: number[], lp: number[], old: number[], eps: number): { w: number[]; clipped: number } {
  let clipped = 0;
  const w = adv.map((a, t) => {
    const rho = Math.exp(lp[t] - old[t]);
    if ((a > 0 && rho > 1 + eps) || (a < 0 && rho < 1 - eps)) {
      clipped++;
      return 0;
    }
    return a * rho;
  });
  return { w, clipped };
}

/**
 * ½ max((v − R)², (v_old + clip(v − v_old, −ε, ε) − R)²) for one token and its derivative in v: the
 * plain-number twin of the critic graph's loss (for tests and for reading the graph).
 */
export function clippedValueLoss(v: number, vOld: number, ret: number, eps: number): { loss: number; grad: number; clipped: boolean } {
  const vc = vOld + Math.min(eps, Math.max(-eps, v - vOld));
  const a = (v - ret) ** 2;
  const b = (vc - ret) ** 2;
  if (b > a) return { loss: b / 2, grad: Math.abs(v - vOld) < eps ? vc - ret : 0, clipped: true };
  return { loss: a / 2, grad: v - ret, clipped: false };
}

// ---------------------------------------------------------------- the critic

/** The value model: the LM decoder (HF names) + `v_head` [1, D] with bias; V(s_t) at every position. */
function valueGraph(s: ParamScope, model: AlignModel, ids: Tensor): Tensor {
  const [B, T] = ids.shape;
  const h = llamaHidden(s, toCoreConfig(model.config), ids); // [B, T, D]
  const v = linear(s, 'v_head', h, 1, { bias: true, init: zerosInit }); // V ≡ 0 until the critic has learned something
  return O.slice(O.reshape(v, [B, T]), [0], [T - 1], [1]); // position p values the prefix that predicts token p + 1
}

export class ValueCritic {
  private constructor(
    readonly store: ParamStore,
    private readonly evalProgram: EvalProgram,
    private readonly train: TrainStep,
    readonly batch: number,
    readonly ctx: number,
    private readonly padId: number,
  ) {}

  /** A critic initialized from `model`'s decoder weights with a zero value head. */
  static async create(o: { model: AlignModel; batch: number; ctx: number; padId: number; valueClip: number; vfCoef: number; maxGradNorm: number; threads?: number }): Promise<ValueCritic> {
    const store = new ParamStore();
    for (const p of llamaParamSpecs(o.model.config)) store.set(p.name, p.shape, o.model.weights.get(p.name)!.slice());
    const { batch: B, ctx: T } = o;
    const runtime = { threads: o.threads };
    const evalProgram = await compileEval({ params: store, inputs: { input_ids: { dtype: 'int64', shape: [B, T] } }, build: (s, x) => ({ values: valueGraph(s, o.model, x.input_ids) }), runtime });
    const eps = o.valueClip;
    const train = await compileTrainStep({
      params: store,
      batch: {
        input_ids: { dtype: 'int64', shape: [B, T] },
        returns: { dtype: 'float32', shape: [B, T - 1] },
        old_values: { dtype: 'float32', shape: [B, T - 1] },
        mask: { dtype: 'float32', shape: [B, T - 1] },
        normalizer: { dtype: 'float32', shape: [] },
      },
      loss: (s, b) => {
        const v = valueGraph(s, o.model, b.input_ids);
        const sq = (x: Tensor) => O.mul(x, x);
        const unclipped = sq(O.sub(v, b.returns));
        const clipped = sq(O.sub(O.add(b.old_values, O.clip(O.sub(v, b.old_values), -eps, eps)), b.returns));
        const perToken = O.mul(O.maximum(unclipped, clipped), b.mask);
        const loss = O.mul(O.div(O.sum(perToken), b.normalizer), 0.5 * o.vfCoef);
        return { loss, outputs: { values: v, clipped: O.mul(O.cast(O.greater(clipped, unclipped), 'float32'), b.mask) } };
      },
      optimizer: adamw({ betas: [0.9, 0.999], weightDecay: 0 }),
      maxGradNorm: o.maxGradNorm,
      runtime,
    });
    return new ValueCritic(store, evalProgram, train, B, T, o.padId);
  }

  /** V(s_t) for every completion token of every sequence. */
  async values(seqs: Seq[]): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < seqs.length; i += this.batch) {
      const chunk = seqs.slice(i, i + this.batch);
      const r = await this.evalProgram.run({ input_ids: packSequences(chunk, this.batch, this.ctx, this.padId) });
      out.push(...unpackCompletionRows(chunk, r.values.data as Float32Array, this.ctx - 1));
    }
    return out;
  }

  /** One AdamW step on the clipped value loss of ≤ batch sequences; returns the loss (without vf_coef), clip fraction and the pre-step values. */
  async step(seqs: Seq[], returns: number[][], oldValues: number[][], vfCoef: number, lr: number): Promise<{ loss: number; clipfrac: number; values: number[][] }> {
    const W = this.ctx - 1;
    const mask = packCompletionRows(
      seqs,
      seqs.map((s) => s.completion.map(() => 1)),
      this.batch,
      W,
      'critic',
    );
    const tokens = sum(seqs.map((s) => s.completion.length));
    const r = await this.train.run(
      { input_ids: packSequences(seqs, this.batch, this.ctx, this.padId), returns: packCompletionRows(seqs, returns, this.batch, W, 'critic'), old_values: packCompletionRows(seqs, oldValues, this.batch, W, 'critic'), mask, normalizer: Float32Array.of(Math.max(1, tokens)) },
      { lr },
    );
    const clipped = r.outputs.clipped.data as Float32Array;
    return { loss: r.loss / vfCoef, clipfrac: clipped.reduce((a, b) => a + b, 0) / Math.max(1, tokens), values: unpackCompletionRows(seqs, r.outputs.values.data as Float32Array, W) };
  }

  /** Save the critic (decoder + v_head) as safetensors, as TRL saves its value model. */
  save(path: string): void {
    saveSafetensors(path, this.store);
  }

  /** Load weights written by `save`; the optimizer moments restart from zero. */
  load(path: string): void {
    const loaded = loadSafetensors(path);
    for (const name of this.store.names()) {
      if (!loaded.has(name)) throw new Error(`${path}: critic parameter ${name} missing`);
      this.store.get(name).data.set(loaded.get(name).data);
    }
    for (const st of this.train.state.values()) for (const a of Object.values(st)) a.fill(0);
    this.train.step = 0;
  }
}

// ---------------------------------------------------------------- one PPO update over an iteration's rollouts

export interface PpoRollout {
  seq: Seq;
  /** Task score of the whole continuation (final-token reward). */
  score: number;
  /** Per-token log-probs under π_old (= θ at rollout time) and π_ref. */
  old: number[];
  ref: number[];
}

export interface PpoOptions {
  epochs: number;
  /** Sequences per minibatch (≤ the trainer's and critic's batch). */
  batch: number;
  lr: number;
  clip: number;
  klCoef: number;
  gaeLambda: number;
  vfCoef: number;
}

export type PpoStepMetrics = {
  'loss/policy_avg': number;
  'loss/value_avg': number;
  'policy/clipfrac_avg': number;
  'policy/approxkl_avg': number;
  'val/clipfrac_avg': number;
  'val/ratio': number;
  'val/mean': number;
  'objective/scores': number;
  'objective/kl': number;
};

/**
 * One PPO iteration (TRL PPOTrainer.train inner loop): critic values at rollout time, GAE, whitened
 * advantages, then `epochs` passes of shuffled minibatches, each one policy step and one critic step.
 */
export async function ppoUpdate(trainer: PolicyTrainer, critic: ValueCritic, rolls: PpoRollout[], o: PpoOptions, rng: Rng, onStep: (m: PpoStepMetrics) => void): Promise<{ nonScoreReward: number; valueMean: number }> {
  const seqs = rolls.map((r) => r.seq);
  const values = await critic.values(seqs);
  const rewards = rolls.map((r) => ppoTokenRewards(r.score, r.old, r.ref, o.klCoef));
  const g = rewards.map((r, i) => gae(r, values[i], 1, o.gaeLambda));
  const adv = whiten(g.map((x) => x.advantages));
  const returns = g.map((x) => x.returns);
  const nonScoreReward = mean(rolls.map((r) => -o.klCoef * (sum(r.old) - sum(r.ref))));
  for (let e = 0; e < o.epochs; e++) {
    const order = rng.shuffle(rolls.map((_, i) => i));
    for (let k = 0; k < order.length; k += o.batch) {
      const idx = order.slice(k, k + o.batch);
      const mb = idx.map((i) => seqs[i]);
      const lp = await trainer.logProbs(mb); // ρ at the current θ (surrogate weights are exact there, §0.3)
      const weights: number[][] = [];
      let clipped = 0;
      let tokens = 0;
      let ratio = 0;
      let approxKl = 0;
      let pgLoss = 0;
      idx.forEach((i, j) => {
        const r = ppoTokenWeights(adv[i], lp[j], rolls[i].old, o.clip);
        weights.push(r.w);
        clipped += r.clipped;
        tokens += r.w.length;
        lp[j].forEach((l, t) => {
          const rho = Math.exp(l - rolls[i].old[t]);
          const a = adv[i][t];
          pgLoss += Math.max(-a * rho, -a * Math.min(1 + o.clip, Math.max(1 - o.clip, rho)));
          ratio += rho;
          approxKl += 0.5 * (l - rolls[i].old[t]) ** 2;
        });
      });
      await trainer.step(mb, weights, Math.max(1, tokens), o.lr);
      const val = await critic.step(
        mb,
        idx.map((i) => returns[i]),
        idx.map((i) => values[i]),
        o.vfCoef,
        o.lr,
      );
      onStep({
        'loss/policy_avg': pgLoss / Math.max(1, tokens),
        'loss/value_avg': val.loss,
        'policy/clipfrac_avg': clipped / Math.max(1, tokens),
        'policy/approxkl_avg': approxKl / Math.max(1, tokens),
        'val/clipfrac_avg': val.clipfrac,
        'val/ratio': ratio / Math.max(1, tokens),
        'val/mean': mean(val.values.flat()),
        'objective/scores': mean(idx.map((i) => rolls[i].score)),
        'objective/kl': mean(idx.map((i) => sum(rolls[i].old) - sum(rolls[i].ref))),
      });
    }
  }
  return { nonScoreReward, valueMean: mean(values.flat()) };
}
