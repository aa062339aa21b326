import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeNpy } from '../../../src/core/io/npy';
import { Rng } from '../../../src/core/rng';
import { noisyLinearData } from '../../../src/lab/optimizers/last-iterate-sgd';
import { logisticOptimum, logisticProblem, lrRefine, medianFilterNorms, mlpProblem, namedSchedule, refineSchedule, sgdWithSchedule, teacherData, trainWithSchedule, tunePeakLr } from '../../../src/lab/optimizers/lr-refine';
import { readNpy } from '../../../src/core/io/npy';
import { finiteDiffGrad, maxAbsDiff, metricNames, runForTest, tempDir } from './helpers';

test('refinement of constant gradient norms is exactly linear decay', () => {
  const T = 50;
  const r = refineSchedule(new Float64Array(T).fill(2), { medianWidthFrac: 0, baseLr: 0.5 });
  const lin = namedSchedule('linear', T, 0.5);
  // η_t ∝ (T − 1 − t) for t = 0..T−1 (zero at the last step): linear decay shifted by one step
  for (let t = 0; t < T; t++) assert.ok(Math.abs(r[t] - (0.5 * (T - 1 - t)) / (T - 1)) < 1e-12);
  assert.ok(Math.abs(r[0] - lin[0]) < 1e-12);
});

test('decreasing gradient norms give an emergent warm-up; spikes are median-filtered', () => {
  const T = 200;
  const g = Float64Array.from({ length: T }, (_, t) => 1 / (1 + t / 20));
  const r = refineSchedule(g, { medianWidthFrac: 0.1, baseLr: 1 });
  const peak = r.indexOf(Math.max(...r));
  assert.ok(peak > 10 && peak < T - 1, `peak at ${peak}`);
  assert.ok(r[0] < 0.5 && r[T - 1] === 0);
  const spiky = new Float64Array(T).fill(1);
  spiky[100] = 100;
  const smooth = refineSchedule(spiky, { medianWidthFrac: 0.1, baseLr: 1 });
  assert.ok(maxAbsDiff(smooth, refineSchedule(new Float64Array(T).fill(1), { medianWidthFrac: 0.1, baseLr: 1 })) < 1e-12);
  assert.throws(() => refineSchedule([1, 0, 1], { medianWidthFrac: 0, baseLr: 1 }), /gradient norm 1 is 0/);
});

test("median filter of the norms matches the authors' README (scipy median_filter mode='nearest' after reflect-padding the end)", () => {
  // reference values from scipy 1.17: median_filter(np.pad(g, (0, 2w), mode='reflect'), size=w, mode='nearest')[:-2w]
  assert.deepEqual([...medianFilterNorms([9, 1, 2, 3, 4, 5, 6, 7, 8, 10], 5, 'nearest')], [9, 3, 3, 3, 4, 5, 6, 7, 8, 8]);
  assert.deepEqual([...medianFilterNorms([4, 1, 7, 2, 9, 3, 3, 8], 3, 'nearest')], [4, 4, 2, 7, 3, 3, 3, 3]);
  // 'clip' shrinks the window at the start: [9, 1, 2] and [9, 1, 2, 3]
  assert.deepEqual([...medianFilterNorms([9, 1, 2, 3, 4, 5, 6, 7, 8, 10], 5, 'clip')].slice(0, 3), [2, 2.5, 3]);
  // a large first norm lowers the start of the refined schedule only with 'nearest' (more warm-up)
  const T = 100;
  const g = new Float64Array(T).fill(1);
  g[0] = 50;
  const near = refineSchedule(g, { medianWidthFrac: 0.1, baseLr: 1 });
  const clip = refineSchedule(g, { medianWidthFrac: 0.1, baseLr: 1, startPadding: 'clip' });
  assert.ok(maxAbsDiff(clip, refineSchedule(new Float64Array(T).fill(1), { medianWidthFrac: 0.1, baseLr: 1 })) < 1e-12);
  // window 11: at t = 0 it holds g_0 and its 5 copies (6 of 11), so ĝ_0 = 50 and ω_0 = 1/2500; from t = 1 on ĝ = 1
  assert.equal(clip[0], 1);
  assert.ok(near[0] < 1e-3, `near[0] = ${near[0]}`);
  assert.equal(near.indexOf(1), 1);
  for (let t = 1; t < T; t++) assert.ok(Math.abs(near[t] - (T - 1 - t) / (T - 2)) < 1e-12);
});

test('multiplying by the smoothed norm keeps linear decay for constant norms and moves the peak earlier for falling norms', () => {
  const T = 200;
  const flat = refineSchedule(new Float64Array(T).fill(3), { medianWidthFrac: 0, baseLr: 1, multiplyByNorm: true });
  assert.ok(maxAbsDiff(flat, refineSchedule(new Float64Array(T).fill(3), { medianWidthFrac: 0, baseLr: 1 })) < 1e-12);
  const g = Float64Array.from({ length: T }, (_, t) => 1 / (1 + t / 20));
  const closed = refineSchedule(g, { medianWidthFrac: 0, baseLr: 1 });
  const mul = refineSchedule(g, { medianWidthFrac: 0, baseLr: 1, multiplyByNorm: true });
  assert.ok(mul.indexOf(Math.max(...mul)) < closed.indexOf(Math.max(...closed)));
  // η_t ∝ g_t⁻¹ Σ_{s>t} g_s⁻² exactly
  const ref = Float64Array.from({ length: T }, (_, t) => { let tail = 0; for (let s = t + 1; s < T; s++) tail += 1 / (g[s] * g[s]); return tail / g[t]; });
  const top = Math.max(...ref);
  assert.ok(maxAbsDiff(mul, ref.map((v) => v / top)) < 1e-12);
});

test('Adam refinement (power 1): constant norms give linear decay, otherwise η_t ∝ ĝ_t⁻¹ Σ_{s>t} ĝ_s⁻¹', () => {
  const T = 120;
  const flat = refineSchedule(new Float64Array(T).fill(7), { medianWidthFrac: 0, baseLr: 2, power: 1 });
  for (let t = 0; t < T; t++) assert.ok(Math.abs(flat[t] - (2 * (T - 1 - t)) / (T - 1)) < 1e-12);
  const g = Float64Array.from({ length: T }, (_, t) => 1 + t / 10); // rising norms: rapid annealing
  const r = refineSchedule(g, { medianWidthFrac: 0, baseLr: 1, power: 1 });
  const ref = Float64Array.from({ length: T }, (_, t) => { let tail = 0; for (let s = t + 1; s < T; s++) tail += 1 / g[s]; return tail / g[t]; });
  const top = Math.max(...ref);
  assert.ok(maxAbsDiff(r, ref.map((v) => v / top)) < 1e-12);
  // ω = ĝ⁻¹ reacts less than ω = ĝ⁻² to falling norms: its peak comes earlier
  const falling = Float64Array.from({ length: T }, (_, t) => 1 / (1 + t / 20));
  const p1 = refineSchedule(falling, { medianWidthFrac: 0, baseLr: 1, power: 1 });
  const p2 = refineSchedule(falling, { medianWidthFrac: 0, baseLr: 1, power: 2 });
  assert.ok(p1.indexOf(1) < p2.indexOf(1), `peaks ${p1.indexOf(1)} vs ${p2.indexOf(1)}`);
});

test('peak-lr tuning extends the grid off its edges until the best lr is interior', async () => {
  const calls: number[] = [];
  const f = (lr: number) => (calls.push(lr), (Math.log2(lr) - 4) ** 2); // best at 16
  const up = await tunePeakLr(f, [1, 2, 4], 6);
  assert.equal(up.bestLr, 16);
  assert.deepEqual(up.lrs, [1, 2, 4, 8, 16, 32]);
  assert.equal(up.atEdge, false);
  assert.equal(calls.length, 6);
  const down = await tunePeakLr((lr) => (Math.log2(lr) + 3) ** 2, [1, 2, 4], 6); // best at 1/8
  assert.equal(down.bestLr, 0.125);
  assert.deepEqual(down.lrs, [0.0625, 0.125, 0.25, 0.5, 1, 2, 4]);
  const capped = await tunePeakLr(f, [1, 2], 1);
  assert.equal(capped.bestLr, 4);
  assert.equal(capped.atEdge, true);
  assert.equal((await tunePeakLr(f, [8, 16, 32], 6)).lrs.length, 3);
});

test('logistic F* by Newton is below what long gradient descent reaches and within 1e-9 of it; separable data are rejected', () => {
  const ds = noisyLinearData(new Rng(11), 200, 5, 0.15);
  const p = logisticProblem(ds);
  const fStar = logisticOptimum(p, ds);
  const w = new Float64Array(5);
  const g = new Float64Array(5);
  for (let it = 0; it < 20000; it++) {
    p.loss(w, g);
    for (let j = 0; j < 5; j++) w[j] -= 1 * g[j];
  }
  const fGd = p.loss(w);
  assert.ok(fStar <= fGd + 1e-12 && fGd - fStar < 1e-9, `F* ${fStar}, GD ${fGd}`);
  assert.equal(p.optimum!(), fStar);
  const sep = noisyLinearData(new Rng(12), 40, 2, 0);
  assert.throws(() => logisticOptimum(logisticProblem(sep), sep), /separable/);
});

test('Adam training (core AdamW, no decay): first step moves every coordinate by ≈ lr; ℓ1 norms ≥ ℓ2 norms; the loss falls', () => {
  const p = logisticProblem(noisyLinearData(new Rng(13), 300, 6, 0.05));
  const one = trainWithSchedule(p, Float64Array.of(0.01), 'adam', 16, new Rng(14));
  for (const v of one.params) assert.ok(Math.abs(Math.abs(v) - 0.01) < 1e-6, `step ${v}`);
  const r = trainWithSchedule(p, namedSchedule('linear', 300, 0.05), 'adam', 16, new Rng(15));
  assert.ok(r.finalLoss < Math.LN2 * 0.8, `final loss ${r.finalLoss}`);
  for (let t = 0; t < 300; t++) assert.ok(r.gradNormsL1[t] >= r.gradNorms[t] - 1e-15);
});

test('named schedules: cosine and linear start at the base lr and decay', () => {
  const c = namedSchedule('cosine', 10, 2);
  assert.equal(c[0], 2);
  assert.ok(c[9] < 0.1 && c[9] > 0);
  assert.deepEqual([...namedSchedule('constant', 3, 0.1)], [0.1, 0.1, 0.1]);
});

test('named schedules with warm-up ramp linearly to the base lr, then decay over the remaining steps', () => {
  const lin = namedSchedule('linear', 50, 2, 10);
  assert.equal(lin[0], 0.2);
  assert.equal(lin[9], 2);
  assert.equal(lin[10], 2);
  assert.ok(Math.abs(lin[49] - 2 / 40) < 1e-12);
  const cos = namedSchedule('cosine', 50, 2, 10);
  assert.equal(cos[4], 1);
  assert.equal(cos[10], 2);
  assert.ok(Math.abs(cos[30] - 1) < 1e-12);
  assert.deepEqual([...namedSchedule('constant', 4, 1, 2)], [0.5, 1, 1, 1]);
  assert.throws(() => namedSchedule('linear', 5, 1, 5), /warmup 5 must be in \[0, T = 5\)/);
});

test('logistic and MLP gradients match finite differences', () => {
  const lds = noisyLinearData(new Rng(1), 20, 4, 0.1);
  const lp = logisticProblem(lds);
  const w = new Rng(2).fillNormal(new Float64Array(4));
  const g = new Float64Array(4);
  lp.loss(w, g);
  assert.ok(maxAbsDiff(g, finiteDiffGrad((x) => lp.loss(x), w)) < 1e-7);
  const mds = teacherData(new Rng(3), 15, 3, 0.1);
  const mp = mlpProblem(mds, 4);
  const p = mp.init(new Rng(4));
  p.forEach((_, i) => (p[i] += 0.1 * Math.sin(i))); // nonzero output weights and biases
  const gm = new Float64Array(mp.dim);
  mp.loss(p, gm, [0, 3, 7, 9]);
  assert.ok(maxAbsDiff(gm, finiteDiffGrad((x) => mp.loss(x, undefined, [0, 3, 7, 9]), p)) < 1e-7);
});

test('SGD with a schedule decreases the training loss and records one gradient norm per step', () => {
  const p = logisticProblem(noisyLinearData(new Rng(5), 300, 5, 0.05));
  const r = sgdWithSchedule(p, namedSchedule('linear', 200, 0.5), 16, new Rng(6));
  assert.equal(r.gradNorms.length, 200);
  assert.ok(r.finalLoss < Math.LN2 * 0.8, `final loss ${r.finalLoss}`);
});

test('experiment on .npy data logs every schedule per model and writes the schedules', async () => {
  const dir = tempDir();
  const ds = noisyLinearData(new Rng(7), 120, 4, 0.1);
  writeNpy(join(dir, 'X.npy'), ds.X, [120, 4]);
  writeNpy(join(dir, 'y.npy'), Float64Array.from(ds.y, (v) => (v > 0 ? 1 : 0)));
  const run = await runForTest(lrRefine, { dataX: join(dir, 'X.npy'), dataY: join(dir, 'y.npy'), steps: 60, sgdLrs: [0.3, 1], adamLrs: [0.01, 0.03], maxGridExtensions: 1, seeds: 1, hidden: 4, lm: false });
  const names = metricNames(run);
  for (const m of ['logistic-sgd', 'logistic-adam', 'mlp-sgd', 'mlp-adam']) for (const s of ['constant', 'cosine', 'linear', 'refined']) assert.ok(names.has(`${m}/${s}/final_loss`), `${m}/${s}`);
  assert.deepEqual(readNpy(run.artifacts.get('mlp-adam_schedules.npy')!).shape, [5, 60]);
  await assert.rejects(runForTest(lrRefine, { dataX: join(dir, 'X.npy'), dataY: join(dir, 'nope.npy') }), /dataY: .*nope.npy.*cannot read/);
});
