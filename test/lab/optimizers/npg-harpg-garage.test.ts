// garage-style batches of the authors' experiments (batch_size / hessian_batch_size in environment steps) and the
// restarted reward-to-go estimator (garage discount_cumsum), as added to npg-harpg.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/core/rng';
import { cartpole } from '../../../src/lab/optimizers/envs/cartpole';
import { lqg1d, lqgTask } from '../../../src/lab/optimizers/envs/lqg';
import { discountCumsum } from '../../../src/lab/optimizers/envs/task';
import { harpg, HARPG_AUTHORS_CARTPOLE, harpgWinsEverySeed, pgEstimate, runPg, type PgRunOptions } from '../../../src/lab/optimizers/npg-harpg';

const sched = (step0: number) => ({ step0, stepPower: 1, momentumPower: 1, momentumFloor: 0 });

test('discountCumsum restarts the discount at each step', () => {
  const r = Float64Array.of(1, 2, 3);
  const g = 0.9;
  const R = discountCumsum(g, r);
  assert.deepEqual([...R].map((x) => +x.toFixed(12)), [1 + g * 2 + g * g * 3, 2 + g * 3, 3].map((x) => +x.toFixed(12)));
});

test("'reward-to-go' estimator weighs the scores with the restarted reward-to-go", () => {
  const task = cartpole(200, 0.99);
  const theta = Float64Array.of(0.1, 0.2, 1, 0.5, 0);
  const tr = task.rollout(theta, new Rng(5));
  assert.ok(tr.rewards.length > 3);
  const want = task.weightedScore(theta, tr, discountCumsum(0.99, tr.rewards));
  const got = pgEstimate(task, theta, tr, 'reward-to-go');
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-9 * (1 + Math.abs(want[i])));
  // and differs from GPOMDP (discounted from time 0) on a long enough episode
  const gp = pgEstimate(task, theta, tr, 'gpomdp');
  assert.ok(Math.abs(gp[4] - got[4]) > 1e-6);
});

test('batchSteps on a fixed-horizon task = batch of steps/H trajectories with the step-averaged gradient', () => {
  const env = lqg1d(20, 0.99);
  const task = lqgTask(env);
  const base: PgRunOptions = { method: 'vanilla', trajectories: 30, batch: 3, schedule: { step0: 0.002, stepPower: 0, momentumPower: 0, momentumFloor: 0 }, estimator: 'gpomdp', baseline: 'none', thetaClip: 5, theta0: -0.1 };
  const a = runPg(task, base, new Rng(7));
  // 60 steps = 3 whole trajectories of 20 steps; the mean over steps is the trajectory mean / 20, so γ₀ × 20 gives the same iterates
  const b = runPg(task, { ...base, batch: 1, batchSteps: 60, schedule: { ...base.schedule, step0: 0.04 } }, new Rng(7));
  assert.ok(Math.abs(a[0] - b[0]) < 1e-9, `${a[0]} vs ${b[0]}`);
});

test('batchSteps collects whole CartPole episodes until the step count is reached; the budget is kept', () => {
  const task = cartpole(200, 0.99);
  const lengths: number[] = [];
  const used: number[] = [];
  runPg(task, { method: 'vanilla', trajectories: 60, batch: 1, batchSteps: 150, schedule: sched(0.1), estimator: 'reward-to-go', baseline: 'linear-feature', thetaClip: 50, theta0: 0 }, new Rng(3), (u) => used.push(u), (tr) => lengths.push(tr.rewards.length));
  assert.equal(lengths.length, 60);
  assert.equal(used[used.length - 1], 60);
  let prev = 0;
  for (const u of used.slice(0, -1)) {
    const steps = lengths.slice(prev, u).reduce((s, x) => s + x, 0);
    const withoutLast = steps - lengths[u - 1];
    assert.ok(steps >= 150 && withoutLast < 150, `batch ${prev}..${u}: ${steps} steps (${withoutLast} before its last episode)`);
    prev = u;
  }
});

test('hessianBatchSteps sets the trajectories of N-HARPG\'s Hessian-aided correction', () => {
  const task = lqgTask(lqg1d(20, 0.99));
  const used: number[] = [];
  runPg(task, { method: 'n-harpg', trajectories: 31, batch: 1, hessianBatchSteps: 40, schedule: sched(0.1), estimator: 'gpomdp', baseline: 'none', thetaClip: 5, theta0: -0.1 }, new Rng(2), (u) => used.push(u));
  // first iteration: the gradient only; then 1 gradient + 2 Hessian trajectories (40 steps) per iteration
  assert.deepEqual(used, [1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31]);
});

test('config: batchSteps / hessianBatchSteps / reward-to-go are accepted with defaults off; bad values are rejected', () => {
  const c = harpg.schema.parse({});
  assert.equal(c.batchSteps, 0);
  assert.equal(c.hessianBatchSteps, 0);
  assert.equal(harpg.schema.parse({ estimator: 'reward-to-go', batchSteps: 1000, hessianBatchSteps: 32 }).batchSteps, 1000);
  assert.throws(() => harpg.schema.parse({ batchSteps: -1 }));
  assert.throws(() => harpg.schema.parse({ hessianBatchSteps: 1.5 }));
  assert.throws(() => harpg.schema.parse({ estimator: 'gae' }));
});

test('authors\' CartPole protocol: fresh seeds, and the pass rule needs N-HARPG below vanilla on every seed', () => {
  assert.deepEqual([...HARPG_AUTHORS_CARTPOLE.seeds], [10, 11, 12]);
  const win = { 'n-harpg': 10, vanilla: 20 };
  const loss = { 'n-harpg': 20, vanilla: 10 };
  assert.equal(harpgWinsEverySeed(HARPG_AUTHORS_CARTPOLE, { 10: win, 11: win, 12: win }), true);
  assert.equal(harpgWinsEverySeed(HARPG_AUTHORS_CARTPOLE, { 10: win, 11: loss, 12: win }), false);
  assert.equal(harpgWinsEverySeed(HARPG_AUTHORS_CARTPOLE, { 10: win, 11: win }), false);
  // the protocol's values are valid experiment config
  const c = harpg.schema.parse({ env: 'cartpole', horizon: 200, estimator: 'reward-to-go', baseline: 'linear-feature', trajectories: HARPG_AUTHORS_CARTPOLE.trajectories, batchSteps: HARPG_AUTHORS_CARTPOLE.batchSteps, hessianBatchSteps: HARPG_AUTHORS_CARTPOLE.hessianBatchSteps, vanillaStepPower: HARPG_AUTHORS_CARTPOLE.vanillaStepPower, stepGrid: [...HARPG_AUTHORS_CARTPOLE.grid] });
  assert.equal(c.batchSteps, 1000);
});
