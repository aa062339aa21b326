import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from '../../../src/core/io/npy';
import { Rng } from '../../../src/core/rng';
import { LrgdRunner, logisticLoss, normalizedLrgd, separableBlobs } from '../../../src/lab/optimizers/normalized-lrgd';
import { finiteDiffGrad, maxAbsDiff, metricNames, runForTest, tempDir } from './helpers';

test('logistic loss gradient matches finite differences', () => {
  const ds = separableBlobs(new Rng(1), 40, 5, 0.1);
  const x = new Rng(2).fillNormal(new Float64Array(5), 0, 0.5);
  const g = new Float64Array(5);
  logisticLoss(ds, x, g);
  const fd = finiteDiffGrad((v) => logisticLoss(ds, v).loss, x);
  assert.ok(maxAbsDiff(g, fd) < 1e-7, `max diff ${maxAbsDiff(g, fd)}`);
});

test('generated data is separable with the requested margin', () => {
  const ds = separableBlobs(new Rng(3), 200, 4, 0.2, 10);
  const perceptron = new LrgdRunner(ds, { kind: 'perceptron' });
  for (let t = 0; t < 5000 && perceptron.separatedAt < 0; t++) perceptron.step();
  assert.ok(perceptron.separatedAt > 0, 'the batch perceptron separates the data');
});

test('LR+GD with γ → ∞ takes the batch perceptron step (same direction)', () => {
  const ds = separableBlobs(new Rng(4), 100, 6, 0.05);
  const x = new Rng(5).fillNormal(new Float64Array(6));
  const g = new Float64Array(6);
  logisticLoss(ds, Float64Array.from(x, (v) => v * 1e6), g); // saturated sigmoids at a far-away point on the ray of x
  const perc = new Float64Array(6);
  for (let i = 0; i < ds.n; i++) {
    let m = 0;
    for (let j = 0; j < 6; j++) m += ds.X[i * 6 + j] * x[j];
    if (ds.y[i] * m <= 0) for (let j = 0; j < 6; j++) perc[j] += ds.y[i] * ds.X[i * 6 + j];
  }
  let dot = 0;
  for (let j = 0; j < 6; j++) dot += -g[j] * perc[j];
  const cos = dot / (Math.hypot(...g) * Math.hypot(...perc));
  assert.ok(cos > 0.9999, `cosine ${cos}`);
});

test('experiment runs on files, logs per-method traces and writes artifacts', async () => {
  const dir = tempDir();
  const ds = separableBlobs(new Rng(6), 60, 3, 0.1);
  const X: number[][] = [];
  for (let i = 0; i < ds.n; i++) X.push([...ds.X.slice(i * 3, i * 3 + 3)]);
  const p = join(dir, 'data.json');
  writeFileSync(p, JSON.stringify({ X, y: [...ds.y].map((v) => (v > 0 ? 1 : 0)) }));
  const run = await runForTest(normalizedLrgd, { dataX: p, gammas: [1, 100], maxIters: 5000 });
  const names = metricNames(run);
  for (const k of ['lrgd_g1/loss', 'normalized_g1/loss', 'perceptron/errors', 'wall_s']) assert.ok(names.has(k), `metric ${k}`);
  const iters = readNpy(run.artifacts.get('iterations_to_separate.npy')!);
  assert.deepEqual(iters.shape, [5]);
  assert.ok([...(iters.data as Float64Array)].every((v) => v > 0), 'every method separated the file data');
  assert.deepEqual(readNpy(run.artifacts.get('weights.npy')!).shape, [5, 3]);
  const methods = run.summary.methods as { name: string }[];
  assert.equal(methods.length, 5);
});

test('bad label file is rejected with a clear error', async () => {
  const dir = tempDir();
  const p = join(dir, 'data.json');
  writeFileSync(p, JSON.stringify({ X: [[1, 2], [3, 4]], y: [1, 3] }));
  await assert.rejects(runForTest(normalizedLrgd, { dataX: p }), /dataY: .*binary labels/);
});
