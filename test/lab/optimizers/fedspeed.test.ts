import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeNpy } from '../../../src/core/io/npy';
import { Rng } from '../../../src/core/rng';
import { dirichletSplit, fedspeed, fedspeedSchema, loadFedData, lossGrad, runFederated } from '../../../src/lab/optimizers/fedspeed';
import { finiteDiffGrad, maxAbsDiff, metricNames, runForTest, tempDir } from './helpers';

test('fedspeed: softmax-regression gradient matches finite differences', () => {
  const rng = new Rng(1);
  const data = { X: Float64Array.from({ length: 12 }, () => rng.normal()), y: Int32Array.from([0, 2, 1, 2]), d: 3, C: 3 };
  const w = Float64Array.from({ length: 12 }, () => rng.normal());
  const g = new Float64Array(12);
  lossGrad(w, data, [0, 1, 2, 3], 0.01, g);
  const fd = finiteDiffGrad((v) => lossGrad(v, data, [0, 1, 2, 3], 0.01, new Float64Array(12)), w);
  assert.ok(maxAbsDiff(g, fd) < 1e-6);
});

test('fedspeed: the Dirichlet split covers every row once and is skewed for small β', () => {
  const labels = Int32Array.from({ length: 1000 }, (_, i) => i % 5);
  const split = dirichletSplit(labels, 5, 10, 0.1, new Rng(3));
  const all = split.flat().sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 1000 }, (_, i) => i));
  // with β = 0.1 most clients hold mostly one class
  const dominant = split.map((rows) => {
    const cnt = new Array(5).fill(0);
    rows.forEach((r) => cnt[labels[r]]++);
    return Math.max(...cnt) / rows.length;
  });
  assert.ok(dominant.filter((f) => f > 0.6).length >= 6, `dominant-class shares ${dominant.map((f) => f.toFixed(2))}`);
});

test('fedspeed: without perturbation and with full participation FedSpeed is FedDyn; FedProx with a vanishing prox is FedAvg', () => {
  const c = fedspeedSchema.parse({ clients: 4, participation: 1, rounds: 6, localSteps: 3, rho: 0, testSize: 200, trainPerClient: 30 });
  const data = loadFedData(c, new Rng(2));
  const log = (m: 'fedspeed' | 'feddyn' | 'fedavg' | 'fedprox', cfg = c) => {
    const rows: number[] = [];
    runFederated(m, cfg, data, 2, 0, (_, r) => rows.push(Object.values(r)[0]));
    return rows;
  };
  assert.deepEqual(log('fedspeed'), log('feddyn'));
  const weak = { ...c, lambda: 1e9 };
  assert.deepEqual(log('fedprox', weak), log('fedavg', weak));
  // and the perturbation changes the trajectory
  assert.notDeepEqual(log('fedspeed', { ...c, rho: 0.5 }), log('feddyn'));
});

test('fedspeed: data files, bad files, and a tiny run with all methods logged', async () => {
  const dir = tempDir();
  const rng = new Rng(5);
  const X = Float64Array.from({ length: 300 * 4 }, () => rng.normal());
  const y = Float64Array.from({ length: 300 }, (_, i) => (X[i * 4] > 0 ? 1 : 0));
  writeNpy(join(dir, 'X.npy'), X, [300, 4]);
  writeNpy(join(dir, 'y.npy'), y);
  writeNpy(join(dir, 'ybad.npy'), Float64Array.from({ length: 299 }));
  const cfg = { dataFile: join(dir, 'X.npy'), labelsFile: join(dir, 'y.npy'), clients: 4, rounds: 5, localSteps: 3 };
  const run = await runForTest(fedspeed, cfg);
  const names = metricNames(run);
  for (const k of ['fedspeed/accuracy', 'fedavg/accuracy', 'fedprox/accuracy', 'feddyn/accuracy', 'fedspeed/rounds_to_target', 'wall_s']) assert.ok(names.has(k), `missing ${k}`);
  assert.ok(run.artifacts.has('accuracy.npy'));
  assert.throws(() => loadFedData(fedspeedSchema.parse({ ...cfg, labelsFile: join(dir, 'ybad.npy') }), new Rng(0)), /labelsFile: .* expected \(300,\)/);
  assert.throws(() => loadFedData(fedspeedSchema.parse({ ...cfg, labelsFile: '' }), new Rng(0)), /labelsFile: required/);
});
