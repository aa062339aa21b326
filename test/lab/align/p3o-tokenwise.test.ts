// P3O token-wise clip (src/lab/align/p3o.ts, spec §7 `clip_tokenwise=True`): the loss and its token
// weights on a hand-computed pair, −∂loss/∂ℓ_t against finite differences, the relation to the joint
// form (identical weights while neither clips; different once only the joint band is left), invariance
// of pair weights and of whole updates to a per-prompt reward offset δ(x), and the experiment running it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng';
import { fullP3oConfig, p3oExperiment, p3oPairWeights, p3oPairWeightsTokenwise, p3oSchema, p3oUpdate, preregisteredTokenwiseConfig, preregisteredTokenwiseVerdict, type RolloutPair } from '../../../src/lab/align/p3o';
import { runInProcess } from '../../../src/lab/runs/context';
import { randomRolloutPair } from './pair-fixture';
import { makeShiftFixture } from './shift-fixture';
import { makeTinyModel } from './tiny-model';

const close = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

test('token-wise pair loss and weights on a hand-computed pair (one y1 token and the y2 token clipped)', () => {
  // ref = 0, so lr_i = Σ_t ℓ_{i,t}: lr1 = −3, lr2 = −0.5, lr1_old = −3.2, lr2_old = −0.4
  const p: RolloutPair = { r: [1, 0.2], lp: [[-1, -2], [-0.5]], ref: [[0, 0], [0]], old: [[-1.3, -1.9], [-0.4]] };
  const q = 0.8 - 0.1 * (-3 - -0.5); // (r1 − r2) − kl_coef (lr1 − lr2) = 1.05
  const c = Math.exp(-3 - -3.2 + (-0.5 - -0.4)); // exp(0.1), inside [1/10, 10]
  const t = p3oPairWeightsTokenwise(p, 0.1, 0.2, 10);
  assert.ok(close(t.q, q) && close(t.c, c));
  // y1 (+): token 0 moved −1.3 → −1 > −1.1 (past the band while q c > 0): clipped, weight 0, term ½·1.1 q c;
  //         token 1 −2 within [−2.1, −1.7]: active, weight q c / 2, term ½·2 q c.
  // y2 (−): −0.5 within [−0.6, −0.2]: active, weight −q c / 2, term ½·(−0.5) q c.
  assert.deepEqual(t.w[0][0], 0);
  assert.ok(close(t.w[0][1], (q * c) / 2));
  assert.ok(close(t.w[1][0], (-q * c) / 2));
  assert.ok(close(t.loss, q * c * (0.55 + 1 - 0.25)));
  assert.equal(t.clippedTokens, 1);
  assert.equal(t.tokens, 3);
  // y2's token moved down past ℓ_old − ε (the direction its − sign rewards): clipped at −0.6, weight 0
  const t2 = p3oPairWeightsTokenwise({ ...p, lp: [[-1, -2], [-0.7]] }, 0.1, 0.2, 10);
  const q2 = 0.8 - 0.1 * (-3 - -0.7);
  const c2 = Math.exp(-3 - -3.2 + (-0.7 - -0.4));
  assert.equal(t2.w[1][0], 0);
  assert.equal(t2.clippedTokens, 2);
  assert.ok(close(t2.loss, q2 * c2 * (0.55 + 1 - 0.3)));
  // the joint form on the same pair: Δ = −2.5 vs Δ_old = −2.8 + ε = −2.6 → Δ moved past the band: clipped
  assert.equal(p3oPairWeights(p, 0.1, 0.2, 10).clipped, true);
});

test('token-wise pair loss: −∂loss/∂ℓ_t equals the token weight (finite differences, q and c held fixed)', () => {
  const rng = new Rng(17);
  let clippedSeen = 0;
  for (let k = 0; k < 40; k++) {
    const p = randomRolloutPair(rng, 0.6);
    // kl_coef 0 keeps q free of θ and C = 1 pins c = 1, so the loss depends on θ only through the token terms
    const w = p3oPairWeightsTokenwise(p, 0, 0.2, 1);
    clippedSeen += w.clippedTokens;
    for (const i of [0, 1]) {
      for (let t = 0; t < p.lp[i].length; t++) {
        if (Math.abs(Math.abs(p.lp[i][t] - p.old[i][t]) - 0.2) < 1e-4) continue; // on the band's edge the loss has a kink
        const e = 1e-6;
        const at = (d: number) => {
          const lq: [number[], number[]] = [p.lp[0].slice(), p.lp[1].slice()];
          lq[i][t] += d;
          return p3oPairWeightsTokenwise({ ...p, lp: lq }, 0, 0.2, 1).loss;
        };
        const fd = (at(e) - at(-e)) / (2 * e);
        assert.ok(Math.abs(-fd - w.w[i][t]) < 1e-6, `pair ${k} seq ${i} token ${t}: −dL/dℓ ${-fd} vs weight ${w.w[i][t]}`);
      }
    }
  }
  assert.ok(clippedSeen > 10, `the random cases exercise the clip (${clippedSeen} clipped tokens)`);
});

test('token-wise vs joint: identical weights while neither clips (e.g. at θ = θ_old); the joint band can fire alone', () => {
  const rng = new Rng(5);
  for (let k = 0; k < 30; k++) {
    const seq = (n: number) => Array.from({ length: n }, () => -1 - 2 * rng.uniform());
    const lp: [number[], number[]] = [seq(4), seq(3)];
    // every token within ε/8 of ℓ_old: no token leaves its band and |Δ − Δ_old| ≤ 7ε/8 < ε
    const near = (a: number[]) => a.map((x) => x + 0.025 * (2 * rng.uniform() - 1));
    const p: RolloutPair = { r: [rng.uniform(), rng.uniform()], lp, ref: [seq(4), seq(3)], old: [near(lp[0]), near(lp[1])] };
    for (const pair of [p, { ...p, old: p.lp }]) {
      const j = p3oPairWeights(pair, 0.05, 0.2, 10);
      const t = p3oPairWeightsTokenwise(pair, 0.05, 0.2, 10);
      assert.equal(j.clipped, false);
      assert.equal(t.clippedTokens, 0);
      assert.deepEqual(t.w, j.w, `pair ${k}: token-wise weights equal the joint ones`);
    }
  }
  // four y1 tokens each up by 0.1 < ε with q > 0: no token clips, but Δ moved 0.4 > ε, so the joint clip zeroes the pair
  const p: RolloutPair = { r: [1, 0], lp: [[-1, -1, -1, -1], [-2]], ref: [[-1, -1, -1, -1], [-2]], old: [[-1.1, -1.1, -1.1, -1.1], [-2]] };
  assert.equal(p3oPairWeights(p, 0, 0.2, 10).clipped, true);
  assert.deepEqual(p3oPairWeights(p, 0, 0.2, 10).w[0], [0, 0, 0, 0]);
  const t = p3oPairWeightsTokenwise(p, 0, 0.2, 10);
  assert.equal(t.clippedTokens, 0);
  for (const x of t.w[0]) assert.ok(x > 0);
});

test('token-wise pair weights do not depend on a per-prompt reward offset δ(x)', () => {
  const rng = new Rng(23);
  for (let k = 0; k < 20; k++) {
    const seq = (n: number) => Array.from({ length: n }, () => -1 - 2 * rng.uniform());
    const lp: [number[], number[]] = [seq(3), seq(5)];
    const p: RolloutPair = { r: [rng.uniform(), rng.uniform()], lp, ref: [seq(3), seq(5)], old: [lp[0].map((x) => x + 0.5 * (rng.uniform() - 0.5)), lp[1].map((x) => x + 0.5 * (rng.uniform() - 0.5))] };
    const d = 20 * rng.uniform() - 10;
    const a = p3oPairWeightsTokenwise(p, 0.05, 0.2, 10);
    const b = p3oPairWeightsTokenwise({ ...p, r: [p.r[0] + d, p.r[1] + d] }, 0.05, 0.2, 10);
    for (const i of [0, 1]) for (let t = 0; t < a.w[i].length; t++) assert.ok(close(a.w[i][t], b.w[i][t], 1e-12), `pair ${k}: ${a.w[i][t]} vs ${b.w[i][t]}`);
  }
});

test('whole token-wise updates: same θ with and without δ(x); the token clip fires and the result differs from the joint form', async () => {
  const fx = await makeShiftFixture();
  const { trainer, rolls, shift, start } = fx;
  const after = (clipMode: 'joint' | 'tokenwise', delta: number[], clipfrac: number[] = []) =>
    fx.after(() => p3oUpdate(trainer, rolls(delta), { epochs: 4, pairs: 2, lr: 3e-2, klCoef: 0.05, clip: 0.2, ratioClip: 10, dropTies: false, clipMode }, new Rng(1), (m) => clipfrac.push(m.policy_clipfrac)));
  const fracs: number[] = [];
  const a = await after('tokenwise', [0, 0, 0, 0], fracs);
  const b = await after('tokenwise', shift);
  const j = await after('joint', [0, 0, 0, 0]);
  const maxDiff = (x: number[], y: number[]) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
  const moved = maxDiff(a, start);
  assert.ok(moved > 1e-3, `token-wise P3O moved θ (${moved})`);
  assert.ok(maxDiff(a, b) < 1e-6 * moved, `token-wise θ with and without δ(x) differ by ${maxDiff(a, b)} (moved ${moved})`);
  assert.equal(fracs[0], 0, 'first minibatch at θ = θ_old: nothing clipped');
  assert.ok(Math.max(...fracs) > 0, `the token clip fired in later minibatches (${fracs.map((f) => f.toFixed(2)).join(' ')})`);
  assert.ok(maxDiff(a, j) > 1e-3 * moved, `token-wise and joint updates differ (${maxDiff(a, j)})`);
});

test('p3o experiment with clipMode tokenwise: runs end to end and logs a token clip fraction', async () => {
  const model = makeTinyModel();
  const config = { model, prompts: 6, evalPrompts: 4, maxPromptTokens: 8, maxNewTokens: 4, batch: 8, dropTies: false, unshiftedArms: 'none' as const, iterations: 1, clipMode: 'tokenwise' as const };
  assert.equal(p3oSchema.parse({}).clipMode, 'tokenwise');
  assert.throws(() => p3oSchema.parse({ clipMode: 'pairwise' }), /clipMode/);
  const r = await runInProcess(p3oExperiment, { config, seed: 2 });
  const rows = readFileSync(join(r.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  const fr = rows.filter((x) => 'p3o/policy_clipfrac' in x).map((x) => x['p3o/policy_clipfrac']);
  assert.ok(fr.length > 0 && fr.every((f) => f >= 0 && f <= 1));
  assert.deepEqual(
    rows.filter((x) => 'p3o/iteration' in x).map((x) => x['p3o/iteration']),
    [0, 1],
  );
  assert.ok(Number.isFinite((r.summary as Record<string, number>).p3o_reward));
});

test('pre-registered verdict: ≥ 2 of 3 positive raw-reward gaps, every seed above the reference, every KL within the limit', () => {
  const row = (gap: number, o: Record<string, number> = {}) => ({
    frontier_gap_unshifted: gap,
    ref_reward: 0,
    p3o_unshifted_reward: 0.1,
    ppo_unshifted_reward: 0.1,
    p3o_kl: 5,
    ppo_kl: 5,
    p3o_unshifted_kl: 5,
    ppo_unshifted_kl: 5,
    ...o,
  });
  assert.equal(preregisteredTokenwiseVerdict([row(0.01), row(-0.2), row(0.02)], 25).pass, true);
  assert.equal(preregisteredTokenwiseVerdict([row(0.01), row(-0.2), row(NaN)], 25).pass, false);
  assert.equal(preregisteredTokenwiseVerdict([row(0.01), row(0.01), row(0.02, { p3o_unshifted_reward: -0.1 })], 25).pass, false);
  assert.equal(preregisteredTokenwiseVerdict([row(0.01), row(0.01), row(-0.02, { ppo_kl: 26 })], 25).pass, false);
  assert.equal(preregisteredTokenwiseVerdict([row(0.01), row(0.01), row(-0.02)], 25).positiveGaps, 2);
  assert.equal(preregisteredTokenwiseConfig().clipMode, 'tokenwise');
  assert.deepEqual(preregisteredTokenwiseConfig(), { ...fullP3oConfig(), evalSamples: 2 });
});
