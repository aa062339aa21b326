import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Graph } from '../../../src/core/graph/graph';
import * as O from '../../../src/core/graph/ops';
import { writeNpy } from '../../../src/core/io/npy';
import { ParamScope, ParamStore } from '../../../src/core/nn/params';
import { compile } from '../../../src/core/runtime/session';
import { Rng } from '../../../src/core/rng';
import { icnnPotential, loadCleanSamples, lpn, lpnDenoiser, lpnSchema, samplePrior, trueProx } from '../../../src/lab/optimizers/lpn';
import { metricNames, runForTest, tempDir } from './helpers';

const small = { hidden: 8, layers: 2, batch: 32, steps: 20, evalEvery: 10, pnpSize: 12, pnpMeasurements: 10, pnpIterations: 20, samples: 200 };

test('lpn: ψ is convex in y once the z-weights are non-negative, and f = ∇ψ matches finite differences', async () => {
  const c = lpnSchema.parse({ ...small, beta: 1 }); // smooth enough for central differences
  const store = new ParamStore(new Rng(2));
  const g = new Graph();
  const y = g.input('y', 'float32', [64, 1]);
  const s = new ParamScope(g, store);
  const { f, psi } = lpnDenoiser(s, y, c);
  for (const n of store.names()) if (n.startsWith('icnn.wz')) store.get(n).data.forEach((v, i, a) => (a[i] = Math.abs(v)));
  const prog = await compile(g, { f, psi: O.reshape(psi, [64]) });
  const feeds: Record<string, Float32Array> = { y: Float32Array.from({ length: 64 }, (_, i) => -4 + (8 * i) / 63) };
  for (const n of s.used.keys()) feeds[n] = store.get(n).data;
  const out = await prog.run(feeds);
  const fy = out.f.data as Float32Array, ps = out.psi.data as Float32Array;
  const h = 8 / 63;
  for (let i = 1; i < 63; i++) {
    assert.ok(fy[i] >= fy[i - 1] - 1e-5, `f must be nondecreasing (∇ of a convex ψ), at ${i}`);
    const fd = (ps[i + 1] - ps[i - 1]) / (2 * h);
    assert.ok(Math.abs(fd - fy[i]) < 2e-2 * (1 + Math.abs(fy[i])), `f ≠ dψ/dy at ${i}: ${fy[i]} vs ${fd}`);
  }
  assert.ok(icnnPotential);
});

test('lpn: known priors and their MAP proxes', () => {
  assert.deepEqual(Array.from(trueProx([-3, -0.5, 0.2, 2], 1, 1)).map((v) => +v.toFixed(12) + 0), [-2, 0, 0, 1]);
  const p = trueProx([3, 4, 0.3, 0.4], 2, 1); // ‖(3,4)‖ = 5 → ×0.8; ‖(.3,.4)‖ < 1 → 0
  assert.deepEqual(Array.from(p).map((v) => +v.toFixed(12) + 0), [2.4, 3.2, 0, 0]);
  const x = samplePrior(new Rng(1), 20000, 1, 1);
  const meanAbs = x.reduce((a, v) => a + Math.abs(v), 0) / x.length;
  assert.ok(Math.abs(meanAbs - 1) < 0.03, `Laplace(0,1) mean |x| = ${meanAbs}`);
  const x2 = samplePrior(new Rng(1), 20000, 2, 1);
  let r = 0;
  for (let i = 0; i < 20000; i++) r += Math.hypot(x2[2 * i], x2[2 * i + 1]);
  assert.ok(Math.abs(r / 20000 - 2) < 0.05, `radial Laplace: E‖x‖ = 2b, got ${r / 20000}`);
});

test('lpn: data files are read and bad ones rejected with the field name', () => {
  const dir = tempDir();
  const good = join(dir, 'x.npy');
  writeNpy(good, Float64Array.from({ length: 100 }, (_, i) => i / 100));
  assert.equal(loadCleanSamples(lpnSchema.parse({ dataFile: good }), new Rng(0)).length, 100);
  assert.throws(() => loadCleanSamples(lpnSchema.parse({ dataFile: good, dim: 2 }), new Rng(0)), /dataFile: .* expected/);
  assert.throws(() => loadCleanSamples(lpnSchema.parse({ dataFile: join(dir, 'none.npy') }), new Rng(0)));
  assert.throws(() => lpnSchema.parse({ dim: 3 }));
});

test('lpn: a tiny run logs both denoisers, PnP residuals and writes artifacts', async () => {
  const run = await runForTest(lpn, small);
  const names = metricNames(run);
  for (const k of ['lpn/loss', 'mlp/loss', 'lpn/prox_error', 'mlp/prox_error', 'lpn/prior_error', 'lpn/pnp_residual', 'mlp/pnp_residual', 'ista/pnp_residual', 'wall_s']) assert.ok(names.has(k), `missing ${k}`);
  for (const a of ['prox_curves.npy', 'prior.npy', 'summary.json']) assert.ok(run.artifacts.has(a), `missing ${a}`);
  // ISTA with the exact prox converges: a reference that the PnP loop itself is right
  assert.ok((run.summary.ista_pnp_final_residual as number) < 1e-3);
});
