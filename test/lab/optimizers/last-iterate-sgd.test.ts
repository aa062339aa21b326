import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeNpy } from '../../../src/core/io/npy';
import { Rng } from '../../../src/core/rng';
import {
  compositeObjective,
  distanceOverLipschitz,
  hingeDualBound,
  hingeReference,
  lastIterateSgd,
  lastIterateSweep,
  noisyLinearData,
  proxElasticNet,
  referenceOptimum,
  studentT,
  withinRate,
  type CompositeProblem,
} from '../../../src/lab/optimizers/last-iterate-sgd';
import { finiteDiffGrad, maxAbsDiff, metricNames, runForTest, tempDir } from './helpers';

test('smooth part gradient matches finite differences (logistic)', () => {
  const ds = noisyLinearData(new Rng(1), 30, 4, 0.1);
  const p: CompositeProblem = { ds, loss: 'logistic', l1: 0, mu: 0 };
  const x = new Rng(2).fillNormal(new Float64Array(4));
  const g = new Float64Array(4);
  compositeObjective(p, x, g);
  assert.ok(maxAbsDiff(g, finiteDiffGrad((v) => compositeObjective(p, v), x)) < 1e-7);
});

test('elastic-net prox minimizes ½‖u − v‖² + η(λ₁‖u‖₁ + μ/2‖u‖²)', () => {
  const rng = new Rng(3);
  const v = rng.fillNormal(new Float64Array(8));
  v[0] = 0.1; // below the threshold ηλ₁ = 0.35
  const [eta, l1, mu] = [0.7, 0.5, 0.3];
  const u = proxElasticNet(Float64Array.from(v), eta, l1, mu);
  const obj = (w: Float64Array) => {
    let s = 0;
    for (let j = 0; j < w.length; j++) s += 0.5 * (w[j] - v[j]) ** 2 + eta * (l1 * Math.abs(w[j]) + 0.5 * mu * w[j] ** 2);
    return s;
  };
  const f0 = obj(u);
  for (let k = 0; k < 200; k++) {
    const w = Float64Array.from(u, (x) => x + 0.05 * rng.normal());
    assert.ok(obj(w) >= f0 - 1e-12);
  }
  assert.ok(u.some((x) => x === 0), 'soft-thresholding zeroes small entries');
});

test('Student-t noise has unit variance scale and heavier tails than a Gaussian', () => {
  const rng = new Rng(4);
  let big = 0;
  let absSum = 0;
  const N = 40000;
  for (let i = 0; i < N; i++) {
    const t = studentT(rng, 2.5);
    absSum += Math.abs(t);
    if (Math.abs(t) > 4) big++;
  }
  // Gaussian: P(|z| > 4) ≈ 6e-5; unit-variance t(2.5) has ≈ 4e-3
  assert.ok(big / N > 1e-3, `tail fraction ${big / N}`);
  assert.ok(absSum / N > 0.5 && absSum / N < 0.8, `mean |t| ${absSum / N}`);
});

test('FISTA reference optimum is below SGD iterates and stationary', () => {
  const ds = noisyLinearData(new Rng(5), 200, 5, 0.1);
  const p: CompositeProblem = { ds, loss: 'logistic', l1: 0.01, mu: 0 };
  const { fStar, xStar } = referenceOptimum(p, 2000);
  const rng = new Rng(6);
  for (let k = 0; k < 50; k++) {
    const w = Float64Array.from(xStar, (x) => x + 0.01 * rng.normal());
    assert.ok(compositeObjective(p, w) >= fStar - 1e-10);
  }
});

test('experiment runs on .npy data (hinge loss), logs last/average gaps, writes artifacts', async () => {
  const dir = tempDir();
  const ds = noisyLinearData(new Rng(7), 100, 5, 0.1);
  writeNpy(join(dir, 'X.npy'), ds.X, [100, 5]);
  writeNpy(join(dir, 'y.npy'), ds.y);
  const run = await runForTest(lastIterateSgd, { dataX: join(dir, 'X.npy'), dataY: join(dir, 'y.npy'), loss: 'hinge', horizons: [50, 200], repeats: 2, referenceIters: 300 });
  const names = metricNames(run);
  for (const k of ['last/objective_gap', 'average/objective_gap', 'wall_s']) assert.ok(names.has(k));
  assert.equal(run.metrics.length, 2);
  assert.ok(run.artifacts.has('gaps.npy') && run.artifacts.has('summary.json'));
  const gaps = run.summary.last_gap as number[];
  assert.ok(gaps.every((g) => g >= 0));
});

test('wrong-shaped y file gives a clear error', async () => {
  const dir = tempDir();
  writeNpy(join(dir, 'X.npy'), new Float64Array(12), [4, 3]);
  writeNpy(join(dir, 'y.npy'), Float64Array.from([1, -1, 1]));
  await assert.rejects(runForTest(lastIterateSgd, { dataX: join(dir, 'X.npy'), dataY: join(dir, 'y.npy') }), /dataY: .*3 targets but X has 4 rows/);
});

test('strongly-convex schedule without μ is rejected', async () => {
  await assert.rejects(runForTest(lastIterateSgd, { n: 50, d: 3, schedule: 'strongly-convex', horizons: [10, 20] }), /need mu > 0/);
});

test('hinge reference: PDHG matches the exact 1-D minimum (a convex piecewise-linear F is minimal at a kink)', () => {
  const ds = noisyLinearData(new Rng(11), 60, 1, 0.2);
  const p: CompositeProblem = { ds, loss: 'hinge', l1: 0.05, mu: 0 };
  const kinks = [0, ...Array.from(ds.X, (a, i) => 1 / (ds.y[i] * a))];
  const exact = Math.min(...kinks.map((x) => compositeObjective(p, Float64Array.of(x))));
  const ref = hingeReference(p, { maxIters: 50000, tol: 1e-10 });
  assert.ok(Math.abs(ref.fStar - exact) < 1e-8, `PDHG ${ref.fStar} vs exact ${exact}`);
  assert.ok(ref.lowerBound <= exact + 1e-12 && exact - ref.lowerBound < 1e-8, `lower bound ${ref.lowerBound}`);
});

for (const mu of [0, 0.3]) {
  test(`hinge reference (μ = ${mu}): certified duality gap, below perturbed points and SGD iterates`, () => {
    const ds = noisyLinearData(new Rng(12), 300, 10, 0.1);
    const p: CompositeProblem = { ds, loss: 'hinge', l1: 0.01, mu };
    const ref = referenceOptimum(p, 3000);
    assert.ok(ref.lowerBound !== undefined && ref.fStar - ref.lowerBound <= 1e-8 * Math.max(1, ref.fStar), `certificate ${ref.fStar - ref.lowerBound!}`);
    const rng = new Rng(13);
    for (let k = 0; k < 50; k++) {
      const w = Float64Array.from(ref.xStar, (x) => x + 0.05 * rng.normal());
      assert.ok(compositeObjective(p, w) >= ref.lowerBound!);
    }
    // weak duality holds for arbitrary dual weights, and is not trivially −∞
    for (let k = 0; k < 20; k++) {
      const alpha = Float64Array.from({ length: 300 }, () => rng.uniform());
      assert.ok(hingeDualBound(p, alpha) <= ref.fStar + 1e-12);
    }
    assert.ok(hingeDualBound(p, new Float64Array(300).fill(0.5)) > 0);
  });
}

test('Lipschitz step rule η = D/G and the hinge sweep: last-iterate gap within log T/√T, slope near −1/2', () => {
  const ds = noisyLinearData(new Rng(14), 300, 10, 0.1);
  const p: CompositeProblem = { ds, loss: 'hinge', l1: 1e-3, mu: 0 };
  const noise = { kind: 'none' as const, scale: 0, nu: 2.5 };
  const ref = referenceOptimum(p, 3000);
  const eta = distanceOverLipschitz(p, ref.xStar, noise);
  let rowSq = 0;
  for (const v of ds.X) rowSq += v * v;
  assert.ok(Math.abs(eta - Math.hypot(...ref.xStar) / Math.sqrt(rowSq / 300)) < 1e-12);
  const r = lastIterateSweep(p, { horizons: [200, 800, 3200], repeats: 4, schedule: 'auto', eta: 0, t0: 0, noise, referenceIters: 3000, reference: ref }, new Rng(15));
  assert.equal(r.schedule.kind, 'horizon');
  assert.ok(Math.abs(r.schedule.eta - eta) < 1e-12);
  assert.ok(r.lastGap.every((g) => g > 0));
  assert.ok(withinRate(r, false, 2).ok, `gap/rate ${withinRate(r, false, 2).normalized}`);
  assert.ok(r.lastSlope < -0.3 && r.lastSlope > -1.2, `slope ${r.lastSlope}`);
});

test('D/G rule refuses a zero reference optimum', () => {
  const ds = noisyLinearData(new Rng(16), 50, 3, 0.1);
  const p: CompositeProblem = { ds, loss: 'hinge', l1: 10, mu: 0 }; // λ₁ so large that x* = 0
  assert.throws(() => distanceOverLipschitz(p, referenceOptimum(p, 500).xStar, { kind: 'none', scale: 0, nu: 2.5 }), /eta: .*x\* = 0/);
});

test('experiment: generated hinge SVM with the D/G step rule reports the certified reference', async () => {
  const run = await runForTest(lastIterateSgd, { n: 200, d: 5, loss: 'hinge', eta: 0, horizons: [100, 400], repeats: 2 });
  const s = run.summary as { reference_f_star: number; reference_lower_bound: number; f_star: number; schedule: { eta: number } };
  assert.ok(s.reference_lower_bound <= s.reference_f_star && s.reference_f_star - s.reference_lower_bound < 1e-6);
  assert.ok(s.f_star <= s.reference_f_star && s.schedule.eta > 0);
});
