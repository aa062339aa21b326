// The per-token weights of each LM method (spec alignment.md §0.3) against their losses' derivatives,
// and P3O's invariance to a per-prompt reward shift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dpoPairWeight, filePairs, lastRoundDir } from '../../../src/lab/align/dpo';
import { p3oPairWeights, type RolloutPair } from '../../../src/lab/align/p3o';
import { ppoReturns, ppoTokenWeights } from '../../../src/lab/align/ppo';
import { categoryOf, cyclicPreference, isIntransitive } from '../../../src/lab/align/nash-lm';
import { roundsToReach } from '../../../src/lab/align/apo';
import { Rng } from '../../../src/core/rng';

test('DPO / IPO pair weights equal −d(loss)/dh (finite differences)', () => {
  for (const loss of ['sigmoid', 'ipo'] as const) {
    for (const [h, beta] of [[0.3, 0.1], [-2, 0.5], [5, 1], [0, 0.1]]) {
      const e = 1e-6;
      const d = (dpoPairWeight(h + e, beta, loss).loss - dpoPairWeight(h - e, beta, loss).loss) / (2 * e);
      assert.ok(Math.abs(dpoPairWeight(h, beta, loss).weight + d) < 1e-5, `${loss} h=${h} β=${beta}`);
    }
  }
  // sigmoid loss at h = 0 is log 2; large βh is stable
  assert.ok(Math.abs(dpoPairWeight(0, 0.1, 'sigmoid').loss - Math.log(2)) < 1e-12);
  assert.ok(Number.isFinite(dpoPairWeight(1e4, 1, 'sigmoid').loss) && Number.isFinite(dpoPairWeight(-1e4, 1, 'sigmoid').loss));
});

function randomPair(rng: Rng): RolloutPair {
  const seq = (n: number) => Array.from({ length: n }, () => -1 - 3 * rng.uniform());
  const jitter = (a: number[]) => a.map((x) => x + 0.2 * (rng.uniform() - 0.5));
  const lp: [number[], number[]] = [seq(5), seq(7)];
  return { r: [rng.uniform(), rng.uniform()], lp, ref: [jitter(lp[0]), jitter(lp[1])], old: [jitter(lp[0]), jitter(lp[1])] };
}

test('P3O weights are identical under a per-prompt reward shift r → r + δ(x); PPO’s are not', () => {
  const rng = new Rng(5);
  let ppoChanged = 0;
  for (let k = 0; k < 50; k++) {
    const p = randomPair(rng);
    const delta = 20 * (rng.uniform() - 0.5);
    const shifted: RolloutPair = { ...p, r: [p.r[0] + delta, p.r[1] + delta] };
    const a = p3oPairWeights(p, 0.05, 0.2, 10);
    const b = p3oPairWeights(shifted, 0.05, 0.2, 10);
    // exact float equality up to the rounding of (r1 + δ) − (r2 + δ)
    a.w.forEach((row, i) => row.forEach((x, t) => assert.ok(Math.abs(x - b.w[i][t]) <= 1e-12 * Math.max(1, Math.abs(x)), `pair ${k}`)));
    assert.equal(a.clipped, b.clipped);
    const adv = (r: number) => ppoReturns(r, p.old[0], p.ref[0], 0.05);
    const wa = ppoTokenWeights(adv(p.r[0]), p.lp[0], p.old[0], 0.2).w;
    const wb = ppoTokenWeights(adv(p.r[0] + delta), p.lp[0], p.old[0], 0.2).w;
    if (wa.some((x, t) => Math.abs(x - wb[t]) > 1e-6)) ppoChanged++;
  }
  assert.ok(ppoChanged > 40, `PPO weights without a baseline change under the shift (${ppoChanged}/50)`);
});

test('P3O joint clip: the pair freezes once the log-ratio gap leaves Δ_old ± ε in the direction of q', () => {
  const base: RolloutPair = { r: [1, 0], lp: [[-1, -1], [-1, -1]], ref: [[-1, -1], [-1, -1]], old: [[-1, -1], [-1, -1]] };
  assert.equal(p3oPairWeights(base, 0, 0.2, 10).clipped, false);
  assert.deepEqual(p3oPairWeights(base, 0, 0.2, 10).w[0], [0.5, 0.5]); // q c / 2 with q = 1, c = 1
  const moved: RolloutPair = { ...base, lp: [[-0.8, -0.8], [-1, -1]] }; // Δ = 0.4 > 0 + 0.2 with q > 0
  assert.equal(p3oPairWeights(moved, 0, 0.2, 10).clipped, true);
  assert.deepEqual(p3oPairWeights(moved, 0, 0.2, 10).w[1], [-0, -0]);
  const against: RolloutPair = { ...moved, r: [0, 1] }; // q < 0: moving up is outside the band only downward
  assert.equal(p3oPairWeights(against, 0, 0.2, 10).clipped, false);
});

test('PPO returns sum the per-token KL penalty and the final score; clipped tokens get weight 0', () => {
  assert.deepEqual(ppoReturns(1, [-1, -2], [-1.5, -2], 0.1).map((x) => +x.toFixed(6)), [0.95, 1]);
  const r = ppoTokenWeights([1, -1, 1], [0, 0, -1], [-0.5, 0.5, -1], 0.2);
  assert.equal(r.clipped, 2); // ρ = e^0.5 > 1.2 with A > 0; ρ = e^-0.5 < 0.8 with A < 0
  assert.deepEqual(r.w, [0, 0, 1]);
});

test('LM game: categories from the first word, cyclic preference that no scalar reward can represent', () => {
  assert.equal(categoryOf(' after all'), 0);
  assert.equal(categoryOf('Nothing else'), 1);
  assert.equal(categoryOf(' sure thing'), 2);
  assert.equal(categoryOf(' the man'), 3);
  assert.equal(categoryOf(' And then'), 3);
  assert.equal(categoryOf(', said'), 3);
  assert.equal(categoryOf(''), 3);
  const P = cyclicPreference(0.9);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) assert.ok(Math.abs(P[i][j] + P[j][i] - 1) < 1e-12);
  assert.ok(isIntransitive(P));
  assert.ok(!isIntransitive(cyclicPreference(0.5)));
});

test('APO rounds-to-reach and resume folders; preference JSONL errors name the line and field', () => {
  assert.equal(roundsToReach([0, 0.1, 0.3, 0.2], 0.25), 2);
  assert.equal(roundsToReach([0, 0.1], 0.25), Infinity);
  const d = mkdtempSync(join(tmpdir(), 'align-'));
  assert.equal(lastRoundDir(d, 'apo'), null);
  assert.throws(() => lastRoundDir(join(d, 'missing'), 'apo'), /resumeFrom: .* does not exist/);
  const bad = join(d, 'bad.jsonl');
  writeFileSync(bad, '{"prompt":"a","chosen":"b","rejected":"c"}\n{"prompt":"a","chosen":3,"rejected":"c"}\n');
  const tok = { encode: () => [1], decode: () => 'x', encodeWithSpecials: () => [0, 1] } as unknown as Parameters<typeof filePairs>[1];
  assert.throws(() => filePairs(bad, tok, { maxNewTokens: 4, maxPromptTokens: 4 } as Parameters<typeof filePairs>[2]), /bad\.jsonl:2: field 'chosen' must be a string/);
});
