// Nash-MP (Tiapkin et al., "Accelerating Nash Learning from Human Feedback via Mirror Prox", arXiv 2505.19731),
// spec: alignment.md §2.4–2.5. Tabular form: mirror prox (extragradient in KL geometry) on the
// β-regularized preference game, both half steps anchored at π_k. Baseline: Nash-MD (§2.2) with the
// same number of preference queries (Nash-MP spends 2 per iteration, Nash-MD 1).
import { join } from 'node:path';
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../../core/experiment';
import type { CausalLm } from '../lm/causal-lm';
import type { Weights } from '../lm/llama/config';
import { broadcast, evaluateNashLm, isIntransitive, nashLmFields, type NashLmConfig, type NashLmSetup, nashResumePoint, preferenceOf, setupNashLm, stepsPerPromptBatch } from './nash-lm';
import { copyWeights, mean, removeScratch, sampleCompletions, samplerFor, sum, writeCheckpoint } from './policy';
import { Rng } from '../../core/rng';
import { exploitability, kl, linearFit, makeIntransitiveGame, preferenceAgainst, softmaxFromLogits, solveRegularizedNash, type PreferenceGame } from '../tasks/intransitive';
import { nashMdStep, nashMdStepSize, trainNashMdLm } from './nash-md';

/** argmax_π { η[P(π ≻ opponent) − β KL(π‖π_ref)] − KL(π‖anchor) } in closed form (first-order condition). */
export function proxStep(g: PreferenceGame, anchor: Float64Array, opponent: Float64Array, eta: number, beta: number): Float64Array {
  const pref = preferenceAgainst(g, opponent);
  const logits = new Float64Array(g.size);
  for (let y = 0; y < g.size; y++) logits[y] = (Math.log(anchor[y]) + eta * beta * Math.log(g.ref[y]) + eta * pref[y]) / (1 + eta * beta);
  return softmaxFromLogits(logits);
}

/** One Nash-MP iteration: π_{k+½} = prox(π_k; P(·≻π_k)), π_{k+1} = prox(π_k; P(·≻π_{k+½})). Two queries. */
export function nashMpStep(g: PreferenceGame, pi: Float64Array, eta: number, beta: number): Float64Array {
  const half = proxStep(g, pi, pi, eta, beta);
  return proxStep(g, pi, half, eta, beta);
}

export const nashMpSchema = z
  .object({
    task: z.enum(['tabular', 'lm']).default('tabular').describe('tabular: exact updates on the intransitive preference game; lm: PG-Nash-MP vs TRL-style Nash-MD on the bundled LM with a cyclic preference over first-word categories'),
    size: z.number().int().min(3).max(200).default(5).describe('Number of responses K of the preference game'),
    beta: z.number().positive().max(10).default(0.1).describe('Regularization β toward π_ref'),
    eta: z.number().positive().max(2).default(2).describe('Mirror-prox step η (≤ 2: the preference operator is ½-Lipschitz from ℓ1 to ℓ∞) [ours, spec §2.4]'),
    queries: z.number().int().min(20).max(1_000_000).default(200).describe('Budget N of preference-vector queries for each method'),
    klFloor: z.number().positive().default(1e-13).describe('KL values below this are at float precision and left out of the rate fit'),
    ...nashLmFields,
  })
  .strict();
export type NashMpConfig = z.infer<typeof nashMpSchema>;

/** Nash-MP vs Nash-MD on one seeded game with the same query budget; log KL(π*‖π) per query count. */
export function compareNashMpMd(c: NashMpConfig, rng: Rng, onLog?: (n: number, m: Record<string, number>) => void) {
  const g = makeIntransitiveGame(rng, c.size);
  const star = solveRegularizedNash(g, c.beta);
  let mp: Float64Array = Float64Array.from(g.ref);
  let md: Float64Array = Float64Array.from(g.ref);
  const fitX: number[] = [];
  const fitY: number[] = [];
  for (let n = 1; n <= c.queries; n++) {
    md = nashMdStep(g, md, nashMdStepSize(n - 1, c.beta), c.beta);
    if (n % 2 === 0) mp = nashMpStep(g, mp, c.eta, c.beta);
    const klMp = kl(star.pi, mp);
    const klMd = kl(star.pi, md);
    if (n % 2 === 0 && klMp > c.klFloor) {
      fitX.push(n);
      fitY.push(Math.log(klMp));
    }
    onLog?.(n, {
      'nash_mp/log_kl': Math.log(Math.max(klMp, 1e-300)),
      'nash_md/log_kl': Math.log(Math.max(klMd, 1e-300)),
      'nash_mp/exploitability': exploitability(g, mp, c.beta),
      'nash_md/exploitability': exploitability(g, md, c.beta),
      queries: n,
    });
  }
  const fit = fitX.length >= 3 ? linearFit(fitX, fitY) : { slope: NaN, intercept: NaN, r2: NaN };
  return {
    game: g,
    equilibrium: star,
    finalKlMp: kl(star.pi, mp),
    finalKlMd: kl(star.pi, md),
    fittedRate: -fit.slope,
    fitR2: fit.r2,
    fitPoints: fitX.length,
    theoryRate: 0.5 * Math.log(1 + c.eta * c.beta), // (1+ηβ)^{−N/2}: the abstract's (1+2β)^{−N/2} at η = 2
  };
}


// ---------------------------------------------------------------- LM form: PG-Nash-MP (spec §2.4, approximate version)

/**
 * One proximal subproblem, solved approximately by M REINFORCE steps from θ_k (spec §2.4):
 *   J(θ) = E_{y∼π_θ, y′∼π_opp} P(y ≻ y′) − β KL(π_θ‖π_ref) − (1/η) KL(π_θ‖π_{θ_k}),
 *   weight of every token of y: P(y≻y′) − ½ − β log(π_θ(y)/π_ref(y)) − (1/η) log(π_θ(y)/π_{θ_k}(y)).
 * The half step plays against π_{θ_k}, the full step against π_{θ_{k+½}}; both start from and are anchored at θ_k.
 */
async function proxPhase(ctx: RunContext<unknown>, s: NashLmSetup, c: NashLmConfig, anchor: Weights, initial: Weights, opponent: CausalLm, k: number, phase: 'half' | 'full', step: { value: number }): Promise<Weights> {
  s.trainer.setWeights(anchor);
  for (let m = 0; m < c.innerSteps; m++) {
    ctx.throwIfCancelled();
    const prompts = s.trainPrompts(k * 2 * c.innerSteps + (phase === 'half' ? 0 : c.innerSteps) + m);
    const lm = await samplerFor(join(ctx.artifactsDir, 'tmp', 'nash_mp-sampler'), s.model, s.trainer.weights(), ctx.threads);
    const seed = ctx.seed * 173 + 1000 * k + (phase === 'half' ? 0 : 500) + m;
    const ys = await sampleCompletions(lm, prompts, { maxNewTokens: c.maxNewTokens, temperature: c.temperature, seed });
    await lm.dispose();
    const opp = await sampleCompletions(opponent, prompts, { maxNewTokens: c.maxNewTokens, temperature: c.temperature, seed: seed + 50_000 });
    const pref = ys.map((y, i) => preferenceOf(s.P, y, opp[i]));
    for (let b = 0; b < ys.length; b += s.trainer.batch) {
      const seqs = ys.slice(b, b + s.trainer.batch);
      const lp = (await s.trainer.logProbs(seqs)).map(sum);
      const ref = (await s.trainer.logProbs(seqs, initial)).map(sum);
      const anc = (await s.trainer.logProbs(seqs, anchor)).map(sum);
      const adv = seqs.map((_, i) => pref[b + i] - 0.5 - c.lmBeta * (lp[i] - ref[i]) - (1 / c.lmEta) * (lp[i] - anc[i]));
      const r = await s.trainer.step(seqs, broadcast(adv, seqs.map((q) => q.completion.length)), seqs.length, c.lr);
      step.value++;
      ctx.log(step.value, {
        'nash_mp/loss': r.loss,
        'nash_mp/rewards/probabilities': mean(pref.slice(b, b + seqs.length)),
        'nash_mp/objective/kl': mean(seqs.map((_, i) => lp[i] - ref[i])),
        'nash_mp/objective/anchor_kl': mean(seqs.map((_, i) => lp[i] - anc[i])),
        'nash_mp/outer_iteration': k + 1,
      });
    }
    if (m === 0) ctx.sample({ arm: 'nash_mp', iteration: k + 1, phase, prompt: s.refLm.tokenizer.decode(prompts[0], true), chosen: ys[0].text, rejected: opp[0].text, preference: pref[0], logp_chosen: sum(ys[0].logprobs), logp_rejected: sum(opp[0].logprobs) });
  }
  return s.trainer.weights();
}

/**
 * K outer iterations of PG-Nash-MP: θ_{k+½} = prox(θ_k; π_{θ_k}), θ_{k+1} = prox(θ_k; π_{θ_{k+½}}).
 * θ_k is checkpointed (HF layout) at artifacts/checkpoints/nash_mp/iteration-k before iteration k starts; with
 * resumeFrom the run continues from the newest such checkpoint of the earlier run (AdamW restarts each
 * proximal phase anyway, so nothing else is carried). Returns θ_K and the number of iterations run here.
 */
export async function trainNashMpLm(ctx: RunContext<unknown>, s: NashLmSetup, c: NashLmConfig, step: { value: number }): Promise<{ weights: Weights; iterationsRun: number }> {
  const initial = copyWeights(s.model.weights);
  let theta = copyWeights(initial);
  let first = 0;
  const resumed = c.resumeFrom ? nashResumePoint(c.resumeFrom, 'nash_mp', 'iteration') : null;
  if (resumed) {
    if (resumed.index > c.outerIterations) throw new Error(`resumeFrom: ${resumed.dir} is after iteration ${resumed.index}, beyond outerIterations = ${c.outerIterations}`);
    theta = resumed.weights;
    first = resumed.index;
    step.value = first * 2 * c.innerSteps * stepsPerPromptBatch(c, s.trainer.batch);
    ctx.info(`nash_mp: resumed from ${resumed.dir} (θ after ${first} outer iterations)`);
  }
  for (let k = first; k < c.outerIterations; k++) {
    const anchorLm = await samplerFor(join(ctx.artifactsDir, 'checkpoints', 'nash_mp', `iteration-${k}`), s.model, theta, ctx.threads, { iteration: k, method: 'nash_mp' });
    const half = await proxPhase(ctx, s, c, theta, initial, anchorLm, k, 'half', step);
    await anchorLm.dispose();
    const halfLm = await samplerFor(join(ctx.artifactsDir, 'tmp', 'nash_mp-half'), s.model, half, ctx.threads);
    theta = await proxPhase(ctx, s, c, theta, initial, halfLm, k, 'full', step);
    await halfLm.dispose();
    ctx.progress(k + 1, c.outerIterations);
  }
  writeCheckpoint(join(ctx.artifactsDir, 'checkpoints', 'nash_mp', `iteration-${c.outerIterations}`), s.model, theta, { iteration: c.outerIterations, method: 'nash_mp' });
  return { weights: theta, iterationsRun: c.outerIterations - first };
}

/** PG-Nash-MP and TRL-style Nash-MD with the same number of optimizer steps and preference queries. */
export async function compareNashLm(ctx: RunContext<NashLmConfig>) {
  const c = ctx.config;
  const s = await setupNashLm(ctx, c);
  const step = { value: 0 };
  let t0 = Date.now();
  const mpRun = await trainNashMpLm(ctx, s, c, step);
  const mp = mpRun.weights;
  const mpSeconds = (Date.now() - t0) / 1000;
  const evMp = await evaluateNashLm(ctx, s, c, mp, 'nash_mp');
  t0 = Date.now();
  const mdSteps = c.outerIterations * 2 * c.innerSteps;
  const mdRun = await trainNashMdLm(ctx, s, c, mdSteps, 'nash_md/', step);
  const md = mdRun.weights;
  const mdSeconds = (Date.now() - t0) / 1000;
  const evMd = await evaluateNashLm(ctx, s, c, md, 'nash_md');
  await s.refLm.dispose();
  removeScratch(ctx.artifactsDir);
  ctx.log(step.value, { 'nash_mp/eval/win_rate': evMp.winRate, 'nash_mp/objective/kl': evMp.kl, 'nash_md/eval/win_rate': evMd.winRate, 'nash_md/objective/kl': evMd.kl });
  const summary = {
    nash_mp_win_rate: evMp.winRate,
    nash_md_win_rate: evMd.winRate,
    nash_mp_win_rate_se: evMp.winRateSe,
    nash_md_win_rate_se: evMd.winRateSe,
    nash_mp_kl: evMp.kl,
    nash_md_kl: evMd.kl,
    intransitive: isIntransitive(s.P),
    nash_mp_categories: evMp.categories.join(' '),
    nash_md_categories: evMd.categories.join(' '),
    ref_categories: s.refCategories.join(' '),
    nash_mp_seconds_per_outer_iteration: mpRun.iterationsRun ? mpSeconds / mpRun.iterationsRun : NaN,
    nash_md_seconds_per_step: mdRun.stepsRun ? mdSeconds / mdRun.stepsRun : NaN,
    nash_mp_iterations_run: mpRun.iterationsRun,
    nash_md_steps_run: mdRun.stepsRun,
  };
  ctx.artifact('summary.json', summary);
  ctx.info(`LM game: win-rate vs reference PG-Nash-MP ${evMp.winRate.toFixed(3)} (KL ${evMp.kl.toFixed(2)}), Nash-MD ${evMd.winRate.toFixed(3)} (KL ${evMd.kl.toFixed(2)})`);
  return summary;
}

export function fastNashLmConfig(): NashMpConfig {
  return nashMpSchema.parse({ task: 'lm', prompts: 16, evalPrompts: 32, outerIterations: 2, innerSteps: 3, lr: 3e-3 });
}

async function nashLmClaim(seed: number, config: NashMpConfig) {
  const { runInProcess } = await import('../runs/context');
  const { summary } = await runInProcess(nashMpExperiment, { config, seed, task: 'lm' });
  const s = summary as Awaited<ReturnType<typeof compareNashLm>>;
  return {
    pass: s.intransitive && s.nash_mp_win_rate > 0.5 && s.nash_mp_kl <= config.klLimit,
    measured: { lm_nash_mp_win_rate: s.nash_mp_win_rate, lm_nash_mp_win_rate_se: s.nash_mp_win_rate_se, lm_nash_md_win_rate: s.nash_md_win_rate, lm_nash_md_win_rate_se: s.nash_md_win_rate_se, lm_nash_mp_kl: s.nash_mp_kl, lm_nash_md_kl: s.nash_md_kl, lm_kl_limit: config.klLimit, lm_seconds_per_outer_iteration: s.nash_mp_seconds_per_outer_iteration },
    summary: `LM (seed ${seed}): PG-Nash-MP win-rate vs reference ${s.nash_mp_win_rate.toFixed(3)} ± ${s.nash_mp_win_rate_se.toFixed(3)} SE (KL ${s.nash_mp_kl.toFixed(2)} ≤ ${config.klLimit}), TRL Nash-MD ${s.nash_md_win_rate.toFixed(3)} ± ${s.nash_md_win_rate_se.toFixed(3)} (KL ${s.nash_md_kl.toFixed(2)})`,
  };
}

export const nashMpExperiment = defineExperiment({
  id: 'nash-mp',
  title: 'Nash-MP (mirror prox) vs Nash-MD on an intransitive preference game',
  paper: 'Accelerating Nash Learning from Human Feedback via Mirror Prox (Nash-MP)',
  kind: 'alignment',
  tasks: ['tabular', 'lm'],
  schema: nashMpSchema,
  keyMetric: 'nash_mp/log_kl',
  lowerIsBetter: true,
  async run(ctx) {
    const c = ctx.config;
    if (c.task === 'lm') return compareNashLm(ctx);
    const r = compareNashMpMd(c, ctx.rng, (n, m) => {
      if (n % 2 === 0 || n === c.queries) {
        ctx.throwIfCancelled();
        ctx.log(n, m);
        ctx.progress(n, c.queries, { metric: 'nash_mp/log_kl', value: m['nash_mp/log_kl'] });
      }
    });
    const summary = {
      nash_mp_kl: r.finalKlMp,
      nash_md_kl: r.finalKlMd,
      fitted_rate_per_query: r.fittedRate,
      theory_rate_per_query: r.theoryRate,
      fit_r2: r.fitR2,
      equilibrium_residual: r.equilibrium.residual,
    };
    ctx.artifact('summary.json', { ...summary, equilibrium: Array.from(r.equilibrium.pi), ref: Array.from(r.game.ref), P: Array.from(r.game.P) });
    ctx.info(`log KL(π*‖π) falls linearly for Nash-MP: rate ${r.fittedRate.toFixed(4)}/query (theory ${r.theoryRate.toFixed(4)}), R² ${r.fitR2.toFixed(4)}; final KL Nash-MP ${r.finalKlMp.toExponential(2)} vs Nash-MD ${r.finalKlMd.toExponential(2)}`);
    return summary;
  },
  claim: {
    statement: 'On an intransitive preference game, Nash-MP’s log KL(π*_β‖π) decreases linearly in the number of preference queries (rate ≈ ½log(1+2β)), faster than Nash-MD; on the LM, PG-Nash-MP’s win-rate against the reference rises above ½ under a cyclic preference while KL(π‖π_ref) stays within the configured limit.',
    async fast({ seed }) {
      const c = nashMpSchema.parse({});
      const r = compareNashMpMd(c, new Rng(seed));
      const cyclic = r.game.P[0 * 5 + 1] > 0.5 && r.game.P[1 * 5 + 2] > 0.5 && r.game.P[2 * 5 + 0] > 0.5;
      const lm = await nashLmClaim(seed, fastNashLmConfig());
      return {
        pass: lm.pass && cyclic && r.equilibrium.residual < 1e-12 && r.fitR2 > 0.99 && r.fittedRate > 0.5 * r.theoryRate && r.finalKlMp < 1e-3 * r.finalKlMd,
        measured: { fitted_rate: r.fittedRate, theory_rate: r.theoryRate, fit_r2: r.fitR2, nash_mp_kl: r.finalKlMp, nash_md_kl: r.finalKlMd, ...lm.measured },
        summary: `K=5, β=${c.beta}, N=${c.queries} queries: Nash-MP log-KL slope −${r.fittedRate.toFixed(4)}/query (theory −${r.theoryRate.toFixed(4)}, R² ${r.fitR2.toFixed(4)}), final KL ${r.finalKlMp.toExponential(2)} vs Nash-MD ${r.finalKlMd.toExponential(2)}; ${lm.summary}`,
      };
    },
    async full({ seeds }) {
      const rows: string[] = [];
      let ok = 0;
      for (const beta of [0.05, 0.2]) {
        for (const seed of seeds) {
          const c = nashMpSchema.parse({ beta, queries: beta < 0.1 ? 400 : 200 });
          const r = compareNashMpMd(c, new Rng(seed));
          const pass = r.fitR2 > 0.99 && r.finalKlMp < r.finalKlMd;
          if (pass) ok++;
          rows.push(`β=${beta}/seed ${seed}: rate ${r.fittedRate.toFixed(4)} (theory ${r.theoryRate.toFixed(4)}), R² ${r.fitR2.toFixed(4)}`);
        }
      }
      let lmOk = 0;
      for (const seed of seeds) {
        const lm = await nashLmClaim(seed, nashMpSchema.parse({ task: 'lm', prompts: 32, evalPrompts: 64, outerIterations: 3, innerSteps: 3, lr: 3e-3 }));
        if (lm.pass) lmOk++;
        rows.push(lm.summary);
      }
      return { pass: ok === 2 * seeds.length && lmOk === seeds.length, measured: { runs: 2 * seeds.length, passed: ok, lm_runs: seeds.length, lm_passed: lmOk }, summary: rows.join('; ') };
    },
  },
});
