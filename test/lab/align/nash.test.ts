import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/core/rng';
import { geometricOpponent, nashMdStep } from '../../../src/lab/align/nash-md';
import { nashMpStep, proxStep } from '../../../src/lab/align/nash-mp';
import { kl, makeIntransitiveGame, preferenceAgainst, solveRegularizedNash } from '../../../src/lab/tasks/intransitive';

const g = makeIntransitiveGame(new Rng(7), 5);
const beta = 0.1;

test('the closed-form prox step maximizes η[P(π ≻ o) − β KL(π‖ref)] − KL(π‖anchor)', () => {
  const anchor = Float64Array.from([0.1, 0.3, 0.2, 0.25, 0.15]);
  const opp = Float64Array.from([0.3, 0.1, 0.2, 0.2, 0.2]);
  const eta = 1.5;
  const objective = (p: Float64Array) => {
    const pref = preferenceAgainst(g, opp);
    let v = 0;
    for (let y = 0; y < 5; y++) v += p[y] * pref[y];
    return eta * (v - beta * kl(p, g.ref)) - kl(p, anchor);
  };
  const best = proxStep(g, anchor, opp, eta, beta);
  const fBest = objective(best);
  const rng = new Rng(1);
  for (let trial = 0; trial < 200; trial++) {
    // Random perturbations on the simplex never improve the objective.
    const q = best.map((v) => v * Math.exp(0.05 * rng.normal()));
    const s = q.reduce((a, b) => a + b, 0);
    assert.ok(objective(q.map((v) => v / s)) <= fBest + 1e-12);
  }
});

test('the equilibrium is a fixed point of Nash-MP and of self-play mirror descent (not of constant-step Nash-MD)', () => {
  const star = solveRegularizedNash(g, beta);
  const mp = nashMpStep(g, star.pi, 2, beta);
  const selfPlay = nashMdStep(g, star.pi, 0.5, beta, true);
  const md = nashMdStep(g, star.pi, 0.5, beta);
  for (let y = 0; y < 5; y++) {
    assert.ok(Math.abs(mp[y] - star.pi[y]) < 1e-12);
    assert.ok(Math.abs(selfPlay[y] - star.pi[y]) < 1e-12);
  }
  // The geometric opponent biases a constant step: Nash-MD needs its decaying schedule (Thm 1).
  assert.ok(kl(star.pi, md) > 1e-12);
});

test('the geometric opponent interpolates π_t and π_ref in log space', () => {
  const pi = Float64Array.from([0.6, 0.1, 0.1, 0.1, 0.1]);
  assert.deepEqual(Array.from(geometricOpponent(g, pi, 0, beta)).map((v) => +v.toFixed(12)), Array.from(pi).map((v) => +v.toFixed(12)));
  const full = geometricOpponent(g, pi, 1 / beta, beta);
  for (let y = 0; y < 5; y++) assert.ok(Math.abs(full[y] - g.ref[y]) < 1e-12);
});

test('Nash-MP contracts KL to the equilibrium at every iteration', () => {
  const star = solveRegularizedNash(g, beta);
  let pi: Float64Array = Float64Array.from(g.ref);
  let prev = kl(star.pi, pi);
  for (let k = 0; k < 30; k++) {
    pi = nashMpStep(g, pi, 2, beta);
    const cur = kl(star.pi, pi);
    assert.ok(cur < prev, `iteration ${k}: ${cur} >= ${prev}`);
    prev = cur;
  }
});
