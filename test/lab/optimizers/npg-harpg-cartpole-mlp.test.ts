// CartPole with the HARPG authors' softmax-MLP policy (envs/cartpole-mlp.ts): ∇log π and ∇²log π·v (R-operator)
// against central finite differences of an independently written log π, rollout determinism, θ dimension and init,
// and the 'cartpole-mlp' env option of the harpg / npg-igt experiments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/core/rng';
import { cartpoleMlp, MLP_LAYOUT, xavierInit } from '../../../src/lab/optimizers/envs/cartpole-mlp';
import type { Trajectory } from '../../../src/lab/optimizers/envs/task';
import { harpg, HARPG_AUTHORS_CARTPOLE, HARPG_AUTHORS_CODE_HESSIAN, HARPG_AUTHORS_MLP, harpgWinsEverySeed, makeTask, npgIgt, runPg } from '../../../src/lab/optimizers/npg-harpg';
import { finiteDiffGrad } from './helpers';

const DIM = 4 * 32 + 32 + 32 * 32 + 32 + 2 * 32 + 2;

/** Σ_h w_h log π_θ(a_h|s_h), written out plainly: layers (W₁,b₁), (W₂,b₂), (W₃,b₃), weights row-major, log-softmax. */
function weightedLogProb(theta: ArrayLike<number>, tr: Trajectory, w: ArrayLike<number>): number {
  let total = 0;
  let k = 0;
  const layer = (x: number[], nIn: number, nOut: number, act: boolean): number[] => {
    const W = k;
    const b = k + nIn * nOut;
    const y: number[] = [];
    for (let i = 0; i < nOut; i++) {
      let z = theta[b + i];
      for (let j = 0; j < nIn; j++) z += theta[W + i * nIn + j] * x[j];
      y.push(act ? Math.tanh(z) : z);
    }
    return y;
  };
  for (let h = 0; h < tr.rewards.length; h++) {
    const s = Array.from(tr.states.subarray(h * 4, h * 4 + 4));
    k = 0;
    const h1 = layer(s, 4, 32, true);
    k = 4 * 32 + 32;
    const h2 = layer(h1, 32, 32, true);
    k += 32 * 32 + 32;
    const o = layer(h2, 32, 2, false);
    const m = Math.max(o[0], o[1]);
    const lse = m + Math.log(Math.exp(o[0] - m) + Math.exp(o[1] - m));
    total += w[h] * (o[tr.actions[h]] - lse);
  }
  return total;
}

/** A random θ with larger weights than the init (so tanh saturates somewhat and all second-order terms matter). */
function randomTheta(rng: Rng): Float64Array {
  return Float64Array.from({ length: DIM }, () => 0.6 * rng.normal());
}

/** A short trajectory of random states and actions (not necessarily reachable; the formulas are per step). */
function randomTrajectory(rng: Rng, len: number): Trajectory {
  return {
    states: Float64Array.from({ length: 4 * len }, () => rng.normal()),
    actions: Float64Array.from({ length: len }, () => (rng.uniform() < 0.5 ? 1 : 0)),
    rewards: new Float64Array(len).fill(1),
  };
}

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
};

test('MLP policy: θ has 4·32+32+32·32+32+32·2+2 = 1282 entries; the init is Xavier-uniform with zero biases', () => {
  const task = cartpoleMlp(200, 0.99);
  assert.equal(task.dim, DIM);
  assert.equal(MLP_LAYOUT.dim, 1282);
  const th = xavierInit(new Rng(3));
  assert.equal(th.length, DIM);
  const L = MLP_LAYOUT;
  const bound = (a: number, b: number) => Math.sqrt(6 / (a + b));
  const check = (from: number, to: number, a: number) => {
    let maxAbs = 0;
    for (let i = from; i < to; i++) maxAbs = Math.max(maxAbs, Math.abs(th[i]));
    assert.ok(maxAbs <= a && maxAbs > 0.8 * a, `layer [${from}, ${to}): max |w| ${maxAbs} vs bound ${a}`);
  };
  check(L.W1, L.b1, bound(4, 32));
  check(L.W2, L.b2, bound(32, 32));
  check(L.W3, L.b3, bound(32, 2));
  for (const [a, b] of [[L.b1, L.W2], [L.b2, L.W3], [L.b3, L.dim]]) for (let i = a; i < b; i++) assert.equal(th[i], 0);
  // deterministic by seed, different across seeds
  assert.deepEqual(xavierInit(new Rng(3)), th);
  assert.notDeepEqual(xavierInit(new Rng(4)), th);
});

test('MLP policy: weightedScore = ∇ of Σ w_h log π(a_h|s_h) (central differences)', () => {
  const task = cartpoleMlp(200, 0.99);
  const rng = new Rng(11);
  for (let rep = 0; rep < 2; rep++) {
    const theta = randomTheta(rng);
    const tr = randomTrajectory(rng, 5);
    const w = Float64Array.from({ length: 5 }, () => rng.normal());
    const g = task.weightedScore(theta, tr, w);
    const fd = finiteDiffGrad((x) => weightedLogProb(x, tr, w), theta, 1e-5);
    assert.ok(relErr(g, fd) < 1e-6, `relative error ${relErr(g, fd)}`);
  }
});

test('MLP policy: addWeightedScoreHvp = Σ w_h ∇²log π(a_h|s_h)·v (R-operator vs central differences of log π)', () => {
  const task = cartpoleMlp(200, 0.99);
  const rng = new Rng(12);
  for (let rep = 0; rep < 2; rep++) {
    const theta = randomTheta(rng);
    const tr = randomTrajectory(rng, 4);
    const w = Float64Array.from({ length: 4 }, () => rng.normal());
    const v = Float64Array.from({ length: DIM }, () => rng.normal());
    const out = new Float64Array(DIM);
    task.addWeightedScoreHvp(theta, tr, w, v, out);
    // accumulates into out
    const twice = Float64Array.from(out);
    task.addWeightedScoreHvp(theta, tr, w, v, twice);
    assert.ok(relErr(twice, out.map((x) => 2 * x)) < 1e-12);
    // (∇²f v)_i ≈ [f(θ + e v + d e_i) − f(θ + e v − d e_i) − f(θ − e v + d e_i) + f(θ − e v − d e_i)] / (4 e d), on a sample of coordinates
    const f = (x: Float64Array) => weightedLogProb(x, tr, w);
    const e = 3e-5; // ‖v‖ ≈ 36: a step of ≈ 1e-3 along v
    const d = 3e-4;
    const L = MLP_LAYOUT;
    const coords = [L.W1, L.W1 + 77, L.b1 + 5, L.W2, L.W2 + 500, L.W2 + 1023, L.b2 + 31, L.W3 + 3, L.W3 + 40, L.b3, L.b3 + 1];
    for (const i of coords) {
      const at = (se: number, sd: number) => f(theta.map((x, j) => x + se * e * v[j] + (j === i ? sd * d : 0)));
      const fd = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * e * d);
      assert.ok(Math.abs(out[i] - fd) < 1e-4 * (1 + Math.abs(fd)), `coordinate ${i}: R-operator ${out[i]} vs finite differences ${fd}`);
    }
    // and the whole vector against differences of the (already checked) analytic gradient along v
    const gp = task.weightedScore(theta.map((x, j) => x + 1e-5 * v[j]), tr, w);
    const gm = task.weightedScore(theta.map((x, j) => x - 1e-5 * v[j]), tr, w);
    const fdAll = gp.map((x, j) => (x - gm[j]) / 2e-5);
    assert.ok(relErr(out, fdAll) < 1e-6, `relative error ${relErr(out, fdAll)}`);
  }
});

test('MLP CartPole: rollouts are deterministic by seed, start near 0, end on failure or at the horizon', () => {
  const task = cartpoleMlp(200, 0.99);
  const theta = xavierInit(new Rng(1));
  const a = task.rollout(theta, new Rng(9));
  const b = task.rollout(theta, new Rng(9));
  assert.deepEqual(a, b);
  const c = task.rollout(theta, new Rng(10));
  assert.notDeepEqual(a.actions, c.actions);
  for (let j = 0; j < 4; j++) assert.ok(Math.abs(a.states[j]) <= 0.05);
  const L = a.rewards.length;
  assert.ok(L >= 1 && L <= 200);
  assert.equal(a.states.length, 4 * L);
  assert.equal(a.actions.length, L);
  // short horizon: always exactly H steps unless the pole fell
  const short = cartpoleMlp(5, 0.99).rollout(theta, new Rng(9));
  assert.equal(short.rewards.length, 5);
});

test('runPg on the MLP task starts from the Xavier init drawn from the run\'s Rng (theta0 ignored) and is deterministic', () => {
  const task = cartpoleMlp(50, 0.99);
  const o = { method: 'n-harpg' as const, trajectories: 12, batch: 1, batchSteps: 60, hessianBatchSteps: 20, schedule: { step0: 0.3, stepPower: 1, momentumPower: 1, momentumFloor: 0 }, estimator: 'reward-to-go' as const, baseline: 'linear-feature' as const, thetaClip: 50, theta0: 0 };
  const first: Float64Array[] = [];
  const a = runPg(task, o, new Rng(5), (_u, th) => first.push(Float64Array.from(th)));
  const b = runPg(task, { ...o, theta0: 3 }, new Rng(5));
  assert.deepEqual(a, b);
  // the first update moved θ away from the init by a normalized step γ₀·2/(0+2) = γ₀
  const init = xavierInit(new Rng(5));
  const moved = Math.sqrt(first[0].reduce((s, x, i) => s + (x - init[i]) ** 2, 0));
  assert.ok(Math.abs(moved - 0.3) < 1e-9, `first step length ${moved}`);
});

test("config: env 'cartpole-mlp' is accepted by harpg and npg-igt, defaults unchanged, and makeTask builds the MLP task", () => {
  assert.equal(harpg.schema.parse({}).env, 'lqg1d');
  assert.equal(npgIgt.schema.parse({}).env, 'lqg1d');
  assert.equal(harpg.schema.parse({ env: 'cartpole-mlp' }).env, 'cartpole-mlp');
  assert.equal(npgIgt.schema.parse({ env: 'cartpole-mlp' }).env, 'cartpole-mlp');
  assert.throws(() => harpg.schema.parse({ env: 'cartpole-cnn' }));
  const setup = makeTask('cartpole-mlp', 0, 0.99);
  assert.equal(setup.task.name, 'cartpole-mlp');
  assert.equal(setup.task.dim, DIM);
  assert.equal(setup.task.horizon, 200);
  assert.equal(setup.jStar, 200);
});

test('MLP-policy protocol: the authors\' CartPole protocol unchanged but for env, the paper\'s B̂v and fresh seeds 16–18; pass = N-HARPG below vanilla on every seed', () => {
  const P = HARPG_AUTHORS_MLP;
  assert.equal(P.env, 'cartpole-mlp');
  assert.equal(P.hessianForm, 'paper');
  assert.deepEqual([...P.seeds], [16, 17, 18]);
  for (const k of ['trajectories', 'batchSteps', 'hessianBatchSteps', 'vanillaStepPower', 'tuneSeeds', 'evalRuns'] as const) assert.equal(P[k], HARPG_AUTHORS_CARTPOLE[k], k);
  assert.deepEqual([...P.grid], [...HARPG_AUTHORS_CARTPOLE.grid]);
  assert.deepEqual([P.trajectories, P.batchSteps, P.hessianBatchSteps, P.tuneSeeds, P.evalRuns], [5000, 1000, 32, 3, 5]);
  // fresh: no overlap with the earlier protocols' seeds
  for (const s of P.seeds) assert.ok(![...HARPG_AUTHORS_CARTPOLE.seeds, ...HARPG_AUTHORS_CODE_HESSIAN.seeds].includes(s as never));
  const win = { 'n-harpg': 10, vanilla: 20 };
  const loss = { 'n-harpg': 20, vanilla: 10 };
  const tie = { 'n-harpg': 10, vanilla: 10 };
  assert.equal(harpgWinsEverySeed(P, { 16: win, 17: win, 18: win }), true);
  assert.equal(harpgWinsEverySeed(P, { 16: win, 17: win, 18: loss }), false);
  assert.equal(harpgWinsEverySeed(P, { 16: win, 17: tie, 18: win }), false);
  assert.equal(harpgWinsEverySeed(P, { 16: win, 17: win }), false);
  // the protocol's values are valid experiment config
  const c = harpg.schema.parse({ env: P.env, horizon: 200, estimator: 'reward-to-go', baseline: 'linear-feature', trajectories: P.trajectories, batchSteps: P.batchSteps, hessianBatchSteps: P.hessianBatchSteps, vanillaStepPower: P.vanillaStepPower, stepGrid: [...P.grid], hessianForm: P.hessianForm, thetaClip: 50 });
  assert.equal(c.env, 'cartpole-mlp');
});
