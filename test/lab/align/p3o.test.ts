// P3O (src/lab/align/p3o.ts): the pair loss against its token weights, whole P3O updates invariant to
// a per-prompt reward offset (PPO's with a value model are not), the reward–KL frontier helpers, and
// the experiment end to end on a tiny model: TRL metric names for both arms, the critic in PPO's
// checkpoints, resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng';
import { armsOf, frontierGap, fullP3oConfig, klAtReward, p3oExperiment, p3oPairWeights, p3oSchema, p3oUpdate, preciseEvalP3oConfig, preciseEvalVerdict, rewardAtKl } from '../../../src/lab/align/p3o';
import { ppoUpdate, ValueCritic } from '../../../src/lab/align/ppo';
import { runInProcess } from '../../../src/lab/runs/context';
import { randomRolloutPair } from './pair-fixture';
import { makeShiftFixture } from './shift-fixture';
import { makeTinyModel } from './tiny-model';

test('P3O pair loss: −∂loss/∂ℓ_t equals the token weight (finite differences, q and c held fixed)', () => {
  const rng = new Rng(9);
  for (let k = 0; k < 20; k++) {
    const p = randomRolloutPair(rng, 0.3);
    // kl_coef 0 keeps q free of θ and C = 1 pins c = 1, so the loss depends on θ only through Δ
    const w = p3oPairWeights(p, 0, 0.2, 1);
    for (const [i, t] of [[0, 1], [1, 2]]) {
      const e = 1e-6;
      const at = (d: number) => {
        const lq: [number[], number[]] = [p.lp[0].slice(), p.lp[1].slice()];
        lq[i][t] += d;
        return p3oPairWeights({ ...p, lp: lq }, 0, 0.2, 1).loss;
      };
      const fd = (at(e) - at(-e)) / (2 * e);
      assert.ok(Math.abs(-fd - w.w[i][t]) < 1e-6, `pair ${k} seq ${i}: −dL/dℓ ${-fd} vs weight ${w.w[i][t]}`);
    }
  }
});

test('frontier helpers: KL to reach a reward (interpolated first crossing), reward at a KL, mean gap over the overlap', () => {
  assert.ok(Math.abs(klAtReward([0, 0.1, 0.3], [0, 2, 4], 0.2) - 3) < 1e-12);
  assert.equal(klAtReward([0, 0.1, 0.3], [0, 2, 4], 0.5), Infinity);
  assert.equal(klAtReward([0.2, 0.1], [0, 2], 0.1), 0);
  assert.ok(Math.abs(rewardAtKl([0, 0.2, 0.1], [0, 2, 1], 1.5) - 0.15) < 1e-12); // sorted by KL: (0,0) (1,0.1) (2,0.2)
  assert.ok(Number.isNaN(rewardAtKl([0, 0.2], [0, 2], 3)));
  // a above b by 0.1 everywhere on [0, 2]; b extends to KL 4 (outside the overlap)
  const g = frontierGap({ reward: [0, 0.2, 0.3], kl: [0, 1, 2] }, { reward: [-0.1, 0.1, 0.2, 0.5], kl: [0, 1, 2, 4] });
  assert.equal(g.overlap, 2);
  assert.equal(g.points, 4);
  assert.ok(Math.abs(g.gap - 0.1) < 1e-12);
  assert.ok(frontierGap({ reward: [0, 0.1], kl: [0, 1] }, { reward: [0, 0.3], kl: [0, 1] }).gap < 0);
});

test('whole updates: P3O lands on the same θ with and without a per-prompt reward offset; PPO does not', async () => {
  const { model, trainer, rolls, shift, start, after } = await makeShiftFixture();
  const o = { epochs: 2, pairs: 2, lr: 1e-2, klCoef: 0.05, clip: 0.2, ratioClip: 10, dropTies: false };
  const a = await after(() => p3oUpdate(trainer, rolls([0, 0, 0, 0]), o, new Rng(1), () => {}));
  const b = await after(() => p3oUpdate(trainer, rolls(shift), o, new Rng(1), () => {}));
  const moved = a.reduce((m, x, i) => Math.max(m, Math.abs(x - start[i])), 0);
  const diff = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
  assert.ok(moved > 1e-3, `P3O moved θ (${moved})`);
  assert.ok(diff < 1e-6 * moved, `P3O θ with and without δ(x) differ by ${diff} (moved ${moved})`);
  const ppo = async (delta: number[]) => {
    const critic = await ValueCritic.create({ model, batch: 8, ctx: 14, padId: 299, valueClip: 0.2, vfCoef: 0.1, maxGradNorm: 1 });
    return after(() => ppoUpdate(trainer, critic, rolls(delta), { epochs: 2, batch: 4, lr: 1e-2, clip: 0.2, klCoef: 0.05, gaeLambda: 0.95, vfCoef: 0.1 }, new Rng(1), () => {}));
  };
  const pa = await ppo([0, 0, 0, 0]);
  const pb = await ppo(shift);
  const pdiff = pa.reduce((m, x, i) => Math.max(m, Math.abs(x - pb[i])), 0);
  assert.ok(pdiff > 0.1 * moved, `PPO θ depends on δ(x) (differs by ${pdiff}, P3O moved ${moved})`);
});

test('p3o experiment: TRL metric names for both arms, critic in PPO checkpoints, resume restores it; arms by config', async () => {
  const model = makeTinyModel();
  const small = { model, prompts: 6, evalPrompts: 4, maxPromptTokens: 8, maxNewTokens: 4, batch: 8, dropTies: false, unshiftedArms: 'none' as const };
  const rows = (d: string) => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const a = await runInProcess(p3oExperiment, { config: { ...small, iterations: 1 }, seed: 4 });
  const keys = new Set(rows(a.dir).flatMap((r) => Object.keys(r)));
  for (const m of [
    'ppo/loss/policy_avg',
    'ppo/loss/value_avg',
    'ppo/policy/clipfrac_avg',
    'ppo/policy/approxkl_avg',
    'ppo/val/clipfrac_avg',
    'ppo/val/ratio',
    'ppo/objective/kl',
    'ppo/objective/scores',
    'ppo/objective/non_score_reward',
    'ppo/objective/rlhf_reward',
    'p3o/loss/policy_avg',
    'p3o/policy/clipfrac_avg',
    'p3o/reward_diff_mean',
    'p3o/q_diff_std',
    'p3o/ratio_max',
    'p3o/logratio_gap_mean',
    'p3o/eval/reward',
    'ppo/eval/reward',
  ])
    assert.ok(keys.has(m), `metric ${m}`);
  const s = a.summary as Record<string, number>;
  for (const k of ['frontier_gap', 'p3o_kl_at_ppo_reward', 'ppo_kl_at_ppo_reward', 'p3o_seconds_per_update', 'ppo_seconds_per_update']) assert.ok(k in s, `summary ${k}`);
  const ck = join(a.dir, 'artifacts', 'checkpoints', 'ppo', 'iteration-1');
  assert.ok(existsSync(join(ck, 'critic.safetensors')) && existsSync(join(ck, 'onnx', 'model.onnx')));
  const b = await runInProcess(p3oExperiment, { config: { ...small, iterations: 2, resumeFrom: a.dir }, seed: 4 });
  const evals = rows(b.dir).filter((r) => 'ppo/iteration' in r);
  assert.deepEqual(
    evals.map((r) => r['ppo/iteration']),
    [2],
    'PPO resumed after iteration 1',
  );
  rmSync(join(ck, 'critic.safetensors'));
  await assert.rejects(runInProcess(p3oExperiment, { config: { ...small, iterations: 2, resumeFrom: a.dir }, seed: 4 }), /critic\.safetensors not found/);
  assert.deepEqual(armsOf(p3oSchema.parse({})), ['p3o', 'ppo', 'ppo_unshifted']);
  assert.deepEqual(armsOf(p3oSchema.parse({ unshiftedArms: 'both' })), ['p3o', 'ppo', 'p3o_unshifted', 'ppo_unshifted']);
  assert.deepEqual(armsOf(p3oSchema.parse({ rewardShift: 0, unshiftedArms: 'both' })), ['p3o', 'ppo']);
});

test('p3o evalSamples changes only the measurement: training metrics are identical, the evaluation uses more samples', async () => {
  const model = makeTinyModel();
  const small = { model, prompts: 6, evalPrompts: 3, maxPromptTokens: 8, maxNewTokens: 4, batch: 8, dropTies: false, unshiftedArms: 'none' as const, iterations: 2 };
  const rows = (d: string) => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  const training = (d: string) => rows(d).map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => /\/(loss|policy|val|ratio|reward_diff|q_diff|logratio_gap)/.test(k))));
  const a = await runInProcess(p3oExperiment, { config: { ...small, evalSamples: 1 }, seed: 3 });
  const b = await runInProcess(p3oExperiment, { config: { ...small, evalSamples: 3 }, seed: 3 });
  const ta = training(a.dir).filter((r) => Object.keys(r).length);
  assert.ok(ta.length >= 4, `training rows logged (${ta.length})`);
  assert.deepEqual(training(b.dir).filter((r) => Object.keys(r).length), ta);
  const samples = (d: string) => readFileSync(join(d, 'artifacts', 'summary.json'), 'utf8');
  assert.notEqual(samples(a.dir), samples(b.dir), 'the evaluation differs');
  assert.throws(() => p3oSchema.parse({ evalSamples: 0 }), /evalSamples/);
  assert.equal(p3oSchema.parse({}).evalSamples, 2);
  assert.deepEqual(preciseEvalP3oConfig(), fullP3oConfig(), 'the full form adopted the pre-registered evaluation');
  assert.equal(fullP3oConfig().evalSamples, 8);
});

test('p3o pre-registered precise-evaluation rule: all six seeds (0–2 and fresh 9–11) must pass', () => {
  const all = [0, 1, 2, 9, 10, 11].map((seed) => ({ seed, pass: true }));
  assert.equal(preciseEvalVerdict(all).pass, true);
  assert.equal(preciseEvalVerdict(all.map((r) => (r.seed === 10 ? { ...r, pass: false } : r))).pass, false);
  const v = preciseEvalVerdict(all.filter((r) => r.seed !== 1));
  assert.equal(v.pass, false);
  assert.deepEqual(v.missing, [1]);
  assert.equal(preciseEvalVerdict([...all, { seed: 5, pass: false }]).passed, 6);
});
