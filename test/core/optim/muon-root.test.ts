import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../../src/core/graph/graph';
import { compile } from '../../../src/core/runtime/session';
import { rowJacobiSvd } from '../../../src/core/linalg/polar';
import { symmetricEigenvalues } from '../../../src/core/linalg/symmetric-eigen';
import { nelderMead } from '../../../src/core/linalg/nelder-mead';
import { MUON_NS_COEFFICIENTS, meanNsError, newtonSchulzGraph, normalizedSingularValues, nsCoefficientsFor, nsErrorFromSingularValues, randomMatrix, sampleSingularValues, fitNsCoefficients, FITTED_SHAPES } from '../../../src/core/optim/newton-schulz';
import { muon, newtonSchulzDense } from '../../../src/core/optim/muon';
import { quantileDense, quantileGraph, root, suppressOutliersDense } from '../../../src/core/optim/root';
import { spikeAt, spikeMasks, withGradientSpikes } from '../../../src/core/optim/gradient-spikes';
import { sgd } from '../../../src/core/optim/sgd';
import { Rng } from '../../../src/core/rng';

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

test('Jacobi SVD: polar factor has orthonormal rows, singular values match eig(AAᵀ)', () => {
  const rng = new Rng(3);
  const [m, n] = [5, 9];
  const a = randomMatrix(rng, m, n, 'gaussian');
  const { s, polar } = rowJacobiSvd(a, m, n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      let d = 0;
      for (let k = 0; k < n; k++) d += polar[i * n + k] * polar[j * n + k];
      assert.ok(Math.abs(d - (i === j ? 1 : 0)) < 1e-10, `row ${i}·row ${j} = ${d}`);
    }
  }
  const aat = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) for (let k = 0; k < n; k++) aat[i * m + j] += a[i * n + k] * a[j * n + k];
  const ev = Array.from(symmetricEigenvalues(aat, m)).sort((x, y) => y - x);
  ev.forEach((e, i) => assert.ok(Math.abs(Math.sqrt(e) - s[i]) < 1e-9, `σ${i}: ${s[i]} vs ${Math.sqrt(e)}`));
  // A·polarᵀ = U Σ Uᵀ is symmetric positive semidefinite
  const h = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) for (let k = 0; k < n; k++) h[i * m + j] += a[i * n + k] * polar[j * n + k];
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) assert.ok(Math.abs(h[i * m + j] - h[j * m + i]) < 1e-9);
  assert.throws(() => rowJacobiSvd(a, n, m), /rows ≤ cols/);
});

test('NS error from singular values equals the direct distance to the polar factor', () => {
  const rng = new Rng(4);
  for (const [r, c] of [[6, 10], [12, 7]] as const) {
    const g = randomMatrix(rng, r, c, 'gaussian');
    const x = newtonSchulzDense(g, r, c, MUON_NS_COEFFICIENTS, 5, 0);
    const t = r <= c ? g : Float64Array.from({ length: r * c }, (_, i) => g[(i % r) * c + Math.floor(i / r)]);
    const { polar } = rowJacobiSvd(t, Math.min(r, c), Math.max(r, c));
    let e = 0;
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) e += (x[i * c + j] - (r <= c ? polar[i * c + j] : polar[j * r + i])) ** 2;
    const direct = Math.sqrt(e / Math.min(r, c));
    const viaSv = nsErrorFromSingularValues(normalizedSingularValues(g, r, c), MUON_NS_COEFFICIENTS, 5);
    assert.ok(Math.abs(direct - viaSv) < 1e-9, `${r}x${c}: direct ${direct} vs singular-value form ${viaSv}`);
  }
});

test('graph Newton–Schulz and quantile agree with the dense references', async () => {
  const rng = new Rng(5);
  const [r, c] = [24, 10];
  const g = randomMatrix(rng, r, c, 'student-t');
  const gr = new Graph();
  const x = gr.input('x', 'float32', [r, c]);
  const p = await compile(gr, { ns: newtonSchulzGraph(x, [3.2, -3.6, 1.4], 5), q: quantileGraph(x, 0.9) });
  const out = await p.run({ x: Float32Array.from(g) });
  const ref = newtonSchulzDense(g, r, c, [3.2, -3.6, 1.4], 5);
  assert.ok(maxDiff(out.ns.data as Float32Array, ref) < 1e-4);
  assert.ok(Math.abs(Number(out.q.data[0]) - quantileDense(g, 0.9)) < 1e-5);
  // torch.quantile(linear) on a known vector
  assert.equal(quantileDense([1, 2, 3, 4, 5], 0.9), 4.6);
});

test('outlier suppression clips to the quantile of |U| (= U minus its soft-threshold)', () => {
  const u = Float64Array.from([0.1, -0.2, 0.3, 50, -40, 0.05, 0.15, -0.25, 0.2, 0.1]);
  const b = suppressOutliersDense(u, 0.8);
  const eps = quantileDense(Float64Array.from(u, Math.abs), 0.8);
  for (let i = 0; i < u.length; i++) {
    const soft = Math.sign(u[i]) * Math.max(Math.abs(u[i]) - eps, 0);
    assert.ok(Math.abs(b[i] - (u[i] - soft)) < 1e-12);
  }
  assert.ok(Math.max(...b.map(Math.abs)) <= eps + 1e-12);
});

test('fitted coefficients beat Muon on held-out matrices of every fitted shape; fitting improves on Muon', () => {
  const rng = new Rng(11);
  for (const [m, n] of FITTED_SHAPES.filter(([a]) => a <= 64)) {
    const s = sampleSingularValues(rng, m, n, 6);
    const muonErr = meanNsError(s, MUON_NS_COEFFICIENTS, 5);
    const rootErr = meanNsError(s, nsCoefficientsFor(m, n), 5);
    assert.ok(rootErr < 0.7 * muonErr, `${m}x${n}: fitted ${rootErr} vs Muon ${muonErr}`);
  }
  assert.deepEqual(nsCoefficientsFor(7, 3), MUON_NS_COEFFICIENTS);
  const s = sampleSingularValues(new Rng(2), 16, 48, 8);
  const fit = fitNsCoefficients(s, 5, MUON_NS_COEFFICIENTS, 300);
  assert.ok(fit.error < meanNsError(s, MUON_NS_COEFFICIENTS, 5));
});

test('Nelder–Mead minimizes the Rosenbrock function', () => {
  const r = nelderMead((x) => 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2, [-1.2, 1], { maxEvaluations: 2000, tol: 1e-14 });
  assert.ok(Math.abs(r.x[0] - 1) < 1e-3 && Math.abs(r.x[1] - 1) < 1e-3, `got ${r.x}`);
});

/** Runs an optimizer's graph form once and its in-place form once from the same state. */
async function compareForms(opt: ReturnType<typeof muon>, shape: number[], name: string) {
  const rng = new Rng(9);
  const n = shape.reduce((a, b) => a * b, 1);
  const p0 = Float32Array.from({ length: n }, () => rng.normal());
  const g0 = Float32Array.from({ length: n }, () => rng.normal() * (rng.uniform() < 0.05 ? 30 : 1));
  const st0: Record<string, Float32Array> = {};
  for (const k of opt.stateNames) st0[k] = Float32Array.from({ length: n }, () => 0.1 * rng.normal() ** 2);
  const sc = opt.scalars(3, 0.01);
  const gr = new Graph();
  const p = gr.input('p', 'float32', shape);
  const g = gr.input('g', 'float32', shape);
  const st: Record<string, ReturnType<Graph['input']>> = {};
  for (const k of opt.stateNames) st[k] = gr.input(`s.${k}`, 'float32', shape);
  const scT: Record<string, ReturnType<Graph['input']>> = {};
  for (const k of Object.keys(sc)) scT[k] = gr.input(`c.${k}`, 'float32', []);
  const u = opt.update(p, g, st, scT, name);
  const outs: Record<string, ReturnType<Graph['input']>> = { out: u.param };
  for (const k of opt.stateNames) outs[`out.${k}`] = u.state[k];
  const prog = await compile(gr, outs);
  const feeds: Record<string, Float32Array> = { p: p0, g: g0 };
  for (const k of opt.stateNames) feeds[`s.${k}`] = st0[k];
  for (const [k, v] of Object.entries(sc)) feeds[`c.${k}`] = Float32Array.of(v);
  const res = await prog.run(feeds);
  const pj = p0.slice();
  const sj: Record<string, Float32Array> = {};
  for (const k of opt.stateNames) sj[k] = st0[k].slice();
  opt.updateInPlace(pj, g0, sj, sc, name);
  assert.ok(maxDiff(res.out.data as Float32Array, pj) < 2e-5, `${opt.name} ${name}: param forms differ by ${maxDiff(res.out.data as Float32Array, pj)}`);
  for (const k of opt.stateNames) assert.ok(maxDiff(res[`out.${k}`].data as Float32Array, sj[k]) < 2e-5, `${opt.name} ${name}: state ${k} differs`);
  return { before: p0, after: pj };
}

test('Muon and ROOT: graph and in-place forms agree (matrix and aux-AdamW parameters)', async () => {
  const shapes: Record<string, number[]> = { 'model.layers.0.mlp.up_proj.weight': [12, 8], 'model.embed_tokens.weight': [10, 8], 'model.norm.weight': [8] };
  const shapeOf = (n: string) => shapes[n];
  for (const opt of [muon({ shapeOf, weightDecay: 0.1 }), root({ shapeOf, weightDecay: 0.1 }), muon({ shapeOf, momentumForm: 'ema', lrScale: 'keller', nesterov: false })]) {
    for (const [name, shape] of Object.entries(shapes)) await compareForms(opt, shape, name);
  }
  assert.throws(() => muon().updateInPlace(new Float32Array(4), new Float32Array(4), { momentum_buffer: new Float32Array(4), exp_avg: new Float32Array(4), exp_avg_sq: new Float32Array(4) }, muon().scalars(1, 0.1), 'w'), /shapeOf/);
});

test('ROOT ignores the outlier entries of a spiked gradient, Muon does not', async () => {
  const shapes: Record<string, number[]> = { 'w': [16, 32] };
  const rng = new Rng(21);
  const n = 16 * 32;
  const clean = Float32Array.from({ length: n }, () => rng.normal());
  const spiked = clean.map((v, i) => (i % 97 === 0 ? v * 200 : v));
  const stepOf = (opt: ReturnType<typeof root>, g: Float32Array) => {
    const p = new Float32Array(n);
    const st: Record<string, Float32Array> = {};
    for (const k of opt.stateNames) st[k] = new Float32Array(n);
    opt.updateInPlace(p, g, st, opt.scalars(1, 1), 'w');
    return p;
  };
  const cos = (a: Float32Array, b: Float32Array) => {
    let d = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) [d, na, nb] = [d + a[i] * b[i], na + a[i] ** 2, nb + b[i] ** 2];
    return d / Math.sqrt(na * nb);
  };
  const r = root({ shapeOf: (k) => shapes[k] }), m = muon({ shapeOf: (k) => shapes[k] });
  const rootCos = cos(stepOf(r, clean), stepOf(r, spiked));
  const muonCos = cos(stepOf(m, clean), stepOf(m, spiked));
  assert.ok(rootCos > 0.9 && rootCos > muonCos + 0.2, `direction kept under spikes: ROOT cos ${rootCos}, Muon cos ${muonCos}`);
});

test('gradient spikes: deterministic, the requested fraction, graph = in-place', async () => {
  const o = { probability: 0.5, fraction: 0.1, scale: 50, seed: 3 };
  const m = spikeMasks('w', 4000, o);
  assert.deepEqual(m, spikeMasks('w', 4000, o));
  const frac = m[0].reduce((a, b) => a + b, 0) / 4000;
  assert.ok(Math.abs(frac - 0.1) < 0.02, `fraction ${frac}`);
  const on = Array.from({ length: 400 }, (_, t) => spikeAt(t + 1, o) >= 0).filter(Boolean).length;
  assert.ok(on > 150 && on < 250, `spiking steps ${on}/400`);
  const t = Array.from({ length: 50 }, (_, i) => i + 1).find((s) => spikeAt(s, o) >= 0)!;
  const opt = withGradientSpikes(sgd({}), o);
  const gr = new Graph();
  const p = gr.input('p', 'float32', [40]);
  const g = gr.input('g', 'float32', [40]);
  const sc = opt.scalars(t, 1);
  const scT = Object.fromEntries(Object.keys(sc).map((k) => [k, gr.input(`c.${k}`, 'float32', [])]));
  const prog = await compile(gr, { out: opt.update(p, g, {}, scT, 'w').param });
  const feeds: Record<string, Float32Array> = { p: new Float32Array(40), g: new Float32Array(40).fill(1) };
  for (const [k, v] of Object.entries(sc)) feeds[`c.${k}`] = Float32Array.of(v);
  const res = (await prog.run(feeds)).out.data as Float32Array;
  const pj = new Float32Array(40);
  opt.updateInPlace(pj, new Float32Array(40).fill(1), {}, sc, 'w');
  assert.ok(maxDiff(res, pj) < 1e-6);
  assert.ok(pj.some((v) => v === -50), 'some entries spiked ×50');
});
