import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/core/rng';
import { equilibriumResidual, exploitability, hasPreferenceCycle, kl, linearFit, makeIntransitiveGame, solveRegularizedNash } from '../../../src/lab/tasks/intransitive';

test('the game is a valid preference matrix with a cycle no Bradley–Terry reward can represent', () => {
  for (const seed of [0, 1, 2, 3]) {
    const g = makeIntransitiveGame(new Rng(seed), 6);
    for (let i = 0; i < 6; i++) {
      assert.equal(g.P[i * 6 + i], 0.5);
      for (let j = 0; j < 6; j++) {
        assert.ok(Math.abs(g.P[i * 6 + j] + g.P[j * 6 + i] - 1) < 1e-15);
        assert.ok(g.P[i * 6 + j] >= 0.1 - 1e-12 && g.P[i * 6 + j] <= 0.9 + 1e-12);
      }
    }
    assert.ok(hasPreferenceCycle(g));
    assert.ok(Math.abs(g.ref.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  }
  assert.throws(() => makeIntransitiveGame(new Rng(0), 2), /size must be >= 3/);
});

test('the regularized equilibrium is certified by its fixed-point residual and has zero exploitability', () => {
  const g = makeIntransitiveGame(new Rng(4), 5);
  for (const beta of [0.05, 0.3]) {
    const star = solveRegularizedNash(g, beta);
    assert.ok(star.residual < 1e-12, `residual ${star.residual}`);
    assert.ok(Math.abs(exploitability(g, star.pi, beta)) < 1e-10);
    // Any other policy is exploitable.
    assert.ok(exploitability(g, g.ref, beta) > 1e-8);
    const uniform = new Float64Array(5).fill(0.2);
    assert.ok(exploitability(g, uniform, beta) > 0);
    assert.ok(equilibriumResidual(g, uniform, beta) > 1e-3);
  }
});

test('kl and linearFit', () => {
  assert.equal(kl([0.5, 0.5], [0.5, 0.5]), 0);
  assert.ok(Math.abs(kl([1, 0], [0.5, 0.5]) - Math.log(2)) < 1e-15);
  const f = linearFit([1, 2, 3, 4], [3, 5, 7, 9]);
  assert.ok(Math.abs(f.slope - 2) < 1e-12 && Math.abs(f.intercept - 1) < 1e-12 && Math.abs(f.r2 - 1) < 1e-12);
});
