// P3O (Wu et al., "Pairwise Proximal Policy Optimization", arXiv 2310.00212), spec alignment.md §7,
// joint-clip form of the first author's trlx fork, against a PPO baseline on the sentiment task.
// Both arms get the same rollouts budget: 2 continuations per prompt from π_old, the same epochs and
// minibatches, one weighted token-NLL step per minibatch (§0.3).
//
// P3O, per pair (y1, y2) of one prompt, all detached at the current θ:
//   lr_i = Σ_t (ℓ_{i,t} − ℓ^ref_{i,t}),  q = (r1 − r2) − kl_coef·(lr1 − lr2)
//   c = clip(exp((lr1 − lr1_old) + (lr2 − lr2_old)), 1/C, C),  Δ = lr1 − lr2
//   loss = max(−q c Δ, −q c clip(Δ, Δ_old − ε, Δ_old + ε)) / 2
//   ⇒ w = ±q c / 2 on y1 / y2 tokens while the unclipped branch is active, else 0.
// Only reward differences enter, so adding δ(x) to every reward of prompt x changes nothing.
//
// PPO baseline (Schulman et al. 2017, TRL-style KL in the reward): per-token reward
//   r_t = −kl_coef (ℓ^old_t − ℓ^ref_t) + score·1[t = T], return G_t = Σ_{s≥t} r_s, advantage
//   A_t = G_t − b(x), whitened over the batch; clipped surrogate ⇒ w_t = A_t ρ_t while active.
// [ours] b(x) is a learned per-prompt baseline (an exponential average of past returns of prompt x over
// a fixed prompt pool) instead of a value head on the LM: cheaper on 2 CPU cores, same role.
import { join } from 'node:path';
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../../core/experiment';
import type { Weights } from '../lm/llama/config';
import { brownPrompts } from '../tasks/sentiment';
import { completionReward, lastRoundDir, setupLmRun } from './dpo';
import { type Completion, copyWeights, encodePrompts, evaluatePolicy, lmFields, mean, pickRng, readCheckpointWeights, removeScratch, sampleCompletions, samplerFor, sum, writeCheckpoint } from './policy';

export const p3oSchema = z
  .object({
    task: z.enum(['sentiment']).default('sentiment').describe('sentiment: Brown prefixes, AFINN-165 reward per token'),
    ...lmFields,
    prompts: z.number().int().min(2).max(4096).default(96).describe('Prompts per iteration (2 continuations each; Brown train split)'),
    batch: z.number().int().min(2).max(256).default(32).describe('Sequences per training step'),
    iterations: z.number().int().min(1).max(1000).default(4).describe('Rollout/update iterations for each method'),
    epochs: z.number().int().min(1).max(20).default(2).describe('Passes over each iteration’s rollouts'),
    klCoef: z.number().min(0).max(10).default(0.01).describe('KL coefficient folded into the reward (both methods; trlx P3O default 0.01)'),
    clip: z.number().positive().max(5).default(0.2).describe('PPO ratio clip ε / P3O log-ratio-gap clip ε'),
    ratioClip: z.number().min(1).max(1000).default(10).describe('P3O pair importance-weight clip C: c ∈ [1/C, C]'),
    baselineRate: z.number().positive().max(1).default(0.5).describe('PPO per-prompt baseline update rate'),
    dropTies: z.boolean().default(true).describe('Leave prompts whose two rewards tie out of the update, in both methods (no preference signal; the LOOP/DAPO-style filter of zero-advantage groups)'),
    rewardShift: z.number().min(0).max(1000).default(0).describe('Add δ(x) ~ U(−s, s) per prompt to the reward (invariance probe; 0 = off)'),
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

/** P3O joint-clip per-token weights of one pair (y1 tokens, y2 tokens) and whether the clip fired. */
export function p3oPairWeights(p: RolloutPair, klCoef: number, eps: number, C: number): { w: [number[], number[]]; clipped: boolean; q: number; c: number } {
  const lr = [0, 1].map((i) => sum(p.lp[i]) - sum(p.ref[i]));
  const lrOld = [0, 1].map((i) => sum(p.old[i]) - sum(p.ref[i]));
  const q = p.r[0] - p.r[1] - klCoef * (lr[0] - lr[1]);
  const c = Math.min(C, Math.max(1 / C, Math.exp(lr[0] - lrOld[0] + (lr[1] - lrOld[1]))));
  const delta = lr[0] - lr[1];
  const deltaOld = lrOld[0] - lrOld[1];
  const clipped = (q > 0 && delta > deltaOld + eps) || (q < 0 && delta < deltaOld - eps);
  const g = clipped ? 0 : (q * c) / 2;
  return { w: [p.lp[0].map(() => g), p.lp[1].map(() => -g)], clipped, q, c };
}

/** PPO per-token returns G_t = Σ_{s≥t} r_s with r_s = −kl_coef(ℓ^old_s − ℓ^ref_s) + score·1[s = T]. */
export function ppoReturns(score: number, old: number[], ref: number[], klCoef: number): number[] {
  const T = old.length;
  const G = new Array<number>(T);
  let acc = 0;
  for (let t = T - 1; t >= 0; t--) {
    acc += -klCoef * (old[t] - ref[t]) + (t === T - 1 ? score : 0);
    G[t] = acc;
  }
  return G;
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

interface Rollout {
  prompt: number; // index in the prompt pool
  y: Completion;
  score: number;
  old: number[];
  ref: number[];
}

export interface PgArmResult {
  evalReward: number[];
  evalWinRate: number[];
  kl: number[];
  refReward: number;
  secondsPerIteration: number;
}

async function runArm(
  method: 'p3o' | 'ppo',
  ctx: RunContext<unknown>,
  c: P3oConfig,
  s: Awaited<ReturnType<typeof setupLmRun>>,
  step: { value: number },
): Promise<PgArmResult> {
  const { trainer, model } = s;
  const initial = copyWeights(model.weights);
  trainer.setWeights(initial);
  const poolText = brownPrompts('train', c.prompts, pickRng(ctx.seed, 11), { prefixWords: c.promptWords });
  const pool = encodePrompts(s.refLm.tokenizer, poolText, c.maxPromptTokens);
  const shiftRng = pickRng(ctx.seed, 13);
  const shift = pool.map(() => (c.rewardShift ? (2 * shiftRng.uniform() - 1) * c.rewardShift : 0));
  const baseline = new Array<number>(pool.length).fill(NaN);
  const res: PgArmResult = { evalReward: [], evalWinRate: [], kl: [], refReward: NaN, secondsPerIteration: NaN };
  const p = `${method}/`;
  const evalOne = async (w: Weights, it: number) => {
    const lm = await samplerFor(join(ctx.artifactsDir, 'tmp', `${method}-eval`), model, w, ctx.threads);
    const ev = await evaluatePolicy(trainer, lm, w, initial, s.evalPrompts, completionReward, { maxNewTokens: c.maxNewTokens, seed: ctx.seed * 31 + 5, refSamples: s.refEvalSamples });
    await lm.dispose();
    res.evalReward.push(ev.reward);
    res.evalWinRate.push(ev.winRate);
    res.kl.push(ev.kl);
    res.refReward = ev.refReward;
    ctx.log(step.value, { [`${p}eval/reward`]: ev.reward, [`${p}eval/win_rate`]: ev.winRate, [`${p}objective/kl`]: ev.kl, [`${p}eval/distinct_2`]: ev.distinct2, [`${p}iteration`]: it, 'eval/ref_reward': ev.refReward });
  };
  let first = 1;
  const resumed = c.resumeFrom ? lastRoundDir(c.resumeFrom, method, 'iteration') : null;
  if (resumed) {
    // θ comes back from the checkpoint; PPO's per-prompt baseline restarts empty (it is not saved).
    trainer.setWeights(readCheckpointWeights(resumed.dir));
    first = resumed.round + 1;
    ctx.info(`${method}: resumed from ${resumed.dir} after iteration ${resumed.round}`);
  } else await evalOne(initial, 0);
  const t0 = Date.now();
  for (let it = first; it <= c.iterations; it++) {
    ctx.throwIfCancelled();
    const sampler = await samplerFor(join(ctx.artifactsDir, 'tmp', `${method}-sampler`), model, trainer.weights(), ctx.threads);
    const rep = pool.flatMap((x) => [x, x]);
    const ys = await sampleCompletions(sampler, rep, { maxNewTokens: c.maxNewTokens, temperature: c.temperature, seed: ctx.seed * 131 + it });
    await sampler.dispose();
    const old = await trainer.logProbs(ys); // π_old = θ at rollout time
    const ref = await trainer.logProbs(ys, initial);
    const rolls: Rollout[] = ys.map((y, i) => ({ prompt: i >> 1, y, score: completionReward(y) + shift[i >> 1], old: old[i], ref: ref[i] }));
    for (let i = 0; i < Math.min(8, pool.length); i++) {
      const [a, b] = [rolls[2 * i], rolls[2 * i + 1]];
      const [ch, rj] = a.score >= b.score ? [a, b] : [b, a];
      ctx.sample({ arm: method, iteration: it, prompt: poolText[i], chosen: ch.y.text, rejected: rj.y.text, reward_chosen: ch.score, reward_rejected: rj.score, logp_chosen: sum(ch.old), logp_rejected: sum(rj.old) });
    }
    // PPO: advantages from the per-prompt baseline, whitened over the batch (computed once per iteration)
    let adv: number[][] = [];
    if (method === 'ppo') {
      const G = rolls.map((r) => ppoReturns(r.score, r.old, r.ref, c.klCoef));
      adv = G.map((g, i) => {
        const b = baseline[rolls[i].prompt];
        return g.map((x) => x - (Number.isNaN(b) ? 0 : b));
      });
      const flat = adv.flat();
      const mu = mean(flat);
      const sd = Math.sqrt(mean(flat.map((x) => (x - mu) ** 2))) || 1;
      adv = adv.map((a) => a.map((x) => (x - mu) / sd));
      const byPrompt = new Map<number, number[]>();
      G.forEach((g, i) => byPrompt.set(rolls[i].prompt, [...(byPrompt.get(rolls[i].prompt) ?? []), g[0]]));
      for (const [k, v] of byPrompt) baseline[k] = Number.isNaN(baseline[k]) ? mean(v) : (1 - c.baselineRate) * baseline[k] + c.baselineRate * mean(v);
    }
    const rng = pickRng(ctx.seed, 2000 + it);
    const pairsPerStep = Math.max(1, Math.floor(trainer.batch / 2));
    const used = pool.map((_, i) => i).filter((i) => !c.dropTies || rolls[2 * i].score !== rolls[2 * i + 1].score);
    ctx.log(step.value, { [`${p}informative_prompts`]: used.length });
    for (let e = 0; e < c.epochs; e++) {
      const order = rng.shuffle(used);
      for (let k = 0; k < order.length; k += pairsPerStep) {
        const idx = order.slice(k, k + pairsPerStep).flatMap((i) => [2 * i, 2 * i + 1]);
        const seqs = idx.map((i) => rolls[i].y);
        const lp = await trainer.logProbs(seqs);
        const weights: number[][] = [];
        let clipped = 0;
        let units = 0;
        let norm: number;
        if (method === 'p3o') {
          for (let j = 0; j < idx.length; j += 2) {
            const a = rolls[idx[j]];
            const b = rolls[idx[j + 1]];
            const r = p3oPairWeights({ r: [a.score, b.score], lp: [lp[j], lp[j + 1]], ref: [a.ref, b.ref], old: [a.old, b.old] }, c.klCoef, c.clip, c.ratioClip);
            weights.push(r.w[0], r.w[1]);
            clipped += r.clipped ? 1 : 0;
            units++;
          }
          norm = units;
        } else {
          idx.forEach((i, j) => {
            const r = ppoTokenWeights(adv[i], lp[j], rolls[i].old, c.clip);
            weights.push(r.w);
            clipped += r.clipped;
            units += r.w.length;
          });
          norm = Math.max(1, units);
        }
        const r = await trainer.step(seqs, weights, norm, c.lr);
        step.value++;
        ctx.log(step.value, { [`${p}loss/policy_avg`]: r.loss, [`${p}policy/clipfrac_avg`]: clipped / Math.max(1, units), [`${p}objective/scores`]: mean(idx.map((i) => rolls[i].score)), [`${p}objective/kl`]: mean(idx.map((i) => sum(rolls[i].old) - sum(rolls[i].ref))) });
      }
    }
    const w = trainer.weights();
    writeCheckpoint(join(ctx.artifactsDir, 'checkpoints', method, `iteration-${it}`), model, w, { iteration: it, method });
    await evalOne(w, it);
    ctx.progress(it, c.iterations, { metric: `${p}eval/reward`, value: res.evalReward[res.evalReward.length - 1] });
  }
  res.secondsPerIteration = (Date.now() - t0) / 1000 / Math.max(1, c.iterations - first + 1);
  return res;
}

export const p3oExperiment = defineExperiment({
  id: 'p3o',
  title: 'P3O (pairwise PPO, joint clip) vs PPO on the sentiment task',
  paper: 'Pairwise Proximal Policy Optimization (P3O)',
  kind: 'alignment',
  tasks: ['sentiment'],
  schema: p3oSchema,
  keyMetric: 'p3o/eval/reward',
  async run(ctx) {
    const c = ctx.config;
    const s = await setupLmRun(ctx, c);
    const step = { value: 0 };
    const p3o = await runArm('p3o', ctx, c, s, step);
    const ppo = await runArm('ppo', ctx, c, s, step);
    await s.refLm.dispose();
    removeScratch(ctx.artifactsDir);
    const last = (a: number[]) => a[a.length - 1];
    // P3O's lowest KL among iterations that reach PPO's final reward
    const reach = p3o.evalReward.map((r, i) => ({ r, kl: p3o.kl[i] })).filter((x, i) => i > 0 && x.r >= last(ppo.evalReward));
    const summary = {
      p3o_reward: last(p3o.evalReward),
      ppo_reward: last(ppo.evalReward),
      ref_reward: p3o.refReward,
      p3o_kl: last(p3o.kl),
      ppo_kl: last(ppo.kl),
      p3o_win_rate: last(p3o.evalWinRate),
      ppo_win_rate: last(ppo.evalWinRate),
      p3o_kl_at_ppo_reward: reach.length ? Math.min(...reach.map((x) => x.kl)) : Infinity,
      p3o_seconds_per_iteration: p3o.secondsPerIteration,
      ppo_seconds_per_iteration: ppo.secondsPerIteration,
    };
    ctx.artifact('summary.json', { ...summary, p3o_curve: p3o.evalReward, ppo_curve: ppo.evalReward, p3o_kl_curve: p3o.kl, ppo_kl_curve: ppo.kl });
    ctx.info(`P3O reward ${summary.p3o_reward.toFixed(4)} (KL ${summary.p3o_kl.toFixed(2)}) vs PPO ${summary.ppo_reward.toFixed(4)} (KL ${summary.ppo_kl.toFixed(2)}); reference ${summary.ref_reward.toFixed(4)}`);
    return summary;
  },
  claim: {
    statement: 'P3O reaches PPO’s held-out reward at lower KL to the reference (both above the reference, KL within the configured limit); its updates are invariant to a per-prompt reward shift (unit-tested).',
    async fast({ seed }) {
      return p3oClaim(seed, fastP3oConfig());
    },
    async full({ seeds }) {
      const rows = [];
      for (const seed of seeds) rows.push(await p3oClaim(seed, p3oSchema.parse({ iterations: 6, prompts: 128, evalPrompts: 64, maxNewTokens: 8, lr: 1e-3, batch: 32 })));
      return { pass: rows.every((r) => r.pass), measured: Object.fromEntries(rows.flatMap((r, i) => Object.entries(r.measured).map(([k, v]) => [`seed${seeds[i]}/${k}`, v]))), summary: rows.map((r) => r.summary).join('; ') };
    },
  },
});

export function fastP3oConfig(): P3oConfig {
  return p3oSchema.parse({ iterations: 4, prompts: 96, evalPrompts: 32, maxNewTokens: 8, lr: 1e-3, batch: 32 });
}

async function p3oClaim(seed: number, config: P3oConfig) {
  const { runInProcess } = await import('../runs/context');
  const { summary } = await runInProcess(p3oExperiment, { config, seed });
  const s = summary as Record<string, number>;
  const pass = s.p3o_reward > s.ref_reward && s.ppo_reward > s.ref_reward && s.p3o_kl_at_ppo_reward < s.ppo_kl && s.p3o_kl <= config.klLimit && s.ppo_kl <= config.klLimit;
  return {
    pass,
    measured: { ...s, p3o_kl_at_ppo_reward: Number.isFinite(s.p3o_kl_at_ppo_reward) ? s.p3o_kl_at_ppo_reward : 'never', kl_limit: config.klLimit },
    summary: `seed ${seed}: P3O ${s.p3o_reward.toFixed(4)} (KL ${s.p3o_kl.toFixed(2)}; KL ${Number(s.p3o_kl_at_ppo_reward).toFixed(2)} where it first matches PPO) vs PPO ${s.ppo_reward.toFixed(4)} (KL ${s.ppo_kl.toFixed(2)}), reference ${s.ref_reward.toFixed(4)}; ${s.p3o_seconds_per_iteration.toFixed(1)} s/iteration`,
  };
}
