// The Hessian-aided term as the authors' garage code computes it (hessianForm 'authors-code', authorsCodeHessianTerm
// in npg-harpg.ts) against a direct finite-difference evaluation of their batch-mean-loss expression, and the
// paper's form left unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/core/rng';
import { cartpole } from '../../../src/lab/optimizers/envs/cartpole';
import { lqg1d, lqgTask } from '../../../src/lab/optimizers/envs/lqg';
import { discountCumsum, type Trajectory } from '../../../src/lab/optimizers/envs/task';
import {
  authorsCodeHessianTerm,
  harpg,
  HARPG_AUTHORS_CARTPOLE,
  HARPG_AUTHORS_CODE_HESSIAN,
  harpgWinsEverySeed,
  hessianCorrection,
  pgEstimate,
  runPg,
  type PgRunOptions,
} from '../../../src/lab/optimizers/npg-harpg';

const GAMMA = 0.99;

/** log π_θ(a|s) of the logistic cart-pole policy, σ(θᵀφ(s)) with φ = (s, 1), written out independently. */
function logPi(theta: ArrayLike<number>, s: ArrayLike<number>, o: number, a: number): number {
  const z = theta[0] * s[o] + theta[1] * s[o + 1] + theta[2] * s[o + 2] + theta[3] * s[o + 3] + theta[4];
  // log σ(z) and log(1 − σ(z)) = log σ(−z), stable
  const logSig = (x: number) => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));
  return a === 1 ? logSig(z) : logSig(-z);
}

/**
 * The authors' code, literally: new_loss L(θ) = −mean_i A_i log π(a_i|s_i) and log_probs_loss ℓ(θ) = −mean_i log π(a_i|s_i)
 * over all steps of the batch (advantages fixed), then hvp_full = ∇²L v + ∇L·(∇ℓᵀv), all by central differences.
 */
function authorsExpressionByFiniteDifferences(theta: Float64Array, trs: Trajectory[], adv: Float64Array[], v: Float64Array): Float64Array {
  const M = trs.reduce((n, tr) => n + tr.rewards.length, 0);
  const losses = (th: Float64Array) => {
    let L = 0;
    let l = 0;
    trs.forEach((tr, k) => {
      for (let h = 0; h < tr.rewards.length; h++) {
        const lp = logPi(th, tr.states, h * 4, tr.actions[h]);
        L -= adv[k][h] * lp;
        l -= lp;
      }
    });
    return { L: L / M, l: l / M };
  };
  const shift = (th: Float64Array, dir: ArrayLike<number>, e: number) => th.map((x, i) => x + e * dir[i]);
  const unit = (j: number) => Float64Array.from({ length: theta.length }, (_, i) => (i === j ? 1 : 0));
  const e = 1e-4;
  const jac = new Float64Array(theta.length);
  const logProbsGrad = new Float64Array(theta.length);
  const hvp = new Float64Array(theta.length);
  const d = 1e-3;
  for (let j = 0; j < theta.length; j++) {
    const p = losses(shift(theta, unit(j), e));
    const m = losses(shift(theta, unit(j), -e));
    jac[j] = (p.L - m.L) / (2 * e);
    logProbsGrad[j] = (p.l - m.l) / (2 * e);
    // (∇²L v)_j = ∂_j (∇L ᵀ v) by a mixed second difference along e_j and v
    const at = (sj: number, sv: number) => losses(shift(shift(theta, unit(j), sj * d), v, sv * d)).L;
    hvp[j] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * d * d);
  }
  const scalar = logProbsGrad.reduce((s, g, i) => s + g * v[i], 0);
  return hvp.map((h, j) => h + jac[j] * scalar);
}

test('authorsCodeHessianTerm = −(∇²L v + ∇L·(∇ℓᵀv)) of the authors\' batch-mean losses (finite differences, CartPole)', () => {
  const task = cartpole(200, GAMMA);
  const theta = Float64Array.of(0.1, 0.2, 0.4, 0.1, 0.05); // a weak policy: episodes of a few dozen steps
  const v = Float64Array.of(0.2, -0.4, 0.7, 0.3, -0.5);
  const rng = new Rng(17);
  // a garage-style Hessian batch: whole episodes until ≥ 32 steps
  const trs: Trajectory[] = [];
  let steps = 0;
  while (steps < 32) {
    const tr = task.rollout(theta, rng);
    trs.push(tr);
    steps += tr.rewards.length;
  }
  assert.ok(trs.length >= 2, `want a batch of several episodes, got ${trs.length}`);
  // arbitrary fixed baselines (the authors' LinearFeatureBaseline values; any fixed numbers will do here)
  const baselines = trs.map((tr) => Float64Array.from(tr.rewards, (_, h) => 3 + 0.1 * h));
  const adv = trs.map((tr, k) => discountCumsum(GAMMA, tr.rewards).map((x, h) => x - baselines[k][h]));
  const got = authorsCodeHessianTerm(task, theta, trs, v, 'reward-to-go', baselines, steps);
  const lossSign = authorsExpressionByFiniteDifferences(theta, trs, adv, v);
  const scale = Math.max(...lossSign.map(Math.abs));
  for (let j = 0; j < theta.length; j++) assert.ok(Math.abs(got[j] + lossSign[j]) < 1e-5 * (1 + scale), `component ${j}: ${got[j]} vs ${-lossSign[j]}`);
  // the product-of-means term matters at this size: the truncated (1/M)Σ∇²Φ_k v alone misses the check by far
  const truncated = new Float64Array(theta.length);
  trs.forEach((tr, k) => task.addWeightedScoreHvp(theta, tr, adv[k], v, truncated));
  assert.ok(Math.max(...truncated.map((x, i) => Math.abs(x / steps + lossSign[i]))) > 1e-3 * (1 + scale));
  // and it is not the paper's B̂v (product term sign and weight differ)
  const paper = new Float64Array(theta.length);
  trs.forEach((tr, k) => hessianCorrection(task, theta, tr, v, 'reward-to-go', baselines[k]).forEach((x, i) => (paper[i] += x / steps)));
  assert.ok(Math.max(...paper.map((x, i) => Math.abs(x - got[i]))) > 1e-3 * (1 + scale));
});

test('one trajectory, mean over trajectories: authors\' term = ∇²Φv − ∇Φ(∇log pᵀv), the paper\'s B̂v with the product term flipped', () => {
  const task = lqgTask(lqg1d(20, GAMMA));
  const theta = Float64Array.of(-0.4);
  const v = Float64Array.of(1.3);
  const rng = new Rng(4);
  for (let k = 0; k < 5; k++) {
    const tr = task.rollout(theta, rng);
    const paper = hessianCorrection(task, theta, tr, v, 'gpomdp');
    const ours = authorsCodeHessianTerm(task, theta, [tr], v, 'gpomdp', [undefined], 1);
    const hvp = new Float64Array(1);
    const R = Float64Array.from(tr.rewards, (_, h) => tr.rewards.slice(h).reduce((s, r, i) => s + Math.pow(GAMMA, h + i) * r, 0));
    task.addWeightedScoreHvp(theta, tr, R, v, hvp);
    const product = pgEstimate(task, theta, tr, 'gpomdp')[0] * task.weightedScore(theta, tr, new Float64Array(tr.rewards.length).fill(1))[0] * v[0];
    assert.ok(Math.abs(paper[0] - (hvp[0] + product)) < 1e-8 * (1 + Math.abs(paper[0])));
    assert.ok(Math.abs(ours[0] - (hvp[0] - product)) < 1e-8 * (1 + Math.abs(ours[0])), `${ours[0]} vs ${hvp[0] - product}`);
  }
});

const sched = { step0: 1, stepPower: 1, momentumPower: 1, momentumFloor: 0 };
const garageRun: PgRunOptions = { method: 'n-harpg', trajectories: 80, batch: 1, batchSteps: 300, hessianBatchSteps: 32, schedule: sched, estimator: 'reward-to-go', baseline: 'linear-feature', thetaClip: 50, theta0: 0 };
const lqgRun: PgRunOptions = { method: 'n-harpg', trajectories: 60, batch: 2, hessianBatch: 2, schedule: { ...sched, step0: 0.1 }, estimator: 'gpomdp', baseline: 'running-average', thetaClip: 5, theta0: -0.1 };

test('the paper form is unchanged: N-HARPG iterates equal those recorded before hessianForm existed (default and explicit)', () => {
  // final θ of these two runs, recorded with the code of commit f094e0c (before the option was added)
  const cartpoleBefore = [-0.018274287253355562, -0.3717739837799819, 0.3230646145934679, 1.5550057209257786, 0.023955359874001853];
  const lqgBefore = [-0.5244791319791321];
  for (const form of [undefined, 'paper'] as const) {
    assert.deepEqual([...runPg(cartpole(200, GAMMA), { ...garageRun, hessianForm: form }, new Rng(21))], cartpoleBefore);
    assert.deepEqual([...runPg(lqgTask(lqg1d(20, GAMMA)), { ...lqgRun, hessianForm: form }, new Rng(22))], lqgBefore);
  }
});

test('authors-code form: same sampling budget per iteration, different iterates, finite', () => {
  const task = cartpole(200, GAMMA);
  const count = (form: 'paper' | 'authors-code') => {
    let sampled = 0;
    const theta = runPg(task, { ...garageRun, hessianForm: form }, new Rng(21), undefined, () => sampled++);
    return { sampled, theta };
  };
  const a = count('paper');
  const b = count('authors-code');
  assert.equal(a.sampled, 80);
  assert.equal(b.sampled, 80);
  assert.ok(b.theta.every(Number.isFinite));
  assert.ok(Math.max(...a.theta.map((x, i) => Math.abs(x - b.theta[i]))) > 1e-6);
  // trajectory-counted batches on LQG: 1 + 1 trajectory per iteration after the first, as for the paper form
  const used: number[] = [];
  runPg(lqgTask(lqg1d(20, GAMMA)), { ...lqgRun, batch: 1, hessianBatch: 1, trajectories: 11, hessianForm: 'authors-code' }, new Rng(2), (u) => used.push(u));
  assert.deepEqual(used, [1, 3, 5, 7, 9, 11]);
});

test('config: hessianForm defaults to paper, accepts authors-code, rejects anything else', () => {
  assert.equal(harpg.schema.parse({}).hessianForm, 'paper');
  assert.equal(harpg.schema.parse({ hessianForm: 'authors-code' }).hessianForm, 'authors-code');
  assert.throws(() => harpg.schema.parse({ hessianForm: 'truncated' }));
});

test('pre-registered authors-code protocol: HARPG_AUTHORS_CARTPOLE except the Hessian form and fresh seeds; pass rule', () => {
  const { hessianForm, seeds, ...rest } = HARPG_AUTHORS_CODE_HESSIAN;
  const { seeds: oldSeeds, ...old } = HARPG_AUTHORS_CARTPOLE;
  assert.deepEqual(rest, old);
  assert.equal(hessianForm, 'authors-code');
  assert.deepEqual([...seeds], [13, 14, 15]);
  assert.ok(seeds.every((s) => !(oldSeeds as readonly number[]).includes(s)));
  const win = { 'n-harpg': 10, vanilla: 20 };
  const loss = { 'n-harpg': 20, vanilla: 10 };
  assert.equal(harpgWinsEverySeed(HARPG_AUTHORS_CODE_HESSIAN, { 13: win, 14: win, 15: win }), true);
  assert.equal(harpgWinsEverySeed(HARPG_AUTHORS_CODE_HESSIAN, { 13: win, 14: win, 15: loss }), false);
  assert.equal(harpgWinsEverySeed(HARPG_AUTHORS_CODE_HESSIAN, { 13: win, 14: win }), false);
});
