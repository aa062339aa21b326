// APO's claim measurement: paired evaluation differences, rounds-to-target with a standard-error
// tolerance applied to both arms, and the control that makes the check falsifiable (α = 0 is
// iterative DPO, so it can never reach the target in fewer rounds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInProcess } from '../../../src/lab/runs/context';
import { apoClaimHolds, apoExperiment, apoSchema, type ApoSummary, pairedDifference, roundsToTarget } from '../../../src/lab/align/apo';
import { makeTinyModel } from './tiny-model';

test('pairedDifference: mean and standard error of per-sample differences', () => {
  const d = pairedDifference([1, 2, 3, 4], [0, 2, 2, 2]); // differences 1, 0, 1, 2
  assert.equal(d.mean, 1);
  assert.ok(Math.abs(d.se - Math.sqrt(2 / 3 / 4)) < 1e-12);
  assert.throws(() => pairedDifference([1, 2], [1]), /two equal lists/);
});

test('roundsToTarget: the same tolerance for both arms; a faster arm reaches the target earlier', () => {
  const noise = [0.1, -0.1, 0.05, -0.05, 0, 0.1, -0.1, 0];
  const at = (level: number) => noise.map((e) => level + e);
  const slow = [at(0), at(1), at(2), at(3), at(4)];
  const fast = [at(0), at(1), at(2.3), at(3.7), at(5.1)];
  const target = slow[4];
  assert.equal(roundsToTarget(slow, target, 2), 4);
  assert.equal(roundsToTarget(fast, target, 2), 4); // 3.7 < 4 − 2 SE: not reached at round 3
  assert.equal(roundsToTarget([at(0), at(1), at(2.5), at(4.25)], target, 2), 3);
  // Within 2 SE counts as reached: with noisy per-sample differences a small shortfall is tolerated.
  const wide = [at(0), noise.map((e, i) => 3.9 + (i % 2 ? 1 : -1) + e)];
  assert.equal(roundsToTarget(wide, target, 2), 1);
  assert.equal(roundsToTarget([at(0), at(1)], target, 2), Infinity);
});

test('apo with α = 0 reproduces iterative DPO exactly, so the claim check fails (falsifiable)', async () => {
  const model = makeTinyModel();
  const config = apoSchema.parse({ task: 'sentiment', model, prompts: 6, evalPrompts: 6, evalSamples: 2, maxPromptTokens: 8, maxNewTokens: 4, batch: 8, rounds: 3, samplesPerPrompt: 4, alpha: 0 });
  const r = await runInProcess(apoExperiment, { config, seed: 2, task: 'sentiment' });
  const s = r.summary as ApoSummary;
  assert.equal(s.apo_reward, s.iterative_dpo_reward);
  assert.equal(s.apo_kl, s.iterative_dpo_kl);
  assert.equal(s.apo_rounds_to_target, s.iterative_dpo_rounds_to_target);
  assert.equal(apoClaimHolds(s, config), false);
  assert.equal(s.eval_samples, 12);
});
