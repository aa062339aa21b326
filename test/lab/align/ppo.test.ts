// PPO with a value model (src/lab/align/ppo.ts): GAE against hand-computed cases, whitening, the
// clipped value loss and its derivative, the critic graph against its plain-number twin, and the
// lack of invariance of PPO's updates to a per-prompt reward offset the critic has not learned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CausalLm } from '../../../src/lab/lm/causal-lm';
import { encodePrompts, loadAlignModel, mean, sampleCompletions } from '../../../src/lab/align/policy';
import { clippedValueLoss, gae, ppoReturns, ppoTokenRewards, ppoTokenWeights, ValueCritic, whiten } from '../../../src/lab/align/ppo';
import { makeTinyModel } from './tiny-model';

const close = (a: number[], b: number[], tol = 1e-12) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= tol, `index ${i}: ${x} vs ${b[i]}`));

test('GAE(γ, λ) matches a hand-computed case; λ = 1 gives returns − V, λ = 0 gives one-step TD errors', () => {
  const r = [0, 0, 1];
  const v = [0.5, 0.2, 0.4];
  // δ = [0 + 0.2 − 0.5, 0 + 0.4 − 0.2, 1 + 0 − 0.4] = [−0.3, 0.2, 0.6]
  // A_2 = 0.6, A_1 = 0.2 + 0.9·0.6 = 0.74, A_0 = −0.3 + 0.9·0.74 = 0.366
  const g = gae(r, v, 1, 0.9);
  close(g.advantages, [0.366, 0.74, 0.6]);
  close(g.returns, [0.866, 0.94, 1.0]);
  close(gae(r, v, 1, 1).advantages, [0.5, 0.8, 0.6]); // G_t − V_t with G = [1, 1, 1]
  close(gae(r, v, 1, 0).advantages, [-0.3, 0.2, 0.6]);
  // discounting: γ = 0.5, λ = 1 → A_0 = 0.25·1 − 0.5
  close([gae(r, v, 0.5, 1).advantages[0]], [-0.25]);
  assert.throws(() => gae([1], [0, 0], 1, 1), /1 rewards but 2 values/);
});

test('per-token rewards: k1 KL penalty on every token, the score on the last; returns sum them', () => {
  close(ppoTokenRewards(1, [-1, -2], [-1.5, -2], 0.1), [-0.05, 1]);
  close(ppoReturns(1, [-1, -2], [-1.5, -2], 0.1), [0.95, 1]);
});

test('whitening: zero mean and unit (unbiased) variance over all tokens of all sequences', () => {
  const w = whiten([[1, 2], [3, 4, 10]]);
  const flat = w.flat();
  assert.ok(Math.abs(mean(flat)) < 1e-12);
  assert.ok(Math.abs(flat.reduce((a, x) => a + x * x, 0) / (flat.length - 1) - 1) < 1e-6);
});

test('clipped value loss: value and derivative (finite differences) on both branches', () => {
  const cases: [number, number, number][] = [
    [0.1, 0, 1], // inside the band, unclipped branch larger
    [0.5, 0, 1], // outside the band towards the target: unclipped is smaller, clipped term wins with zero gradient
    [-0.5, 0, 1], // outside the band away from the target: the unclipped term is the max
    [0.15, 0, -1], // inside the band
    [1.3, 1, 2], // outside, towards target
  ];
  for (const [v, vOld, R] of cases) {
    const e = 1e-6;
    const fd = (clippedValueLoss(v + e, vOld, R, 0.2).loss - clippedValueLoss(v - e, vOld, R, 0.2).loss) / (2 * e);
    const r = clippedValueLoss(v, vOld, R, 0.2);
    assert.ok(Math.abs(r.grad - fd) < 1e-6, `v=${v} vOld=${vOld} R=${R}: grad ${r.grad} vs ${fd}`);
  }
  assert.equal(clippedValueLoss(0.5, 0, 1, 0.2).clipped, true);
  assert.equal(clippedValueLoss(0.5, 0, 1, 0.2).loss, 0.5 * 0.8 ** 2);
  assert.equal(clippedValueLoss(-0.5, 0, 1, 0.2).clipped, false);
});

test('PPO weights change under a per-prompt reward offset the critic has not learned (P3O’s do not: weights.test.ts)', () => {
  // two prompts, two rollouts each, a critic that knows nothing about δ(x) (V ≡ 0.1)
  const old = [[-1, -2, -1.5], [-2, -1, -0.5], [-1.2, -0.7, -2], [-0.3, -1, -1]];
  const ref = old.map((o) => o.map((x) => x + 0.1));
  const lp = old.map((o) => o.map((x) => x + 0.05));
  const scores = [0.3, 0, -0.2, 0.1];
  const weightsFor = (delta: number[]) => {
    const adv = whiten(scores.map((s, i) => gae(ppoTokenRewards(s + delta[i >> 1], old[i], ref[i], 0.01), old[i].map(() => 0.1), 1, 0.95).advantages));
    return adv.map((a, i) => ppoTokenWeights(a, lp[i], old[i], 0.2).w);
  };
  const base = weightsFor([0, 0]);
  const shifted = weightsFor([3, -3]);
  const changed = base.flat().filter((x, k) => Math.abs(x - shifted.flat()[k]) > 1e-3).length;
  assert.ok(changed >= 10, `PPO token weights move under δ(x) (${changed}/12 changed)`);
});

test('critic: zero head gives V ≡ 0; its loss equals the plain-number twin; steps fit per-prompt offsets; save/load', async () => {
  const dir = makeTinyModel();
  const model = loadAlignModel(dir);
  const lm = await CausalLm.load(dir);
  const prompts = encodePrompts(lm.tokenizer, ['The jury said', 'It was a', 'He went to the', 'Nothing'], 8);
  const ys = await sampleCompletions(lm, prompts, { maxNewTokens: 5, temperature: 1, seed: 2 });
  await lm.dispose();
  const critic = await ValueCritic.create({ model, batch: 4, ctx: 14, padId: 299, valueClip: 0.2, vfCoef: 0.1, maxGradNorm: 1 });
  const v0 = await critic.values(ys);
  v0.flat().forEach((x) => assert.equal(x, 0));
  // per-prompt targets (a δ(x) the critic must learn)
  const targets = ys.map((y, i) => y.completion.map(() => [2, -1, 0.5, -3][i]));
  const oldV = v0.map((r) => r.map((x) => x + 0.05)); // band centre away from v so both branches occur
  const first = await critic.step(ys, targets, oldV, 0.1, 1e-2);
  const twin = mean(first.values.flatMap((row, i) => row.map((v, t) => clippedValueLoss(v, oldV[i][t], targets[i][t], 0.2).loss)));
  assert.ok(Math.abs(first.loss - twin) < 1e-5, `graph loss ${first.loss} vs twin ${twin}`);
  let err = Infinity;
  for (let k = 0; k < 60; k++) {
    const v = await critic.values(ys);
    err = mean(v.flatMap((row, i) => row.map((x, t) => (x - targets[i][t]) ** 2)));
    await critic.step(ys, targets, v, 0.1, 1e-2); // band centred on the current values (a fresh rollout each step)
  }
  assert.ok(err < 0.5, `critic fits the per-prompt offsets (mean squared error ${err.toFixed(3)}, started at ${mean(targets.flat().map((x) => x * x)).toFixed(2)})`);
  const file = `${dir}/critic.safetensors`;
  critic.save(file);
  const again = await ValueCritic.create({ model, batch: 4, ctx: 14, padId: 299, valueClip: 0.2, vfCoef: 0.1, maxGradNorm: 1 });
  again.load(file);
  close((await again.values(ys)).flat(), (await critic.values(ys)).flat(), 1e-6);
});
