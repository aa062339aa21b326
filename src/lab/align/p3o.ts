// P3O (Wu et al., "Pairwise Proximal Policy Optimization", arXiv 2310.00212), spec alignment.md §7,
// token-wise-clip (default, the claim's form) and joint-clip forms of the first author's trlx fork, against PPO with a value model (./ppo.ts, TRL's
// PPOTrainer) on the sentiment task. Both arms get the same rollouts: 2 continuations per prompt of a
// fixed training pool from π_old each iteration, the same iterations, epochs, minibatch size, lr and KL
// coefficient; each minibatch is one weighted token-NLL step of the policy (§0.3).
//
// P3O, per pair (y1, y2) of one prompt, all detached at the current θ:
//   lr_i = Σ_t (ℓ_{i,t} − ℓ^ref_{i,t}),  q = (r1 − r2) − kl_coef·(lr1 − lr2)
//   c = clip(exp((lr1 − lr1_old) + (lr2 − lr2_old)), 1/C, C),  Δ = lr1 − lr2
//   loss = max(−q c Δ, −q c clip(Δ, Δ_old − ε, Δ_old + ε)) / 2
//   ⇒ w = ±q c / 2 on y1 / y2 tokens while the unclipped branch is active, else 0.
// Token-wise (clipMode 'tokenwise'): the same with each ℓ_{i,t} clipped to ℓ^old_{i,t} ± ε instead of Δ
// (see p3oPairWeightsTokenwise); the paper's §4.2 clip equations are unverified, both follow the fork.
// Only reward differences enter, so adding δ(x) to every reward of prompt x changes nothing.
//
// The reward the learners see is the task reward plus a per-prompt offset δ(x) ~ U(−s, s) (§7.1):
// a Bradley–Terry reward model is identified only up to such an offset, so this is the reward as a
// learned RM presents it. Evaluation always scores the unshifted task reward on held-out prompts.
// The comparison is on the reward–KL frontier: held-out reward and KL(π‖π_ref) after every iteration.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../../core/experiment';
import type { Rng } from '../../core/rng';
import type { Weights } from '../lm/llama/config';
import { brownPrompts } from '../tasks/sentiment';
import { completionReward, type EvalCurves, evaluateRound, lastRoundDir, setupLmRun } from './dpo';
import { type Completion, copyWeights, encodePrompts, lmFields, mean, pickRng, type PolicyTrainer, readCheckpointWeights, removeScratch, sampleCompletions, samplerFor, sum, writeCheckpoint } from './policy';
import { ppoFields, type PpoRollout, ppoUpdate, ValueCritic } from './ppo';

export const CLIP_MODES = ['joint', 'tokenwise'] as const;
export type ClipMode = (typeof CLIP_MODES)[number];

export const p3oSchema = z
  .object({
    task: z.enum(['sentiment']).default('sentiment').describe('sentiment: Brown prefixes, AFINN-165 reward per token'),
    ...lmFields,
    prompts: z.number().int().min(2).max(4096).default(64).describe('Training prompt pool (Brown train split); 2 continuations of each per iteration, for both methods'),
    batch: z.number().int().min(2).max(256).default(32).describe('Sequences per training step (P3O: batch/2 pairs)'),
    iterations: z.number().int().min(1).max(1000).default(6).describe('Rollout/update iterations for each method (an evaluation after each)'),
    epochs: z.number().int().min(1).max(20).default(2).describe('Passes over each iteration’s rollouts (trlx P3O 2; TRL PPO 4; one value for both)'),
    klCoef: z.number().min(0).max(10).default(0.01).describe('KL coefficient folded into the reward (both methods; trlx P3O default 0.01)'),
    clip: z.number().positive().max(5).default(0.2).describe('PPO ratio clip ε / P3O log-ratio-gap clip ε'),
    ratioClip: z.number().min(1).max(1000).default(10).describe('P3O pair importance-weight clip C: c ∈ [1/C, C]'),
    clipMode: z
      .enum(CLIP_MODES)
      .default('tokenwise')
      .describe(
        'P3O clip (default tokenwise, the claim’s form): joint = the log-ratio gap Δ = lr1 − lr2 clipped to Δ_old ± ε (sequence level); tokenwise = each token log-prob clipped to ℓ_old ± ε, + sign for y1, − for y2 (trlx clip_tokenwise=True). The paper’s §4.2 equations are unverified; both follow the first author’s trlx fork (spec §7)',
      ),
    ...ppoFields,
    dropTies: z.boolean().default(true).describe('P3O: leave pairs whose two rewards tie out of its update (no preference signal). PPO always uses every rollout'),
    rewardShift: z
      .number()
      .min(0)
      .max(1000)
      .default(10)
      .describe('Per-prompt reward offset δ(x) ~ U(−s, s) (spec §7.1: s = 10) added to the training reward, as a Bradley–Terry reward model presents it (identified only up to δ(x)); 0 = the raw lexicon reward. Evaluation is always unshifted'),
    unshiftedArms: z
      .enum(['none', 'ppo', 'both'])
      .default('ppo')
      .describe('Also train on the unshifted reward (δ = 0): PPO only (P3O’s updates do not depend on δ), both, or none'),
    evalSamples: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(2)
      .describe('Continuations sampled per held-out prompt at each evaluation, and for the reference (same prompts and sampling seeds for every iteration and arm; separate from the training seeds, so it changes only the measurement). Standard error of the held-out reward ∝ 1/√(evalPrompts·evalSamples)'),
  })
  .strict();
export type P3oConfig = z.infer<typeof p3oSchema>;

export interface RolloutPair {
  /** Rewards of y1, y2 (already including any per-prompt shift). */
  r: [number, number];
  /** Per-token log-probs at the current θ, the reference and the behaviour policy. */
  lp: [number[], number[]];
  ref: [number[], number[]];
  old: [number[], number[]];
}

/** Detached pair quantities shared by both clip forms (spec §7), all at the current θ. */
function pairTerms(p: RolloutPair, klCoef: number, C: number) {
  const lr = [0, 1].map((i) => sum(p.lp[i]) - sum(p.ref[i])); // lr_i = Σ_t (ℓ_{i,t} − ℓ^ref_{i,t})
  const lrOld = [0, 1].map((i) => sum(p.old[i]) - sum(p.ref[i])); // lr_i^old at rollout time
  const q = p.r[0] - p.r[1] - klCoef * (lr[0] - lr[1]); // KL-shaped reward difference
  const c = Math.min(C, Math.max(1 / C, Math.exp(lr[0] - lrOld[0] + (lr[1] - lrOld[1])))); // pair ratio clipped to [1/C, C]
  return { q, c, delta: lr[0] - lr[1], deltaOld: lrOld[0] - lrOld[1] };
}

/** P3O joint-clip per-token weights of one pair (y1 tokens, y2 tokens), whether the clip fired, and the pair loss. */
export function p3oPairWeights(p: RolloutPair, klCoef: number, eps: number, C: number): { w: [number[], number[]]; clipped: boolean; q: number; c: number; delta: number; loss: number } {
  const { q, c, delta, deltaOld } = pairTerms(p, klCoef, C);
  const clipped = (q > 0 && delta > deltaOld + eps) || (q < 0 && delta < deltaOld - eps);
  const loss = Math.max(-q * c * delta, -q * c * Math.min(deltaOld + eps, Math.max(deltaOld - eps, delta))) / 2;
  const g = clipped ? 0 : (q * c) / 2;
  return { w: [p.lp[0].map(() => g), p.lp[1].map(() => -g)], clipped, q, c, delta, loss };
}

/**
 * P3O token-wise clip (trlx fork, `clip_tokenwise=True`): the joint loss with each token's log-prob
 * clipped to its own band ℓ^old_t ± ε instead of the sequence gap Δ to Δ^old ± ε. Per pair, s = +1 on
 * y1 tokens and −1 on y2 tokens:
 *   loss = ½ Σ_{i,t} max(−s q c ℓ_{i,t}, −s q c clip(ℓ_{i,t}, ℓ^old_{i,t} − ε, ℓ^old_{i,t} + ε))
 *   ⇒ w_{i,t} = s q c / 2 while token t's unclipped branch is active, else 0.
 * Normalizer: ÷2 per pair, as the joint form here, so the two give identical weights while neither
 * clips; the trlx fork divides this variant by the minibatch's token count instead (a per-minibatch
 * constant that AdamW largely absorbs). The joint clip can fire while no single token leaves its band
 * (Δ sums T token moves), so the forms differ exactly when only the joint band is left.
 */
export function p3oPairWeightsTokenwise(
  p: RolloutPair,
  klCoef: number,
  eps: number,
  C: number,
): { w: [number[], number[]]; clippedTokens: number; tokens: number; q: number; c: number; delta: number; loss: number } {
  const { q, c, delta } = pairTerms(p, klCoef, C);
  let loss = 0;
  let clippedTokens = 0;
  const w = [0, 1].map((i) => {
    const a = (i === 0 ? 1 : -1) * q * c; // s·q·c, s = + for y1, − for y2: the token's term is −a·ℓ (unclipped) or −a·clip(ℓ)
    return p.lp[i].map((l, t) => {
      const o = p.old[i][t];
      loss += Math.max(-a * l, -a * Math.min(o + eps, Math.max(o - eps, l))) / 2;
      // the clipped branch is the max (zero gradient) once ℓ has moved past the band in the direction −a·ℓ decreases
      const clipped = (a > 0 && l > o + eps) || (a < 0 && l < o - eps);
      if (clipped) clippedTokens++;
      return clipped ? 0 : a / 2;
    });
  }) as [number[], number[]];
  return { w, clippedTokens, tokens: p.lp[0].length + p.lp[1].length, q, c, delta, loss };
}

export interface P3oOptions {
  epochs: number;
  /** Pairs per minibatch. */
  pairs: number;
  lr: number;
  klCoef: number;
  clip: number;
  ratioClip: number;
  dropTies: boolean;
  /** 'joint' (sequence-level gap clip) or 'tokenwise' (per-token log-prob clip); absent = joint (the experiment's config default is tokenwise). */
  clipMode?: ClipMode;
}

/** One P3O iteration over pairs (2i, 2i+1) of `rolls`: `epochs` passes of shuffled pair minibatches. */
export async function p3oUpdate(trainer: PolicyTrainer, rolls: PpoRollout[], o: P3oOptions, rng: Rng, onStep: (m: Record<string, number>) => void): Promise<{ pairsUsed: number }> {
  const pairs = Array.from({ length: rolls.length >> 1 }, (_, i) => i).filter((i) => !o.dropTies || rolls[2 * i].score !== rolls[2 * i + 1].score);
  for (let e = 0; e < o.epochs; e++) {
    const order = rng.shuffle(pairs);
    for (let k = 0; k < order.length; k += o.pairs) {
      const idx = order.slice(k, k + o.pairs).flatMap((i) => [2 * i, 2 * i + 1]);
      const seqs = idx.map((i) => rolls[i].seq);
      const lp = await trainer.logProbs(seqs);
      const weights: number[][] = [];
      // clipfrac: clipped pairs / pairs (joint), clipped tokens / tokens (token-wise, as trlx)
      const st = { clipped: 0, clipOf: 0, loss: 0, q: [] as number[], c: [] as number[], gap: [] as number[], diff: [] as number[] };
      for (let j = 0; j < idx.length; j += 2) {
        const [a, b] = [rolls[idx[j]], rolls[idx[j + 1]]];
        const pair: RolloutPair = { r: [a.score, b.score], lp: [lp[j], lp[j + 1]], ref: [a.ref, b.ref], old: [a.old, b.old] };
        let r: { w: [number[], number[]]; q: number; c: number; delta: number; loss: number };
        if (o.clipMode === 'tokenwise') {
          const t = p3oPairWeightsTokenwise(pair, o.klCoef, o.clip, o.ratioClip);
          st.clipped += t.clippedTokens;
          st.clipOf += t.tokens;
          r = t;
        } else {
          const t = p3oPairWeights(pair, o.klCoef, o.clip, o.ratioClip);
          st.clipped += t.clipped ? 1 : 0;
          st.clipOf += 1;
          r = t;
        }
        weights.push(r.w[0], r.w[1]);
        st.loss += r.loss;
        st.q.push(r.q);
        st.c.push(r.c);
        st.gap.push(r.delta);
        st.diff.push(a.score - b.score);
      }
      const n = st.q.length;
      await trainer.step(seqs, weights, n, o.lr);
      const sd = (a: number[]) => Math.sqrt(mean(a.map((x) => (x - mean(a)) ** 2)));
      onStep({
        'loss/policy_avg': st.loss / n,
        'policy/clipfrac_avg': st.clipped / st.clipOf,
        policy_clipfrac: st.clipped / st.clipOf,
        reward_diff_mean: mean(st.diff),
        reward_diff_abs: mean(st.diff.map(Math.abs)),
        reward_diff_std: sd(st.diff),
        q_diff_mean: mean(st.q),
        q_diff_std: sd(st.q),
        ratio_mean: mean(st.c),
        ratio_min: Math.min(...st.c),
        ratio_max: Math.max(...st.c),
        logratio_gap_mean: mean(st.gap),
        'objective/scores': mean(idx.map((i) => rolls[i].score)),
        'objective/kl': mean(idx.map((i) => sum(rolls[i].old) - sum(rolls[i].ref))),
      });
    }
  }
  return { pairsUsed: pairs.length };
}

// ---------------------------------------------------------------- the reward–KL frontier

/**
 * KL at which a checkpoint curve (points in training order, starting at the initial policy) first
 * reaches `target` reward, linearly interpolated between the two checkpoints around the crossing;
 * Infinity if it never does.
 */
export function klAtReward(reward: number[], kl: number[], target: number): number {
  if (reward.length !== kl.length) throw new Error(`klAtReward: ${reward.length} rewards but ${kl.length} KL values`);
  for (let i = 0; i < reward.length; i++) {
    if (reward[i] < target) continue;
    if (i === 0) return kl[0];
    const f = (target - reward[i - 1]) / (reward[i] - reward[i - 1]);
    return kl[i - 1] + f * (kl[i] - kl[i - 1]);
  }
  return Infinity;
}

/** Reward of a checkpoint curve at KL `k`: linear between checkpoints sorted by KL (k within the curve's KL range). */
export function rewardAtKl(reward: number[], kl: number[], k: number): number {
  const pts = reward.map((r, i) => ({ r, k: kl[i] })).sort((a, b) => a.k - b.k);
  if (k < pts[0].k || k > pts[pts.length - 1].k) return NaN;
  for (let i = 1; i < pts.length; i++) {
    if (k > pts[i].k) continue;
    const span = pts[i].k - pts[i - 1].k;
    return span > 0 ? pts[i - 1].r + ((k - pts[i - 1].k) / span) * (pts[i].r - pts[i - 1].r) : Math.max(pts[i - 1].r, pts[i].r);
  }
  return pts[0].r;
}

/**
 * Mean vertical gap between two reward–KL curves (a minus b) over their overlapping KL range,
 * taken at every checkpoint of either curve after the shared starting point; NaN without overlap.
 */
export function frontierGap(a: { reward: number[]; kl: number[] }, b: { reward: number[]; kl: number[] }): { gap: number; points: number; overlap: number } {
  const overlap = Math.min(Math.max(...a.kl), Math.max(...b.kl));
  const ks = [...a.kl.slice(1), ...b.kl.slice(1)].filter((k) => k <= overlap && k > 0);
  const gaps = ks.map((k) => rewardAtKl(a.reward, a.kl, k) - rewardAtKl(b.reward, b.kl, k)).filter((g) => Number.isFinite(g));
  return { gap: gaps.length ? mean(gaps) : NaN, points: gaps.length, overlap };
}

// ---------------------------------------------------------------- one arm: rollouts, update, checkpoint, evaluation

type ArmName = 'p3o' | 'ppo' | 'p3o_unshifted' | 'ppo_unshifted';

export interface PgArmResult extends EvalCurves {
  /** Rollout + update seconds per iteration (evaluation and checkpoint writing excluded). */
  secondsPerUpdate: number;
}

async function runArm(arm: ArmName, ctx: RunContext<unknown>, c: P3oConfig, s: Awaited<ReturnType<typeof setupLmRun>>, step: { value: number }): Promise<PgArmResult> {
  const method = arm.startsWith('p3o') ? 'p3o' : 'ppo';
  const shifted = !arm.endsWith('_unshifted');
  const { trainer, model } = s;
  const initial = copyWeights(model.weights);
  trainer.setWeights(initial);
  const poolText = brownPrompts('train', c.prompts, pickRng(ctx.seed, 11), { prefixWords: c.promptWords });
  const pool = encodePrompts(s.refLm.tokenizer, poolText, c.maxPromptTokens);
  const shiftRng = pickRng(ctx.seed, 13);
  const shift = pool.map(() => (2 * shiftRng.uniform() - 1) * c.rewardShift);
  const critic =
    method === 'ppo'
      ? await ValueCritic.create({ model, batch: trainer.batch, ctx: trainer.ctx, padId: trainer.padId, valueClip: c.valueClip, vfCoef: c.vfCoef, maxGradNorm: c.maxGradNorm, threads: ctx.threads })
      : null;
  const res: PgArmResult = { evalReward: [], evalRewardSamples: [], evalWinRate: [], kl: [], refReward: NaN, secondsPerUpdate: NaN };
  const p = `${arm}/`;
  const evalOne = (w: Weights, it: number) =>
    evaluateRound({ ctx, c, model, trainer, arm, prefix: p, counter: 'iteration', evalPrompts: s.evalPrompts, refEvalSamples: s.refEvalSamples, initial, res }, w, it, step.value);
  let first = 1;
  const resumed = c.resumeFrom ? lastRoundDir(c.resumeFrom, arm, 'iteration') : null;
  if (resumed) {
    // θ (and PPO's critic) come back from the checkpoint; optimizer moments restart from zero.
    trainer.setWeights(readCheckpointWeights(resumed.dir));
    const criticFile = join(resumed.dir, 'critic.safetensors');
    if (critic) {
      if (!existsSync(criticFile)) throw new Error(`resumeFrom: ${criticFile} not found (PPO checkpoints carry the value model)`);
      critic.load(criticFile);
    }
    first = resumed.round + 1;
    ctx.info(`${arm}: resumed from ${resumed.dir} after iteration ${resumed.round}`);
  } else await evalOne(initial, 0);
  let updateSeconds = 0;
  for (let it = first; it <= c.iterations; it++) {
    ctx.throwIfCancelled();
    const t0 = Date.now();
    const sampler = await samplerFor(join(ctx.artifactsDir, 'tmp', `${arm}-sampler`), model, trainer.weights(), ctx.threads);
    const ys: Completion[] = await sampleCompletions(
      sampler,
      pool.flatMap((x) => [x, x]),
      { maxNewTokens: c.maxNewTokens, temperature: c.temperature, seed: ctx.seed * 131 + it },
    );
    await sampler.dispose();
    const old = await trainer.logProbs(ys); // π_old = θ at rollout time
    const ref = await trainer.logProbs(ys, initial);
    const rolls: PpoRollout[] = ys.map((y, i) => ({ seq: y, score: completionReward(y) + (shifted ? shift[i >> 1] : 0), old: old[i], ref: ref[i] }));
    const logStep = (m: Record<string, number>) => {
      step.value++;
      ctx.log(step.value, Object.fromEntries(Object.entries(m).map(([k, v]) => [p + k, v])));
    };
    const rng = pickRng(ctx.seed, 2000 + it);
    if (method === 'p3o') {
      const r = await p3oUpdate(trainer, rolls, { epochs: c.epochs, pairs: Math.max(1, trainer.batch >> 1), lr: c.lr, klCoef: c.klCoef, clip: c.clip, ratioClip: c.ratioClip, dropTies: c.dropTies, clipMode: c.clipMode }, rng, logStep);
      ctx.log(step.value, { [`${p}informative_prompts`]: r.pairsUsed });
    } else {
      const r = await ppoUpdate(trainer, critic!, rolls, { epochs: c.epochs, batch: trainer.batch, lr: c.lr, clip: c.clip, klCoef: c.klCoef, gaeLambda: c.gaeLambda, vfCoef: c.vfCoef }, rng, logStep);
      ctx.log(step.value, { [`${p}objective/non_score_reward`]: r.nonScoreReward, [`${p}objective/rlhf_reward`]: mean(rolls.map((x) => x.score)) + r.nonScoreReward, [`${p}val/value_mean`]: r.valueMean });
    }
    updateSeconds += (Date.now() - t0) / 1000;
    for (let i = 0; i < Math.min(8, pool.length); i++) {
      const [a, b] = [rolls[2 * i], rolls[2 * i + 1]];
      const [ch, rj] = a.score >= b.score ? [a, b] : [b, a];
      ctx.sample({ arm, iteration: it, prompt: poolText[i], chosen: (ch.seq as Completion).text, rejected: (rj.seq as Completion).text, reward_chosen: ch.score, reward_rejected: rj.score, logp_chosen: sum(ch.old), logp_rejected: sum(rj.old) });
    }
    const w = trainer.weights();
    const dir = join(ctx.artifactsDir, 'checkpoints', arm, `iteration-${it}`);
    writeCheckpoint(dir, model, w, { iteration: it, method: arm });
    critic?.save(join(dir, 'critic.safetensors'));
    await evalOne(w, it);
    ctx.progress(it, c.iterations, { metric: `${p}eval/reward`, value: res.evalReward[res.evalReward.length - 1] });
  }
  res.secondsPerUpdate = updateSeconds / Math.max(1, c.iterations - first + 1);
  return res;
}

/** Which arms a config trains, in order. */
export function armsOf(c: P3oConfig): ArmName[] {
  const arms: ArmName[] = ['p3o', 'ppo'];
  if (c.rewardShift > 0 && c.unshiftedArms === 'both') arms.push('p3o_unshifted');
  if (c.rewardShift > 0 && c.unshiftedArms !== 'none') arms.push('ppo_unshifted');
  return arms;
}

export const p3oExperiment = defineExperiment({
  id: 'p3o',
  title: 'P3O (pairwise PPO, joint or token-wise clip) vs PPO with a value model on the sentiment task',
  paper: 'Pairwise Proximal Policy Optimization (P3O)',
  kind: 'alignment',
  tasks: ['sentiment'],
  schema: p3oSchema,
  keyMetric: 'p3o/eval/reward',
  async run(ctx) {
    const c = ctx.config;
    const s = await setupLmRun(ctx, c, c.batch, c.evalSamples);
    const step = { value: 0 };
    const out: Partial<Record<ArmName, PgArmResult>> = {};
    for (const arm of armsOf(c)) out[arm] = await runArm(arm, ctx, c, s, step);
    await s.refLm.dispose();
    removeScratch(ctx.artifactsDir);
    const summary: Record<string, number> = { ref_reward: out.p3o!.refReward, reward_shift: c.rewardShift };
    const curves: Record<string, number[]> = {};
    for (const [arm, r] of Object.entries(out) as [ArmName, PgArmResult][]) {
      summary[`${arm}_reward`] = r.evalReward[r.evalReward.length - 1];
      summary[`${arm}_kl`] = r.kl[r.kl.length - 1];
      summary[`${arm}_win_rate`] = r.evalWinRate[r.evalWinRate.length - 1];
      summary[`${arm}_seconds_per_update`] = r.secondsPerUpdate;
      curves[`${arm}_reward_curve`] = r.evalReward;
      curves[`${arm}_kl_curve`] = r.kl;
    }
    // Frontier: KL at which each method first reaches PPO's final held-out reward (interpolated).
    const frontier = (p3o: PgArmResult, ppo: PgArmResult, tag: string) => {
      const target = ppo.evalReward[ppo.evalReward.length - 1];
      summary[`p3o_kl_at_ppo_reward${tag}`] = klAtReward(p3o.evalReward, p3o.kl, target);
      summary[`ppo_kl_at_ppo_reward${tag}`] = klAtReward(ppo.evalReward, ppo.kl, target);
      const g = frontierGap({ reward: p3o.evalReward, kl: p3o.kl }, { reward: ppo.evalReward, kl: ppo.kl });
      summary[`frontier_gap${tag}`] = g.gap;
      summary[`frontier_overlap_kl${tag}`] = g.overlap;
    };
    frontier(out.p3o!, out.ppo!, '');
    if (out.ppo_unshifted) frontier(out.p3o_unshifted ?? out.p3o!, out.ppo_unshifted, '_unshifted');
    if (out.p3o_unshifted) {
      // P3O's updates do not depend on δ(x): the two runs differ only by float rounding of r1 − r2
      const d = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
      summary.p3o_shift_max_reward_diff = d(out.p3o!.evalReward, out.p3o_unshifted.evalReward);
      summary.p3o_shift_max_kl_diff = d(out.p3o!.kl, out.p3o_unshifted.kl);
    }
    ctx.artifact('summary.json', { ...summary, ...curves });
    ctx.info(`P3O reward ${summary.p3o_reward.toFixed(4)} (KL ${summary.p3o_kl.toFixed(2)}) vs PPO ${summary.ppo_reward.toFixed(4)} (KL ${summary.ppo_kl.toFixed(2)}); reference ${summary.ref_reward.toFixed(4)}`);
    return summary;
  },
  claim: {
    statement:
      'On the reward as a Bradley–Terry model presents it (task reward + per-prompt offset δ(x) ~ U(−10, 10), spec §7.1), P3O’s (token-wise clip) held-out reward–KL curve lies above PPO’s (with a value model) over their overlapping KL range; both methods raise the held-out reward over the reference on the raw reward (P3O’s updates do not depend on δ; PPO checked on the unshifted reward) with KL within the configured limit; P3O’s updates are invariant to δ(x) (unit-tested). The P3O-vs-PPO comparison on the unshifted reward is measured and reported alongside: there PPO’s frontier is the higher one (not claimed).',
    async fast({ seed }) {
      return p3oClaim(seed, fastP3oConfig());
    },
    async full({ seeds }) {
      const rows = [];
      for (const seed of seeds) rows.push(await p3oClaim(seed, fullP3oConfig()));
      return { pass: rows.every((r) => r.pass), measured: Object.fromEntries(rows.flatMap((r, i) => Object.entries(r.measured).map(([k, v]) => [`seed${seeds[i]}/${k}`, v]))), summary: rows.map((r) => r.summary).join('; ') };
    },
  },
});

export function fastP3oConfig(): P3oConfig {
  return p3oSchema.parse({ iterations: 3, prompts: 64, evalPrompts: 64, maxNewTokens: 8, lr: 1e-3, batch: 32, rewardShift: 10, unshiftedArms: 'ppo' });
}

/** Full form: evalSamples 8 since the pre-registered check 3 (below); at evalSamples 2 seed 1 failed by 0.0017. */
export function fullP3oConfig(): P3oConfig {
  return p3oSchema.parse({ iterations: 6, prompts: 96, evalPrompts: 96, evalSamples: 8, maxNewTokens: 8, lr: 1e-3, batch: 32, rewardShift: 10, unshiftedArms: 'both' });
}

/**
 * PRE-REGISTERED CHECK of the token-wise clip (fixed before any full-size token-wise run; committed with
 * a message saying "pre-register"; nothing below is tuned after the fresh-seed results are seen).
 *
 * Question: does token-wise-clip P3O put its held-out reward–KL frontier above PPO's (with a value model)
 * on the raw reward, where the joint clip did not (full form, seeds 0, 1, 2: frontier gap
 * −0.008 / −0.033 / −0.024; P3O 0.746 at KL 23.6 on seed 0, 0.021 and 0.012 on seeds 1 and 2)?
 *
 * Protocol:
 * - config: preregisteredTokenwiseConfig() = fullP3oConfig() with clipMode 'tokenwise', nothing else
 *   changed (96 prompts, 96 held-out prompts, 6 iterations, 8-token continuations, lr 1e-3, batch 32,
 *   epochs 2, kl_coef 0.01, ε 0.2, C 10, ties dropped, δ(x) ~ U(±10), unshiftedArms 'both', klLimit 25);
 *   the PPO arms are the same PPO baseline as in the joint-clip measurement (PPO does not read clipMode).
 * - fresh seeds 3, 4, 5 (seeds 0–2 were used for the joint variant), one run per seed via p3oClaim.
 * - raw reward = the `_unshifted` arms: frontier_gap_unshifted = mean (P3O − PPO) held-out reward over the
 *   overlapping KL range of the p3o_unshifted and ppo_unshifted curves (frontierGap).
 * - pass rule (preregisteredTokenwiseVerdict): frontier_gap_unshifted > 0 (NaN counts as not > 0) on at
 *   least 2 of the 3 seeds, AND on every seed, mirroring the claim's other conditions on the raw reward:
 *   p3o_unshifted_reward > ref_reward, ppo_unshifted_reward > ref_reward, and every arm's final KL
 *   (p3o, ppo, p3o_unshifted, ppo_unshifted) ≤ klLimit.
 * - reported alongside, not part of the rule: the δ-shifted comparison (frontier_gap), the shifted vs
 *   unshifted P3O difference, rewards, KLs and seconds per update per seed.
 * - if it passes: token-wise becomes the claim's variant (and the default if it is also better in the
 *   fast form), the fast form must still pass; if it fails: the claim stays as it is.
 *
 * Outcome (run 2026-11-28 after the pre-registration commit, scripts: p3oClaim(seed, preregisteredTokenwiseConfig())
 * per seed): FAILED — the raw-reward frontier gap is positive on 1 of 3 fresh seeds (2 required).
 *   seed  raw gap   P3O raw reward @ KL   PPO raw reward @ KL   reference   δ-shifted gap (P3O vs PPO on r + δ)
 *   3     −0.0089   0.0195 @ 4.00         0.1621 @ 6.28         0.0163      +0.0030 (PPO 0.0130 @ 5.79)
 *   4     +0.0035   0.0547 @ 4.62         0.0462 @ 5.09         0.0007      +0.0216 (PPO 0.0078 @ 5.90)
 *   5     −0.0146   0.0586 @ 5.13         0.2311 @ 7.54         0.0085      +0.0202 (PPO 0.0189 @ 6.00)
 * The other conditions held (every seed: P3O and PPO above the reference; every KL ≤ 25). Token-wise P3O
 * on r and on r + δ gave identical curves (max difference 0 reward, 0 KL on every seed). P3O reaches only
 * KL 4.0–5.1 in 6 iterations, so the gap is measured over KL ≤ 4.0 / 4.6 / 5.1, where PPO's curve is still
 * close to P3O's; PPO then climbs to 0.16 / 0.05 / 0.23. Seconds per update (shifted arms; single runs,
 * seeds 3 and 4 ran side by side, seed 5 alone): P3O 3.5 / 3.7 / 2.1, PPO 7.2 / 7.3 / 3.6.
 * Per the protocol the claim stays as it was (joint clip, default 'joint'); nothing was tuned afterwards.
 */
/**
 * PRE-REGISTERED CONFIRMATION (second check, fixed before running it). The check above judged the raw reward
 * and failed. The claim's own rule (p3oClaim: δ-shifted frontier gap > 0, P3O and PPO above the reference on
 * the raw reward, every KL ≤ klLimit — the spec §7.1 setting, stated before any token-wise run) was also
 * measured on seeds 3–5 and held on all three (shifted gaps +0.0030 / +0.0216 / +0.0202). As those seeds were
 * not pre-registered for that rule, it is confirmed out of sample: p3oClaim(seed, preregisteredTokenwiseConfig())
 * on fresh seeds 6, 7, 8, nothing changed; pass = p3oClaim passes on all three. If it passes, the claim's
 * variant becomes token-wise (full and fast configs), with the raw-reward failure reported beside it; if not,
 * the claim stays joint-clip and not reproduced.
 * Outcome (run right after the commit that fixed this text): PASSED, 3/3 fresh seeds.
 *   seed  δ-shifted gap   P3O reward @ KL   PPO (on r + δ) @ KL   PPO on raw r @ KL   reference   raw-reward gap
 *   6     +0.0087         0.0260 @ 5.25     0.0098 @ 6.65         0.1712 @ 7.19       0.0163      −0.0095
 *   7     +0.0175         0.0482 @ 4.48     0.0130 @ 6.44         0.0638 @ 5.21       0.0137      +0.0055
 *   8     +0.0023         0.0319 @ 4.31     0.0111 @ 5.76         0.1686 @ 7.87       0.0026      −0.0028
 * Every KL ≤ 25; P3O's curves on r and r + δ identical; 1.9–2.2 s vs 3.4–4.1 s per update (P3O / PPO).
 * Fast form with the token-wise clip (seed 0): passes, shifted gap +0.0171 (joint: +0.0083), 32 s. So the
 * claim and the default use the token-wise clip; the margins are small and PPO wins on the raw reward (the
 * check above), which the README states beside the claim.
 * Afterwards, the full form's default seeds 0, 1, 2 with the token-wise clip (same rule): +0.0217 / −0.0017 / +0.0114,
 * so the full form on its default seeds FAILS (seed 1); over seeds 0–8 the rule holds on 8 of 9 seeds.
 * preregisteredTokenwiseConfig() is the configuration checks 1 and 2 ran with (the full form then had evalSamples 2).
 */
export function preregisteredTokenwiseConfig(): P3oConfig {
  return { ...fullP3oConfig(), clipMode: 'tokenwise', evalSamples: 2 };
}

/** The pre-registered pass rule above, applied to the per-seed run summaries. */
export function preregisteredTokenwiseVerdict(rows: Record<string, number>[], klLimit: number): { pass: boolean; positiveGaps: number; allAboveReference: boolean; allKlWithinLimit: boolean } {
  const positiveGaps = rows.filter((s) => s.frontier_gap_unshifted > 0).length;
  const allAboveReference = rows.every((s) => s.p3o_unshifted_reward > s.ref_reward && s.ppo_unshifted_reward > s.ref_reward);
  const allKlWithinLimit = rows.every((s) => ['p3o', 'ppo', 'p3o_unshifted', 'ppo_unshifted'].every((a) => s[`${a}_kl`] <= klLimit));
  return { pass: positiveGaps >= 2 && allAboveReference && allKlWithinLimit, positiveGaps, allAboveReference, allKlWithinLimit };
}

/**
 * PRE-REGISTERED CHECK 3: a more precise evaluation (fixed before running it; committed with a message
 * saying "pre-register"; nothing tuned after the results are seen).
 *
 * Why: the full form on its default seeds failed on seed 1 by 0.0017 (above). Each point of a reward–KL
 * curve is a held-out mean over 96 prompts × 2 continuations (evalSamples 2). The per-continuation reward
 * s.d. is ≈ 0.16 (training pairs: reward-difference s.d. ≈ 0.23), so each point's standard error is
 * ≈ 0.012 — the size of the frontier gaps themselves (0.002–0.022 over seeds 0–8). Example: on seed 4 the
 * initial policy and the reference, the same weights, scored 0.0150 and 0.0007. Training does not depend
 * on evaluation (training seeds: sampler seed·131 + it, pickRng(seed, 11 / 13 / 2000 + it); evaluation
 * seed·31 + 5; unit-tested: training metrics equal for evalSamples 1 and 3), so a larger evaluation
 * re-measures the same trained policies more precisely.
 *
 * Protocol:
 * - config: preciseEvalP3oConfig() = fullP3oConfig() with evalSamples 8 (8 continuations per held-out
 *   prompt for every policy and the reference: 768 per evaluation, s.e. ≈ 0.006), nothing else changed.
 * - seeds: the full form's defaults 0, 1, 2 (re-measured; seed 1 failed at evalSamples 2) and fresh
 *   seeds 9, 10, 11; one run per seed via p3oClaim (the claim's own rule, unchanged).
 * - pass rule (preciseEvalVerdict): p3oClaim passes on all six seeds.
 * - if it passes: the full form uses evalSamples 8 (the fast form is unchanged) and the README keeps the
 *   evalSamples-2 failure beside the result; if it fails: the full form stays failing, recorded here.
 *
 * Outcome (run right after the pre-registration commit 7986aad; p3oClaim(seed, preciseEvalP3oConfig()),
 * two processes side by side, ≈ 190–200 s per seed): PASSED, 6/6 seeds — but seed 1 only just.
 *   seed  δ-shifted gap  P3O reward @ KL   PPO (r + δ) @ KL   PPO (raw r) @ KL   reference  raw-reward gap  win rate P3O / PPO
 *   0     +0.0232        0.0618 @ 3.98     0.0130 @ 5.68      0.1621 @ 6.62      0.0124     +0.0123         0.572 / 0.503
 *   1     +0.0001        0.0256 @ 5.21     0.0125 @ 6.74      0.1468 @ 6.35      0.0124     −0.0207         0.518 / 0.495
 *   2     +0.0100        0.0474 @ 4.40     0.0267 @ 6.17      0.1140 @ 5.35      0.0192     +0.0042         0.538 / 0.507
 *   9     +0.0156        0.0407 @ 3.93     0.0053 @ 5.93      0.0837 @ 5.66      0.0106     +0.0040         0.557 / 0.496
 *   10    +0.0152        0.0555 @ 5.29     0.0167 @ 5.87      0.1364 @ 5.80      0.0158     −0.0154         0.570 / 0.504
 *   11    +0.0155        0.0316 @ 5.00     −0.0054 @ 6.76     0.1419 @ 6.42      0.0163     −0.0124         0.523 / 0.470
 * Every KL ≤ 25; P3O's runs on r and r + δ identical (difference 0); 1.7–1.9 s vs 3.5–3.7 s per update.
 * On seed 1 the curves are tied (+0.0001 ≪ the ≈ 0.006 standard error), so "P3O above PPO" holds on 5
 * seeds clearly and on seed 1 only nominally. On the raw reward (not claimed) PPO's frontier is higher on
 * seeds 1, 10, 11 and PPO ends at 0.08–0.16 reward, above every P3O run.
 * Per the protocol the full form now uses evalSamples 8 (fullP3oConfig), the fast form is unchanged.
 */
export function preciseEvalP3oConfig(): P3oConfig {
  return { ...fullP3oConfig(), evalSamples: 8 };
}

export const PRECISE_EVAL_SEEDS = { default: [0, 1, 2], fresh: [9, 10, 11] } as const;

/** The pass rule of check 3: the claim's own per-seed rule holds on every one of the six seeds. */
export function preciseEvalVerdict(rows: { seed: number; pass: boolean }[]): { pass: boolean; passed: number; missing: number[] } {
  const wanted = [...PRECISE_EVAL_SEEDS.default, ...PRECISE_EVAL_SEEDS.fresh];
  const missing = wanted.filter((s) => !rows.some((r) => r.seed === s));
  const passed = wanted.filter((s) => rows.some((r) => r.seed === s && r.pass)).length;
  return { pass: missing.length === 0 && passed === wanted.length, passed, missing };
}

export async function p3oClaim(seed: number, config: P3oConfig) {
  const { runInProcess } = await import('../runs/context');
  const { summary } = await runInProcess(p3oExperiment, { config, seed });
  const s = summary as Record<string, number>;
  const ppoRaw = 'ppo_unshifted_reward' in s ? 'ppo_unshifted' : 'ppo';
  const kls = Object.keys(s).filter((k) => /^(p3o|ppo)(_unshifted)?_kl$/.test(k));
  const pass = s.frontier_gap > 0 && s.p3o_reward > s.ref_reward && s[`${ppoRaw}_reward`] > s.ref_reward && kls.every((k) => s[k] <= config.klLimit);
  const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'never');
  const arm = (a: string) => `${a} ${f(s[`${a}_reward`], 4)} at KL ${f(s[`${a}_kl`])}`;
  const compare = (tag: string) =>
    `frontier gap P3O − PPO ${f(s[`frontier_gap${tag}`], 4)} over KL ≤ ${f(s[`frontier_overlap_kl${tag}`])}; KL to reach PPO's final reward: P3O ${f(s[`p3o_kl_at_ppo_reward${tag}`])} vs PPO ${f(s[`ppo_kl_at_ppo_reward${tag}`])}`;
  const unshifted = 'ppo_unshifted_reward' in s ? `; unshifted: ${arm('p3o_unshifted_reward' in s ? 'p3o_unshifted' : 'p3o')} vs ${arm('ppo_unshifted')}, ${compare('_unshifted')}` : '';
  const invariance = 'p3o_shift_max_reward_diff' in s ? `; P3O shifted vs unshifted runs differ by ≤ ${f(s.p3o_shift_max_reward_diff, 4)} reward, ≤ ${f(s.p3o_shift_max_kl_diff, 3)} KL` : '';
  return {
    pass,
    measured: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Number.isFinite(v) ? v : 'never'])),
    summary: `seed ${seed}, δ(x) ~ U(±${config.rewardShift}): ${arm('p3o')} vs ${arm('ppo')}, ${compare('')}; reference ${f(s.ref_reward, 4)}${unshifted}${invariance}; ${f(s.p3o_seconds_per_update, 1)} / ${f(s.ppo_seconds_per_update, 1)} s per update (P3O / PPO)`,
  };
}
