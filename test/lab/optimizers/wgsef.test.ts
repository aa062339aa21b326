import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeNpy } from '../../../src/core/io/npy';
import { Rng } from '../../../src/core/rng';
import { splitRows } from '../../../src/lab/optimizers/data';
import { mlpProblem } from '../../../src/lab/optimizers/lr-refine';
import {
  contiguousGroups,
  countGroups,
  dataLoss,
  fitProximal,
  fitProxAdam,
  groupNorms,
  groupSparseData,
  bumpTeacherData,
  neuronGroups,
  problemAccuracy,
  proxGroupLasso,
  proxPenalty,
  proxSparseEnvelope,
  proxWgsef,
  searchLambda,
  smoothness,
  sparseEnvelope,
  testMetric,
  wgsef,
  type WgsefPenalty,
} from '../../../src/lab/optimizers/wgsef';
import { finiteDiffGrad, maxAbsDiff, metricNames, runForTest, tempDir } from './helpers';

test('sparse envelope: ½‖u‖² on k-sparse u, ½‖u‖₁² for k = 1, ½‖u‖² for k = m', () => {
  const u = Float64Array.from([3, -1, 0.5, 0.2]);
  const sq = 0.5 * (9 + 1 + 0.25 + 0.04);
  assert.ok(Math.abs(sparseEnvelope(u, 4) - sq) < 1e-12);
  assert.ok(Math.abs(sparseEnvelope(u, 1) - 0.5 * 4.7 ** 2) < 1e-12);
  assert.ok(Math.abs(sparseEnvelope(Float64Array.from([0, 3, 0, -1]), 2) - 5) < 1e-12);
  assert.ok(sparseEnvelope(u, 2) > sq, 'the envelope exceeds ½‖u‖² off the k-sparse set');
});

/** Derivative-free coordinate search: a slow but independent minimizer of a small objective. */
function coordinateSearch(obj: (w: Float64Array) => number, start: Float64Array): Float64Array {
  const w = Float64Array.from(start);
  let f = obj(w);
  let h = 0.5;
  while (h > 1e-10) {
    let improved = false;
    for (let i = 0; i < w.length; i++) {
      for (const s of [h, -h]) {
        w[i] += s;
        const f2 = obj(w);
        if (f2 < f - 1e-15) {
          f = f2;
          improved = true;
        } else w[i] -= s;
      }
    }
    if (!improved) h /= 2;
  }
  return w;
}

for (const penalty of ['sef', 'sef-minus-ridge'] as WgsefPenalty[]) {
  test(`prox of λR (${penalty}) agrees with a derivative-free minimizer`, () => {
    const rng = new Rng(penalty.length);
    for (let trial = 0; trial < 25; trial++) {
      const m = 2 + rng.int(7);
      const k = 1 + rng.int(m);
      const lambda = penalty === 'sef' ? Math.exp(rng.normal()) : 0.05 + 0.9 * rng.uniform();
      const v = rng.fillNormal(new Float64Array(m));
      const R = (w: Float64Array) => sparseEnvelope(w, k) - (penalty === 'sef' ? 0 : 0.5 * w.reduce((a, x) => a + x * x, 0));
      const obj = (w: Float64Array) => 0.5 * w.reduce((a, x, i) => a + (x - v[i]) ** 2, 0) + lambda * R(w);
      const p = proxPenalty(v, k, lambda, penalty);
      const q = coordinateSearch(obj, p);
      assert.ok(obj(p) <= obj(q) + 1e-9, `trial ${trial}: prox value ${obj(p)} vs search ${obj(q)}`);
      if (penalty === 'sef') {
        const q2 = coordinateSearch(obj, v); // convex: any start reaches the same minimum
        assert.ok(maxAbsDiff(p, q2) < 1e-5, `trial ${trial}: ${[...p]} vs ${[...q2]}`);
      }
    }
  });
}

test('the non-convex penalty vanishes on k-sparse vectors and such points are fixed by its prox', () => {
  const u = Float64Array.from([0, 2, 0, -1, 0]);
  assert.ok(Math.abs(sparseEnvelope(u, 2) - 0.5 * 5) < 1e-12);
  const p = proxPenalty(u, 2, 0.5, 'sef-minus-ridge');
  assert.ok(maxAbsDiff(p, u) < 1e-12, 'a k-sparse point is a fixed point of the prox');
  assert.throws(() => proxPenalty(u, 2, 1, 'sef-minus-ridge'), /must be < 1/);
});

test('group proxes rescale whole groups and keep their directions', () => {
  const g = contiguousGroups(6, 2, 'uniform');
  const theta = Float64Array.from([3, 4, 0.3, 0.4, 1, 0]);
  const gl = proxGroupLasso(Float64Array.from(theta), g, 1);
  assert.deepEqual([...groupNorms(gl, g)].map((v) => +v.toFixed(12)), [4, 0, 0]);
  assert.ok(Math.abs(gl[0] / gl[1] - 0.75) < 1e-12);
  const w = proxWgsef(Float64Array.from(theta), g, 1, 0.9, 'sef-minus-ridge');
  const norms = groupNorms(w, g);
  assert.equal(norms.filter((v) => v > 0).length, 1, 'λ near 1 keeps only the top group');
  assert.ok(Math.abs(w[0] / w[1] - 0.75) < 1e-12);
  const v = Float64Array.from([1, -2, 0.5]);
  assert.ok(maxAbsDiff(proxSparseEnvelope(v, 3, 1), v.map((x) => x / 2)) < 1e-12, 'k = m is ridge shrinkage 1/(1+λ)');
  assert.throws(() => contiguousGroups(7, 2, 'uniform'), /does not divide/);
});

test('data loss gradients match finite differences', () => {
  for (const loss of ['squared', 'logistic'] as const) {
    const { ds } = groupSparseData(new Rng(3), 30, 3, 2, 1, 0.5, loss);
    const th = new Rng(4).fillNormal(new Float64Array(6), 0, 0.3);
    const gr = new Float64Array(6);
    dataLoss(ds, loss, th, gr);
    assert.ok(maxAbsDiff(gr, finiteDiffGrad((x) => dataLoss(ds, loss, x), th)) < 1e-7, loss);
  }
});

test('experiment on .npy data: both methods reach k groups, metrics and artifacts written', async () => {
  const dir = tempDir();
  const { ds } = groupSparseData(new Rng(5), 150, 10, 3, 2, 0.1, 'squared');
  writeNpy(join(dir, 'X.npy'), ds.X, [150, 30]);
  writeNpy(join(dir, 'y.npy'), ds.y);
  const run = await runForTest(wgsef, { dataX: join(dir, 'X.npy'), dataY: join(dir, 'y.npy'), groupSize: 3, k: 2, iters: 100, fits: 8 });
  const names = metricNames(run);
  for (const k of ['wgsef/test_mse', 'group_lasso/test_mse', 'wgsef/groups', 'wall_s']) assert.ok(names.has(k), k);
  const s = run.summary as { wgsef: { groups: number }; group_lasso: { groups: number } };
  assert.equal(s.wgsef.groups, 2);
  assert.ok(s.group_lasso.groups <= 2);
  assert.ok(run.artifacts.has('coefficients.npy'));
  await assert.rejects(runForTest(wgsef, { dataX: join(dir, 'X.npy'), dataY: join(dir, 'y.npy'), groupSize: 4 }), /groupSize: 4 does not divide the 30 columns/);
  await assert.rejects(runForTest(wgsef, { dataX: join(dir, 'X.npy'), dataY: join(dir, 'y.npy'), groupSize: 3, k: 11 }), /k: preset sparsity 11 exceeds the number of groups 10/);
});

// ---- (b) MLP with neuron groups ----

test('neuron groups: incoming weights and bias of each hidden unit; output weights unpenalized', () => {
  const [d, h] = [3, 4];
  const g = neuronGroups(d, h);
  assert.equal(g.m, h);
  assert.equal(g.groupOf.length, h * d + 2 * h + 1);
  assert.deepEqual([...g.groupOf.subarray(0, d)], [0, 0, 0]);
  assert.equal(g.groupOf[h * d + 2], 2, 'bias b_2 belongs to neuron 2');
  assert.ok([...g.groupOf.subarray(h * d + h)].every((j) => j === -1), 'v and c are not in any group');
  // a huge group-lasso step kills every neuron but leaves the output layer alone
  const theta = new Rng(1).fillNormal(new Float64Array(g.groupOf.length));
  const out = proxGroupLasso(Float64Array.from(theta), g, 1e6);
  assert.equal(countGroups(out, g), 0);
  assert.deepEqual([...out.subarray(h * d + h)], [...theta.subarray(h * d + h)]);
  const w = proxWgsef(Float64Array.from(theta), g, 2, 0.95, 'sef-minus-ridge');
  const kept = countGroups(w, g);
  assert.ok(kept >= 2 && kept < h, `one WGSEF prox step (k = 2) keeps ${kept} neurons`);
  assert.deepEqual([...w.subarray(h * d + h)], [...theta.subarray(h * d + h)]);
});

test('a neuron with a zero group is dead: its output weight does not change the loss; accuracy matches a direct forward pass', () => {
  const { train } = splitRows(bumpTeacherData(new Rng(2), 90, 5, 2, 0.1), 80);
  const h = 6;
  const problem = mlpProblem(train, h);
  const g = neuronGroups(5, h);
  const theta = problem.init(new Rng(3));
  for (let i = 0; i < theta.length; i++) if (g.groupOf[i] === 1) theta[i] = 0;
  const base = problem.loss(theta);
  theta[h * 5 + h + 1] += 3; // v_1
  assert.ok(Math.abs(problem.loss(theta) - base) < 1e-14);
  let correct = 0;
  for (let i = 0; i < train.n; i++) {
    let f = theta[h * 5 + 2 * h];
    for (let j = 0; j < h; j++) {
      let a = theta[h * 5 + j];
      for (let q = 0; q < 5; q++) a += theta[j * 5 + q] * train.X[i * 5 + q];
      f += theta[h * 5 + h + j] * Math.tanh(a);
    }
    if (f * train.y[i] > 0) correct++;
  }
  assert.equal(problemAccuracy(problem, theta), correct / train.n);
});

test('prox-Adam: dense training lowers the loss; the WGSEF prox near ηλ = 1 keeps exactly k neurons', () => {
  const { train } = splitRows(bumpTeacherData(new Rng(4), 210, 6, 3, 0.05), 200);
  const problem = mlpProblem(train, 12);
  const g = neuronGroups(6, 12);
  const init = problem.init(new Rng(5));
  const dense = fitProxAdam(problem, g, null, { lr: 0.02, iters: 150 }, init);
  assert.ok(problem.loss(dense) < 0.8 * problem.loss(init), `${problem.loss(dense)} vs ${problem.loss(init)}`);
  assert.equal(countGroups(dense, g), 12);
  const sparse = fitProxAdam(problem, g, { kind: 'wgsef', k: 3, lambda: 0.95 / 0.02, penalty: 'sef-minus-ridge' }, { lr: 0.02, iters: 100 }, dense);
  assert.equal(countGroups(sparse, g), 3);
  const wd = fitProxAdam(problem, g, null, { lr: 0.02, iters: 150, weightDecay: 1 }, init);
  assert.ok(Math.hypot(...wd) < Math.hypot(...dense), 'weight decay shrinks the parameters');
});

test('searchLambda finds the smallest λ with at most k groups, going up or down, within its fit budget', () => {
  // a fake fit whose group count is ⌈10/λ⌉ (monotone in λ)
  const fit = (lambda: number) => Float64Array.of(lambda);
  const count = (th: Float64Array) => Math.ceil(10 / th[0]);
  for (const start of [0.01, 100]) {
    const r = searchLambda(fit, count, 4, start, Infinity, 40);
    assert.equal(r.groups, 4, `start ${start}`);
    assert.ok(r.lambda >= 2.5 && r.lambda < 2.5 * 1.001, `start ${start}: λ ${r.lambda}`);
    assert.ok(r.fits <= 40);
  }
  const capped = searchLambda(fit, count, 4, 0.01, 1, 40);
  assert.equal(capped.lambda, 1, 'never above lambdaMax');
  assert.equal(capped.groups, 10);
  assert.equal(searchLambda(fit, count, 4, 100, Infinity, 3).fits, 3);
});

test('experiment (model = mlp): both regularizers prune to at most k neurons; metrics, artifacts, errors', async () => {
  const run = await runForTest(wgsef, { model: 'mlp', n: 150, nTest: 200, inputs: 5, hidden: 10, k: 3, pretrainIters: 100, iters: 60, fits: 6, lr: 0.02 });
  const names = metricNames(run);
  for (const k of ['wgsef/test_accuracy', 'group_lasso/test_accuracy', 'dense/test_accuracy', 'wgsef/groups', 'group_lasso/groups', 'wall_s']) assert.ok(names.has(k), k);
  const s = run.summary as { wgsef: { groups: number; test_accuracy: number }; group_lasso: { groups: number } };
  assert.equal(s.wgsef.groups, 3);
  assert.ok(s.group_lasso.groups <= 3);
  assert.ok(s.wgsef.test_accuracy > 0.5 && s.wgsef.test_accuracy <= 1);
  assert.ok(run.artifacts.has('parameters.npy'));
  await assert.rejects(runForTest(wgsef, { model: 'mlp', hidden: 4, k: 5, pretrainIters: 0, iters: 10 }), /k: preset sparsity 5 exceeds the number of hidden neurons 4/);
});

test('bump labels are balanced and not linearly separable: a linear logistic model stays near chance', () => {
  const ds = bumpTeacherData(new Rng(6), 2000, 10, 4, 0);
  const pos = ds.y.reduce((a, v) => a + (v > 0 ? 1 : 0), 0);
  assert.ok(Math.abs(pos - 1000) <= 1, `positives ${pos}`);
  const { train, test } = splitRows(ds, 1000);
  const g = contiguousGroups(10, 1, 'uniform');
  const theta = fitProximal(train, 'logistic', g, { kind: 'group-lasso', lambda: 0 }, smoothness(train, 'logistic', new Rng(7)), 300);
  const acc = testMetric(test, 'logistic', theta);
  assert.ok(acc < 0.6, `linear accuracy ${acc}`);
});
