import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng';
import {
  barsDictionary, buildTemplates, matchDictionary, runTruncatedEm, schedule, truncationFactors,
} from '../../../src/core/solvers/prosper-engine';
import { LinearEtModel, generateLinear, initLinear } from '../../../src/core/solvers/prosper-linear';
import { GscEtModel } from '../../../src/core/solvers/prosper-gsc';
import { McaEtModel, generateMca } from '../../../src/core/solvers/prosper-mca';
import { l1SparseCoding, nmf } from '../../../src/core/solvers/prosper-baselines';
import { prosperBscExperiment } from '../../../src/core/solvers/prosper-bsc';
import { prosperDscExperiment } from '../../../src/core/solvers/prosper-dsc';
import { runInProcess } from '../../../src/lab/runs/context';
import { writeNpy } from '../../../src/core/io/npy';
import { choleskyInPlace, choleskyLogDet, solveSpd } from '../../../src/core/linalg/cholesky';

test('truncated state space: 221 states per point for H = 10, H′ = 8, γ = 5 (as in ProSper)', () => {
  const t = buildTemplates(8, 5, 1);
  assert.equal(1 + 10 + t.count, 221);
  const tern = buildTemplates(3, 2, 2); // C(3,2)·2² = 12 ternary pair states
  assert.equal(tern.count, 12);
  const seen = new Set<string>();
  for (let i = 0; i < tern.count; i++) seen.add(`${tern.slots[i * 2]},${tern.slots[i * 2 + 1]}:${tern.vals[i * 2]},${tern.vals[i * 2 + 1]}`);
  assert.equal(seen.size, 12);
});

test('truncation factors, annealing schedule, bars dictionary', () => {
  const { A, B } = truncationFactors(10, 10, 0.2);
  assert.ok(Math.abs(A - 1) < 1e-12 && Math.abs(B - 2) < 1e-12); // untruncated: total mass 1, mean count Hπ
  const t = truncationFactors(10, 2, 0.2);
  assert.ok(t.A < 1 && t.B < 2);
  assert.equal(schedule([[0, 2], [0.7, 1]], 0), 2);
  assert.ok(Math.abs(schedule([[0, 2], [0.7, 1]], 0.35) - 1.5) < 1e-12);
  assert.equal(schedule([[0, 2], [0.7, 1]], 1), 1);
  const W = barsDictionary(3, 10);
  for (let h = 0; h < 6; h++) {
    let s = 0;
    for (let d = 0; d < 9; d++) s += W[d * 6 + h];
    assert.equal(s, 30); // each bar covers `size` pixels
  }
});

test('matchDictionary is permutation-invariant and sign-aware', () => {
  const D = 9, H = 6;
  const W = barsDictionary(3, 1);
  const perm = [3, 0, 5, 1, 4, 2];
  const P = new Float64Array(D * H);
  for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) P[d * H + perm[h]] = (h === 2 ? -2 : 2) * W[d * H + h];
  const signed = matchDictionary(P, H, W, H, D, 0.95, false);
  assert.ok(signed.recovered < 6); // the negated atom has cosine −1 with its bar
  const inv = matchDictionary(P, H, W, H, D, 0.95, true);
  assert.equal(inv.recovered, 6);
  assert.ok(inv.maeScaled < 1e-12 && Math.abs(inv.meanCosine - 1) < 1e-12);
  assert.deepEqual(inv.assignment, perm);
});

test('linear model log-likelihood equals the dense Gaussian formula', () => {
  const rng = new Rng(4);
  const D = 5, H = 4;
  const W = rng.fillNormal(new Float64Array(D * H));
  const model = new LinearEtModel({ D, H, values: [-1, 1], priorMode: 'shared', absSelection: true, name: 'tsc' });
  const p = { W, prior: Float64Array.from([0.1, 0.1]), sigma: 1.3 };
  model.prepare(p, { T: 1, ncut: 0, step: 0, steps: 1 });
  const y = rng.fillNormal(new Float64Array(D));
  model.preparePoint(y, p);
  const u = Int32Array.from([0, 2]), v = Int32Array.from([1, 0]); // s = (1, 0, −1, 0)
  let r = 0;
  for (let d = 0; d < D; d++) r += (y[d] - W[d * H] + W[d * H + 2]) ** 2;
  const expect = -0.5 * D * Math.log(2 * Math.PI * 1.69) - r / (2 * 1.69);
  assert.ok(Math.abs(model.logLik(2, u, v) - expect) < 1e-10);
  assert.ok(Math.abs(model.logPrior(2, u, v) - (2 * Math.log(0.1) + 2 * Math.log(0.8))) < 1e-12);
});

test('GSC marginal log-likelihood (Woodbury) equals the dense N(Wμ, σ²I + WΨWᵀ) density', () => {
  const rng = new Rng(5);
  const D = 6, H = 5;
  const W = rng.fillNormal(new Float64Array(D * H));
  const p = { W, pi: 0.3, mu: Float64Array.from([1, -0.5, 2, 0.3, 1]), psi2: Float64Array.from([0.5, 1, 2, 1.5, 0.7]), sigma2: 0.8 };
  const model = new GscEtModel(D, H);
  model.prepare(p, { T: 1, ncut: 0, step: 0, steps: 1 });
  const y = rng.fillNormal(new Float64Array(D));
  model.preparePoint(y, p);
  const K = [1, 3, 4];
  const C = new Float64Array(D * D), m = new Float64Array(D);
  for (let a = 0; a < D; a++) {
    for (const h of K) m[a] += W[a * H + h] * p.mu[h];
    for (let b = 0; b < D; b++) {
      let s = a === b ? p.sigma2 : 0;
      for (const h of K) s += W[a * H + h] * p.psi2[h] * W[b * H + h];
      C[a * D + b] = s;
    }
  }
  const r = y.map((v, a) => v - m[a]);
  const x = solveSpd(C, D, r);
  const quad = r.reduce((acc, v, a) => acc + v * x[a], 0);
  const logDet = choleskyLogDet(choleskyInPlace(Float64Array.from(C), D), D);
  const dense = -0.5 * (D * Math.log(2 * Math.PI) + logDet + quad);
  assert.ok(Math.abs(model.logLik(3, Int32Array.from(K), new Int32Array(3), p) - dense) < 1e-9);
});

test('BSC truncated EM recovers a small bars dictionary, π and σ', () => {
  const rng = new Rng(1);
  const size = 4, D = 16, H = 8, N = 400;
  const W = barsDictionary(size, 10);
  const Y = generateLinear(W, D, H, N, [1], [1 / 4], 1, rng);
  const model = new LinearEtModel({ D, H, values: [1], priorMode: 'shared', absSelection: false, name: 'bsc' });
  const lls: number[] = [];
  const r = runTruncatedEm(model, Y, N, initLinear(Y, N, D, H, 1, rng), { hPrime: 5, gamma: 4, steps: 40, tStart: 2, annealEnd: 0.7, ncutEnd: 2 / 3, onStep: (s) => lls.push(s.loglik) });
  const m = matchDictionary(r.params.W, H, W, H, D, 0.95, false);
  assert.equal(m.recovered, H, `matched cosines ${m.meanCosine}`);
  assert.ok(Math.abs(model.activeProb(r.params) - 1 / 4) < 0.05);
  assert.ok(Math.abs(r.params.sigma - 1) < 0.15);
  // at T = 1 (last steps) EM does not decrease the truncated log-likelihood
  assert.ok(lls[lls.length - 1] >= lls[lls.length - 5] - 1e-6);
});

test('MCA model: max superposition in generation, soft-max log-likelihood approaches the hard max at T → 1', () => {
  const rng = new Rng(2);
  const W = barsDictionary(3, 10);
  const Y = generateMca(W, 9, 6, 50, 0.5, 0, rng);
  for (const v of Y) assert.ok(v === 0 || v === 10, 'noise-free max of 10-valued bars is 0 or 10');
  const model = new McaEtModel(9, 6);
  const p = { W: W.map((w) => Math.max(w, 1e-4)), pi: 0.3, sigma: 1 };
  model.prepare(p, { T: 1, ncut: 0, step: 0, steps: 1 });
  const y = new Float64Array(9);
  for (let d = 0; d < 9; d++) y[d] = Math.max(W[d * 6 + 0], W[d * 6 + 3]); // bars 0 and 3 (they cross at one pixel)
  model.preparePoint(y);
  const ll = model.logLik(2, Int32Array.from([0, 3]), new Int32Array(2), p);
  const exact = -0.5 * 9 * Math.log(2 * Math.PI);
  assert.ok(Math.abs(ll - exact) < 0.5, `${ll} vs ${exact}`); // W̄ at ρ = 21 is within a few % of the max
});

test('baselines: NMF factors non-negative bars data; L1 sparse coding returns unit-norm atoms', () => {
  const rng = new Rng(3);
  const W = barsDictionary(3, 10);
  const Y = generateLinear(W, 9, 6, 300, [1], [1 / 3], 0.1, rng);
  const n = nmf(Y, 300, 9, 6, { iterations: 400, rng: rng.fork() });
  for (const w of n.W) assert.ok(w >= 0);
  assert.ok(matchDictionary(n.W, 6, W, 6, 9, 0.9, false).recovered >= 5);
  const sc = l1SparseCoding(Y, 300, 9, 6, { lambda: 1, iterations: 30, rng: rng.fork() });
  for (let h = 0; h < 6; h++) {
    let s = 0;
    for (let d = 0; d < 9; d++) s += sc.W[d * 6 + h] ** 2;
    assert.ok(Math.abs(s - 1) < 1e-9);
  }
});

test('prosper experiments read Y / W_true from files, write artifacts and traces; bad input is named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prosper-test-'));
  const rng = new Rng(7);
  const W = barsDictionary(3, 10);
  const Y = generateLinear(W, 9, 6, 200, [1], [1 / 3], 1, rng);
  const rows = (a: Float64Array, r: number, c: number) => Array.from({ length: r }, (_, i) => Array.from(a.subarray(i * c, (i + 1) * c)));
  writeFileSync(join(dir, 'bars.json'), JSON.stringify({ Y: rows(Y, 200, 9), W_true: rows(W, 9, 6) }));
  const runsDir = join(dir, 'runs');
  const cfg = { dataFile: join(dir, 'bars.json'), emSteps: 20, hPrime: 5, gamma: 3, baselineIters: 10 };
  const { dir: runDir, summary } = await runInProcess(prosperBscExperiment, { runsDir, config: cfg, seed: 0 });
  const s = summary as any;
  assert.equal(s.H, 6);
  assert.ok(s.methods['prosper-bsc'].recovered !== null && 'nmf' in s.methods && 'l1_sc' in s.methods);
  for (const f of ['W_prosper-bsc.npy', 'W_l1_sc.npy', 'W_nmf.npy', 'W_true.npy', 'summary.json']) assert.ok(existsSync(join(runDir, 'artifacts', f)), f);
  const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(metrics.some((r) => 'prosper-bsc/loglik' in r) && metrics.some((r) => 'nmf/objective' in r) && metrics.some((r) => 'l1_sc/objective' in r));
  // without ground truth the model size is required
  writeFileSync(join(dir, 'y-only.json'), JSON.stringify({ Y: rows(Y, 200, 9) }));
  await assert.rejects(runInProcess(prosperBscExperiment, { runsDir, config: { ...cfg, dataFile: join(dir, 'y-only.json') } }), /latents: set the model size H/);
  const ok = await runInProcess(prosperBscExperiment, { runsDir, config: { ...cfg, dataFile: join(dir, 'y-only.json'), latents: 6 } });
  assert.equal((ok.summary as any).methods['prosper-bsc'].recovered, null);
  writeNpy(join(dir, 'Y.npy'), Y, [200, 9]);
  const fromNpy = await runInProcess(prosperBscExperiment, { runsDir, config: { ...cfg, dataFile: join(dir, 'Y.npy'), latents: 6 } });
  assert.equal((fromNpy.summary as any).D, 9);
  writeFileSync(join(dir, 'wshape.json'), JSON.stringify({ Y: rows(Y, 200, 9), W_true: [[1, 2]] }));
  await assert.rejects(runInProcess(prosperBscExperiment, { runsDir, config: { ...cfg, dataFile: join(dir, 'wshape.json') } }), /W_true' has shape \(1, 2\), expected \(D=9, Hgt\)/);
  writeFileSync(join(dir, 'nan.json'), JSON.stringify({ Y: [[1, 2], [3, 'x']] }));
  await assert.rejects(runInProcess(prosperBscExperiment, { runsDir, config: { ...cfg, dataFile: join(dir, 'nan.json') } }), /must be a number/);
  await assert.rejects(runInProcess(prosperDscExperiment, { runsDir, config: { values: [1, 2], valueProbs: [0.1], emSteps: 2 } }), /valueProbs: expected 2 probabilities/);
});

test('a cancelled ProSper run stops with a cancellation error', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(runInProcess(prosperBscExperiment, { config: { emSteps: 5 }, signal: ac.signal }), /cancel/);
});
