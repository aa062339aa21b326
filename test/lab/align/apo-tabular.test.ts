// Tabular APO (apo-tabular.ts): the DPO fit against π_t recovers the closed form π_t·exp(r*/β) on noiseless
// data, the log-space extrapolation is Eq. 3.6/3.7, noiseless APO iterates follow Thm 4.1's closed form,
// α = 0 is iterative DPO exactly, and the experiment logs / validates as documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/core/rng';
import {
  closedFormRewardWeight,
  compareTabularApo,
  expectedPreferenceCounts,
  extrapolateLogProbs,
  fitTabularDpo,
  gapAndTv,
  iterationsToReach,
  makeTabularPreferenceProblem,
  normalizeLogProbs,
  runTabularApo,
  samplePreferencePairs,
} from '../../../src/lab/align/apo-tabular';
import { apoExperiment, apoSchema, tabularClaimHolds, tabularOptions } from '../../../src/lab/align/apo';
import { runInProcess } from '../../../src/lab/runs/context';
import { validateConfig } from '../../../src/lab/runs/config';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const tv = (a: Float64Array, b: Float64Array) => a.reduce((s, v, y) => s + Math.abs(Math.exp(v) - Math.exp(b[y])), 0) / 2;
/** π ∝ π_ref·exp(w·r/β) in log space. */
const tilt = (ref: Float64Array, r: Float64Array, w: number, beta: number) => normalizeLogProbs(ref.map((v, y) => v + (w * r[y]) / beta));

test('DPO fit on noiseless data (expected pair counts) matches the closed form π_t·exp(r*/β)', () => {
  const p = makeTabularPreferenceProblem(new Rng(3), 4, 16);
  for (const beta of [0.5, 1]) {
    for (let x = 0; x < p.prompts; x++) {
      const ref = tilt(p.refLogProbs[x], p.reward[x], 1, 0.5); // a reference already away from π_ref
      const fit = fitTabularDpo(ref, expectedPreferenceCounts(ref, p.reward[x], 4096), { beta, steps: 400, lr: 0.1 });
      const exact = tilt(ref, p.reward[x], 1, beta);
      assert.ok(tv(fit.logProbs, exact) < 1e-4, `β=${beta}, x=${x}: TV ${tv(fit.logProbs, exact)}`);
      // The implicit reward β·log(π̂/π_t) recovers r* up to a constant.
      const implicit = fit.logProbs.map((v, y) => beta * (v - ref[y]) - p.reward[x][y]);
      assert.ok(Math.max(...implicit) - Math.min(...implicit) < 0.05);
      assert.ok(fit.metrics['rewards/margins'] > 0, 'chosen responses get the larger implicit reward on average');
    }
  }
});

test('DPO fit on many sampled pairs approaches the closed form (and ignores pairs of equal responses)', () => {
  const p = makeTabularPreferenceProblem(new Rng(4), 1, 8);
  const wins = samplePreferencePairs(new Rng(5), p.refLogProbs[0], p.reward[0], 400_000);
  assert.equal(wins.reduce((a, b) => a + b, 0), 400_000);
  const fit = fitTabularDpo(p.refLogProbs[0], wins, { beta: 0.5, steps: 600, lr: 0.1 });
  assert.ok(tv(fit.logProbs, tilt(p.refLogProbs[0], p.reward[0], 1, 0.5)) < 0.02);
  const onlyTies = new Float64Array(64);
  onlyTies[0] = onlyTies[9] = 10; // (0,0) and (1,1): no information
  const tied = fitTabularDpo(p.refLogProbs[0], onlyTies, { beta: 0.5, steps: 50, lr: 0.1 });
  assert.ok(tv(tied.logProbs, p.refLogProbs[0]) < 1e-12);
});

test('extrapolation (Eq. 3.6/3.7): π_{t+1} ∝ π̂_{t+1}(π̂_{t+1}/π̂_t)^α, normalized; α = 0 keeps π̂_{t+1}', () => {
  const hat = normalizeLogProbs(Float64Array.from([0.3, -1, 2, 0.5]));
  const prev = normalizeLogProbs(Float64Array.from([1, 0, 0.2, -0.4]));
  const alpha = 0.3;
  const direct = Array.from(hat, (v, y) => Math.exp(v) * Math.pow(Math.exp(v) / Math.exp(prev[y]), alpha));
  const z = direct.reduce((a, b) => a + b, 0);
  const got = extrapolateLogProbs(hat, prev, alpha);
  got.forEach((v, y) => assert.ok(Math.abs(Math.exp(v) - direct[y] / z) < 1e-12));
  assert.ok(Math.abs(got.reduce((a, v) => a + Math.exp(v), 0) - 1) < 1e-12);
  extrapolateLogProbs(hat, prev, 0).forEach((v, y) => assert.ok(Math.abs(v - hat[y]) < 1e-12));
  // Mass moves further in the direction π̂_t → π̂_{t+1}: response 2 gained, so it gains more.
  assert.ok(got[2] > hat[2] && got[0] < hat[0]);
});

test('noiseless APO iterates follow Thm 4.1: π̂_t ∝ π_ref·exp(w_t r*/β), w_t = Σ_{k≤t}(1−α^k)/(1−α)', () => {
  assert.deepEqual([1, 2, 3].map((t) => closedFormRewardWeight(t, 0)), [1, 2, 3]);
  assert.ok(Math.abs(closedFormRewardWeight(3, 0.3) - 3.69) < 1e-12);
  const p = makeTabularPreferenceProblem(new Rng(6), 3, 12);
  for (const alpha of [0, 0.3, 0.6]) {
    const r = runTabularApo(p, { alpha, pairs: 4096, iterations: 3, beta: 0.5, steps: 400, lr: 0.1, data: 'expected' }, new Rng(0));
    r.output.forEach((l, x) => assert.ok(tv(l, tilt(p.refLogProbs[x], p.reward[x], closedFormRewardWeight(3, alpha), 0.5)) < 1e-3, `α=${alpha}`));
  }
});

test('α = 0 is iterative DPO exactly (same pairs, same fits), and then the claim verdict is false', () => {
  const o = { ...tabularOptions(apoSchema.parse({ tabularPrompts: 3, tabularResponses: 10, tabularPairs: 256, tabularIterations: 4 })), alpha: 0, sweep: [] };
  const { arms, problem } = compareTabularApo(o, 11, 12);
  assert.deepEqual(arms.map((a) => a.arm), ['iterative_dpo', 'apo']);
  assert.deepEqual(arms[1].gap, arms[0].gap);
  assert.deepEqual(arms[1].tv, arms[0].tv);
  assert.equal(tabularClaimHolds(arms), false);
  // The same loop written out: sample from π̂_t, DPO against π̂_t, no extrapolation.
  const rng = new Rng(12);
  let pol = problem.refLogProbs;
  const gaps = [arms[0].gap[0]];
  for (let t = 0; t < 4; t++) {
    pol = pol.map((l, x) => fitTabularDpo(l, samplePreferencePairs(rng, l, problem.reward[x], 256), o).logProbs);
    gaps.push(pol.reduce((s, l, x) => s + gapAndTv(l, problem.reward[x]).gap, 0) / 3);
  }
  gaps.forEach((g, t) => assert.ok(Math.abs(g - arms[0].gap[t]) < 1e-12, `iteration ${t}`));
});

test('iterationsToReach: first iteration at or below the target', () => {
  assert.equal(iterationsToReach([2, 0.5, 0.2, 0.05], 0.2), 2);
  assert.equal(iterationsToReach([2, 0.5], 0.1), Infinity);
  assert.equal(iterationsToReach([0.01, 0.5], 0.1), Infinity, 'the initial policy does not count');
});

test('apo tabular run: arms logged per iteration with TRL-style names; bad sweep values name the field', async () => {
  const r = await runInProcess(apoExperiment, { config: { tabularPrompts: 2, tabularResponses: 8, tabularPairs: 128, tabularIterations: 3, sweepAlphas: '0.6' }, seed: 1, task: 'tabular' });
  const rows = readFileSync(join(r.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  const keys = new Set(rows.flatMap((x) => Object.keys(x)));
  for (const k of ['iterative_dpo/gap', 'apo/gap', 'apo/tv', 'apo_alpha_0.6/gap', 'apo/loss', 'apo/rewards/margins', 'apo/objective/kl', 'apo/extrapolation_norm', 'iterative_dpo/rewards/accuracies']) assert.ok(keys.has(k), k);
  assert.deepEqual(rows.map((x) => x.iteration), [0, 1, 2, 3]);
  const s = r.summary as Record<string, unknown>;
  assert.equal(s.task, 'tabular');
  assert.equal(typeof s.apo_gap, 'number');
  const bad = validateConfig(apoExperiment, { sweepAlphas: '0.6,x' });
  assert.ok(!bad.ok && bad.errors[0].field === 'sweepAlphas' && /comma-separated/.test(bad.errors[0].message));
  assert.ok(!validateConfig(apoExperiment, { sweepAlphas: '0.99' }).ok);
  assert.ok(validateConfig(apoExperiment, { sweepAlphas: '' }).ok);
});
