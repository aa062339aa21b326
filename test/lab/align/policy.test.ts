import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CausalLm } from '../../../src/lab/lm/causal-lm';
import { generateStepwise } from '../../../src/lab/lm/sampler';
import { copyWeights, encodePrompts, extrapolateWeights, interpolateWeights, loadAlignModel, PolicyTrainer, sampleCompletions, sampleMixture, sum } from '../../../src/lab/align/policy';
import { makeTinyModel } from './tiny-model';

const dir = makeTinyModel();

test('extrapolate / interpolate weights: a + α(a − b) and (1 − t)a + tb', () => {
  const a = new Map([['w', Float32Array.of(1, 2)]]);
  const b = new Map([['w', Float32Array.of(0, 4)]]);
  assert.deepEqual(Array.from(extrapolateWeights(a, b, 0.5).get('w')!), [1.5, 1]);
  assert.deepEqual(Array.from(interpolateWeights(a, b, 0.25).get('w')!), [0.75, 2.5]);
  assert.throws(() => extrapolateWeights(a, new Map(), 0.3), /parameter w missing/);
});

test('trainer log-probs (core graph) match the exported model’s sampler log-probs; steps move θ, not the reference', async () => {
  const model = loadAlignModel(dir);
  const lm = await CausalLm.load(dir);
  const trainer = await PolicyTrainer.create({ model, tokenizer: lm.tokenizer, batch: 4, ctx: 16, maxGradNorm: 1 });
  const prompts = encodePrompts(lm.tokenizer, ['The jury said', 'It was a', 'He went to the', 'Nothing'], 8);
  const ys = await sampleCompletions(lm, prompts, { maxNewTokens: 6, temperature: 1, seed: 1 });
  const ours = await trainer.logProbs(ys);
  ys.forEach((y, i) => y.logprobs.forEach((x, t) => assert.ok(Math.abs(x - ours[i][t]) < 1e-4, `row ${i} token ${t}: ${ours[i][t]} vs sampler ${x}`)));
  const ref = copyWeights(model.weights);
  // weight +1 on every token = maximum likelihood on the samples: their log-prob must rise
  for (let k = 0; k < 5; k++) await trainer.step(ys, ys.map((y) => y.completion.map(() => 1)), 4, 1e-2);
  const after = await trainer.logProbs(ys);
  assert.ok(sum(after.map(sum)) > sum(ours.map(sum)) + 1, 'likelihood of the trained samples rises');
  const underRef = await trainer.logProbs(ys, ref);
  underRef.forEach((row, i) => row.forEach((x, t) => assert.ok(Math.abs(x - ours[i][t]) < 1e-5, 'log-probs under the reference weights are unchanged')));
  // setWeights restores θ exactly
  trainer.setWeights(ref);
  const back = await trainer.logProbs(ys);
  back.forEach((row, i) => row.forEach((x, t) => assert.ok(Math.abs(x - ours[i][t]) < 1e-5)));
  await lm.dispose();
});

test('logit-mixture sampling: m = 0 reproduces the policy’s stepwise sampler, m = 1 the reference’s', async () => {
  const lm = await CausalLm.load(dir);
  const other = makeTinyModel(); // same architecture, same init seed → identical; mixing is then a no-op too
  const lm2 = await CausalLm.load(other);
  const prompts = encodePrompts(lm.tokenizer, ['The jury said', 'It was a'], 8);
  const a = await generateStepwise(lm, prompts, { maxNewTokens: 5, temperature: 1, seed: 4 });
  const m0 = await sampleMixture(lm, lm2, prompts, 0, { maxNewTokens: 5, temperature: 1, seed: 4 });
  const m1 = await sampleMixture(lm2, lm, prompts, 1, { maxNewTokens: 5, temperature: 1, seed: 4 });
  assert.deepEqual(m0.map((x) => x.completion), a.map((x) => x.tokens));
  assert.deepEqual(m1.map((x) => x.completion), a.map((x) => x.tokens));
  await lm.dispose();
  await lm2.dispose();
});
