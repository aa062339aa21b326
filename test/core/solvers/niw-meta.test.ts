import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../../src/core/io/npy';
import { Rng } from '../../../src/core/rng';
import {
  adapt, initMlp, klGlobalGrad, loadEpisodes, localPosterior, mamlMetaGradient, mlp, mlpForward, mseAndGrad, niwMetaExperiment, sineLineEpisode,
} from '../../../src/core/solvers/niw-meta';
import { runInProcess } from '../../../src/lab/runs/context';

const net = mlp(4);
const p = initMlp(net, new Rng(3));
const xs = Float64Array.from([-2, -0.5, 1, 3]);
const ys = Float64Array.from([0.3, -1, 2, 0.5]);

test('MLP: MSE gradient and Gauss–Newton diagonal match finite differences', () => {
  const gn = new Float64Array(net.size);
  const { loss, grad } = mseAndGrad(net, p, xs, ys, gn);
  const mse = (q: Float64Array) => xs.reduce((a, x, n) => a + (mlpForward(net, q, x) - ys[n]) ** 2, 0) / xs.length;
  assert.ok(Math.abs(loss - mse(p)) < 1e-12);
  const h = 1e-6;
  const want = new Float64Array(net.size);
  for (let k = 0; k < net.size; k++) {
    const a = Float64Array.from(p);
    const b = Float64Array.from(p);
    a[k] += h;
    b[k] -= h;
    const fd = (mse(a) - mse(b)) / (2 * h);
    assert.ok(Math.abs(fd - grad[k]) < 1e-6 * (1 + Math.abs(fd)), `param ${k}: fd ${fd} vs ${grad[k]}`);
    // GN diagonal: (2/N) Σ_n (∂f_n/∂p_k)², with ∂f_n/∂p_k by finite differences
    let s = 0;
    for (const x of xs) s += ((mlpForward(net, a, x) - mlpForward(net, b, x)) / (2 * h)) ** 2;
    want[k] = (2 / xs.length) * s;
    assert.ok(Math.abs(want[k] - gn[k]) < 1e-6 * (1 + want[k]), `gn ${k}`);
  }
  // without the GN request the gradient is the same (up to summation order)
  mseAndGrad(net, p, xs, ys).grad.forEach((g, k) => assert.ok(Math.abs(g - grad[k]) < 1e-12 * (1 + Math.abs(g))));
});

test('NIW: the KL gradient with respect to (m₀, log s) matches finite differences', () => {
  const rng = new Rng(7);
  const st = { m0: rng.fillNormal(new Float64Array(5)), logS: rng.fillNormal(new Float64Array(5), -1, 0.5) };
  const m = rng.fillNormal(new Float64Array(5));
  const V = Float64Array.from({ length: 5 }, () => 0.1 + rng.uniform());
  const gM = new Float64Array(5);
  const gS = new Float64Array(5);
  const kl0 = klGlobalGrad(st, m, V, gM, gS, 1);
  assert.ok(kl0 > 0);
  const h = 1e-6;
  const kl = (s: typeof st) => klGlobalGrad(s, m, V, new Float64Array(5), new Float64Array(5), 1);
  for (let k = 0; k < 5; k++) {
    const up = { m0: Float64Array.from(st.m0), logS: st.logS };
    const dn = { m0: Float64Array.from(st.m0), logS: st.logS };
    up.m0[k] += h;
    dn.m0[k] -= h;
    assert.ok(Math.abs((kl(up) - kl(dn)) / (2 * h) - gM[k]) < 1e-6);
    const su = { m0: st.m0, logS: Float64Array.from(st.logS) };
    const sd = { m0: st.m0, logS: Float64Array.from(st.logS) };
    su.logS[k] += h;
    sd.logS[k] -= h;
    assert.ok(Math.abs((kl(su) - kl(sd)) / (2 * h) - gS[k]) < 1e-6);
  }
});

test('local posterior: zero steps keep m₀; a tight prior keeps m near m₀; variances below the prior', () => {
  const base = { noiseVar: 0.01, localSteps: 0, localLr: 0.01, metaLr: 0.001, metaBatch: 1, s0: 0.1, predictSamples: 1 };
  const st = { m0: p, logS: new Float64Array(net.size).fill(Math.log(0.1)) };
  const r0 = localPosterior(net, st, base, xs, ys);
  assert.deepEqual([...r0.m], [...p]);
  assert.ok(r0.V.every((v) => v <= 0.1 + 1e-15 && v > 0));
  const loose = localPosterior(net, st, { ...base, localSteps: 20 }, xs, ys);
  const tight = localPosterior(net, { m0: p, logS: new Float64Array(net.size).fill(Math.log(1e-4)) }, { ...base, localSteps: 20, localLr: 0.004 }, xs, ys);
  const moved = (m: Float64Array) => Math.sqrt(m.reduce((a, v, k) => a + (v - p[k]) ** 2, 0));
  assert.ok(moved(tight.m) < moved(loose.m));
  // MAML adaptation lowers the support loss
  const th = adapt(net, p, { innerSteps: 20, innerLr: 0.01, metaLr: 0, metaBatch: 1 }, xs, ys);
  assert.ok(mseAndGrad(net, th, xs, ys).loss < mseAndGrad(net, p, xs, ys).loss);
});

test('MAML meta-gradient: second order matches finite differences through the inner steps; first order does not', () => {
  const ep = sineLineEpisode(new Rng(3), 5, 5, 0);
  const h = { innerSteps: 3, innerLr: 0.05, metaLr: 0, metaBatch: 1, order: 'second' as const };
  const g2 = mamlMetaGradient(net, p, h, ep).grad;
  const g1 = mamlMetaGradient(net, p, { ...h, order: 'first' }, ep).grad;
  const L = (t: Float64Array) => mseAndGrad(net, adapt(net, t, h, ep.xs.subarray(0, 5), ep.ys.subarray(0, 5)), ep.xs.subarray(5), ep.ys.subarray(5)).loss;
  let err2 = 0;
  let err1 = 0;
  for (let k = 0; k < net.size; k++) {
    const a = Float64Array.from(p);
    const b = Float64Array.from(p);
    a[k] += 1e-6;
    b[k] -= 1e-6;
    const fd = (L(a) - L(b)) / 2e-6;
    err2 = Math.max(err2, Math.abs(fd - g2[k]) / (1 + Math.abs(fd)));
    err1 = Math.max(err1, Math.abs(fd - g1[k]) / (1 + Math.abs(fd)));
  }
  assert.ok(err2 < 1e-5, `second-order error ${err2}`);
  assert.ok(err1 > 1e-3, `first-order should differ (${err1})`);
});

test('NIW Newton-type local update lowers the local objective from m₀', () => {
  const st = { m0: p, logS: new Float64Array(net.size).fill(Math.log(0.1)) };
  const h = { noiseVar: 0.01, localSteps: 10, localLr: 0.01, metaLr: 0, metaBatch: 1, s0: 0.1, predictSamples: 1, localUpdate: 'newton' as const, newtonStep: 0.05, damping: 1 };
  const J = (m: Float64Array) => mseAndGrad(net, m, xs, ys).loss + (0.02 / xs.length) * m.reduce((a, v, k) => a + (v - p[k]) ** 2 / 0.1, 0);
  const { m } = localPosterior(net, st, h, xs, ys);
  assert.ok(J(m) < J(p));
});

test('experiment: both methods logged and saved; episodes from JSON/.npy files with clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'niw-'));
  const runsDir = join(dir, 'runs');
  const cfg = { hidden: 6, iterations: 30, testEpisodes: 10, evalEvery: 10 };
  const { dir: runDir, summary } = await runInProcess(niwMetaExperiment, { runsDir, config: cfg, seed: 2 });
  const s = summary as Record<string, number>;
  assert.ok(Number.isFinite(s.niw_test_mse) && Number.isFinite(s.maml_test_mse));
  const rows = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(rows.some((r) => 'niw/objective' in r) && rows.some((r) => 'maml/objective' in r));
  for (const f of ['niw_trace.npy', 'maml_trace.npy', 'niw_m0.npy', 'niw_prior_var.npy', 'summary.json']) assert.ok(existsSync(join(runDir, 'artifacts', f)), f);

  const rng = new Rng(4);
  const eps = Array.from({ length: 6 }, () => sineLineEpisode(rng, 10, 5, 0));
  const X = new Float64Array(6 * 15);
  const Y = new Float64Array(6 * 15);
  eps.forEach((e, i) => {
    X.set(e.xs, i * 15);
    Y.set(e.ys, i * 15);
  });
  writeNpy(join(dir, 'X.npy'), X, [6, 15]);
  writeNpy(join(dir, 'Y.npy'), Y, [6, 15]);
  writeFileSync(join(dir, 'e.json'), JSON.stringify({ testX: 'X.npy', testY: 'Y.npy', trainX: 'X.npy', trainY: 'Y.npy' }));
  const loaded = loadEpisodes(join(dir, 'e.json'), 'test', 10);
  assert.equal(loaded.length, 6);
  assert.deepEqual([...loaded[2].ys], [...eps[2].ys]);
  const r2 = await runInProcess(niwMetaExperiment, { runsDir, config: { ...cfg, problemFile: join(dir, 'e.json') } });
  assert.equal((r2.summary as Record<string, number>).test_episodes, 6);
  await assert.rejects(runInProcess(niwMetaExperiment, { runsDir, config: { ...cfg, problemFile: join(dir, 'e.json'), shots: 15 } }), /needs more than shots = 15/);
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ testX: 'X.npy', testY: [[1, 2]] }));
  await assert.rejects(runInProcess(niwMetaExperiment, { runsDir, config: { ...cfg, problemFile: join(dir, 'bad.json') } }), /field 'testY' has shape \(1, 2\), expected \(testEpisodes=6, testPoints=15\)/);
  writeFileSync(join(dir, 'missing.json'), JSON.stringify({ testX: 'X.npy' }));
  await assert.rejects(runInProcess(niwMetaExperiment, { runsDir, config: { ...cfg, problemFile: join(dir, 'missing.json') } }), /missing field 'testY'/);
});

test('claim (fast form) passes for seed 0', async () => {
  const r = await niwMetaExperiment.claim!.fast({ seed: 0 });
  assert.ok(r.pass, r.summary);
});
