import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng';
import {
  admmScp,
  convexReluAdmm,
  networkFromScp,
  reluObjective,
  samplePatterns,
  scpDualBound,
  scpObjective,
  twoSpirals,
  type ReluNet,
} from '../../../src/lab/optimizers/convex-relu-admm';
import { withBias } from '../../../src/lab/optimizers/data';
import { finiteDiffGrad, maxAbsDiff, metricNames, runForTest, tempDir } from './helpers';

test('ReLU network objective gradients match finite differences', () => {
  const ds = withBias(twoSpirals(new Rng(1), 20));
  const rng = new Rng(2);
  const net: ReluNet = { U: rng.fillNormal(new Float64Array(5 * 3)), alpha: rng.fillNormal(new Float64Array(5)), m: 5, d: 3 };
  const gU = new Float64Array(15);
  const gA = new Float64Array(5);
  reluObjective(ds, net, 0.1, gU, gA);
  const fdU = finiteDiffGrad((U) => reluObjective(ds, { ...net, U }, 0.1), net.U);
  const fdA = finiteDiffGrad((alpha) => reluObjective(ds, { ...net, alpha }, 0.1), net.alpha);
  assert.ok(maxAbsDiff(gU, fdU) < 1e-6, `U: ${maxAbsDiff(gU, fdU)}`);
  assert.ok(maxAbsDiff(gA, fdA) < 1e-6, `alpha: ${maxAbsDiff(gA, fdA)}`);
});

test('ADMM reaches the SCP optimum on a small problem: certified by the Lagrangian dual bound', () => {
  const ds = withBias(twoSpirals(new Rng(3), 16));
  const patterns = samplePatterns(ds, 4, new Rng(4));
  const p = { ds, patterns, beta: 0.05 };
  const r = admmScp(p, { rho: 0.05, maxIters: 60000, tol: 1e-10, relaxation: 1.6, adaptiveRho: false });
  const { objective, violation } = scpObjective(p, r.z);
  const lower = scpDualBound(p, r.z, r.mu, 2000);
  assert.ok(lower <= objective + 1e-9, 'weak duality');
  assert.ok(violation < 1e-6, `violation ${violation}`);
  assert.ok((objective - lower) / objective < 1e-3, `relative duality gap ${(objective - lower) / objective} (primal ${objective}, dual ${lower})`);
  // the network read off the convex solution has the same objective (constraints hold ⇒ ReLU = gated)
  const net = networkFromScp(p, r.z);
  assert.ok(Math.abs(reluObjective(ds, net, p.beta) - objective) < 1e-5);
});

test('sampled patterns are distinct and non-empty', () => {
  const ds = withBias(twoSpirals(new Rng(5), 30));
  const ps = samplePatterns(ds, 20, new Rng(6));
  assert.equal(new Set(ps.map((d) => d.join(''))).size, ps.length);
  assert.ok(ps.every((d) => d.some((v) => v === 1)));
});

test('experiment on a JSON dataset logs ADMM and SGD traces and writes artifacts', async () => {
  const dir = tempDir();
  const ds = twoSpirals(new Rng(7), 24);
  const X: number[][] = [];
  for (let i = 0; i < ds.n; i++) X.push([ds.X[2 * i], ds.X[2 * i + 1]]);
  writeFileSync(join(dir, 'd.json'), JSON.stringify({ X, y: [...ds.y] }));
  const run = await runForTest(convexReluAdmm, { dataX: join(dir, 'd.json'), neurons: 6, admmIters: 200, sgdSeeds: 2, sgdEpochs: 20, sgdLrs: [0.01] });
  const names = metricNames(run);
  for (const k of ['admm/objective', 'admm/primal_residual', 'sgd/objective', 'wall_s']) assert.ok(names.has(k), k);
  assert.ok(run.artifacts.has('admm_solution.npy') && run.artifacts.has('sgd_objectives.npy'));
  const s = run.summary as { sgd: { objectives: number[] } };
  assert.equal(s.sgd.objectives.length, 2);
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ X, y: [1, 2] }));
  await assert.rejects(runForTest(convexReluAdmm, { dataX: join(dir, 'bad.json') }), /dataY: .*2 targets but X has 24 rows/);
});
