import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChebCB,
  buildCostTable,
  heatSystems,
  omegaGrid,
  TsallisInf,
  jacobiSpectralRadius,
  loadSequence,
  optimalOmega,
  sorBanditExperiment,
  sorSolve,
} from '../../../src/core/solvers/sor-bandit';
import { diagonal, laplacian5, spmv } from '../../../src/core/linalg/sparse';
import { sampleBeta } from '../../../src/core/linalg/distributions';
import { writeNpy } from '../../../src/core/io/npy';
import { Rng } from '../../../src/core/rng';
import { runInProcess } from '../../../src/lab/runs/context';

test('Jacobi radius of the 5-point Laplacian is cos(π/(m+1)) and ω* beats Gauss–Seidel', () => {
  const a = laplacian5(10);
  const d = diagonal(a);
  const { beta } = jacobiSpectralRadius(a, d, 600);
  assert.ok(Math.abs(beta - Math.cos(Math.PI / 11)) < 1e-6, `beta ${beta}`);
  const b = new Rng(3).fillNormal(new Float64Array(100));
  const gs = sorSolve(a, b, 1, 1e-8, 10000, d);
  const opt = sorSolve(a, b, optimalOmega(beta), 1e-8, 10000, d);
  assert.ok(gs.converged && opt.converged);
  // asymptotic rates: GS β² ≈ 0.92, optimal SOR ω* − 1 ≈ 0.56 → several times fewer sweeps
  assert.ok(opt.iterations * 3 < gs.iterations, `${opt.iterations} vs ${gs.iterations}`);
  assert.equal(sorSolve(a, b, 1, 1e-8, 5, d).converged, false);
});

test('Beta sampler has the right mean', () => {
  const rng = new Rng(9);
  let s = 0;
  for (let i = 0; i < 20000; i++) s += sampleBeta(rng, 0.5, 1.5);
  assert.ok(Math.abs(s / 20000 - 0.25) < 0.01);
});

test('Tsallis-INF is a distribution and concentrates on the cheapest arm', () => {
  const bandit = new TsallisInf(5);
  const rng = new Rng(1);
  const costs = [50, 40, 10, 60, 45];
  let picksOfBest = 0;
  for (let t = 0; t < 2000; t++) {
    const p = bandit.distribution();
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    const k = rng.categorical(p);
    if (t >= 1000 && k === 2) picksOfBest++;
    bandit.update(k, costs[k] + rng.int(5));
  }
  assert.ok(picksOfBest > 900, `best arm picked ${picksOfBest}/1000 times late`);
});

test('ChebCB learns a context-dependent best arm', () => {
  const cb = new ChebCB(2, 4, -1, 1, 10);
  const rng = new Rng(2);
  let correct = 0;
  for (let t = 0; t < 1500; t++) {
    const c = rng.range(-1, 1);
    const k = cb.choose(rng, c);
    const best = c < 0 ? 0 : 1;
    if (t >= 1000 && k === best) correct++;
    cb.update(k, k === best ? 10 : 30);
  }
  assert.ok(correct > 430, `correct ${correct}/500`);
});

test('problem files: good JSON loads, bad ones name the field and the problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sor-file-'));
  const A = [
    [4, -1, 0],
    [-1, 4, -1],
    [0, -1, 4],
  ];
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ A, shifts: [0, 0.1, 0.2], rhs: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }));
  const seq = loadSequence(good, new Rng(0), 10, 'high-variance');
  assert.equal(seq.shifts.length, 3);
  assert.equal(seq.base.rows, 3);
  assert.equal(seq.contextMax, 0.2);
  const write = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(p, body);
    return p;
  };
  assert.throws(() => loadSequence(write('bad.json', '{"A": [[1, 2'), new Rng(0), 5, 'high-variance'), /malformed JSON/);
  assert.throws(() => loadSequence(write('rect.json', JSON.stringify({ A: [[1, 2, 3], [4, 5, 6]] })), new Rng(0), 5, 'high-variance'), /field 'A' has shape \(2, 3\)/);
  assert.throws(() => loadSequence(write('asym.json', JSON.stringify({ A: [[4, 1], [2, 4]] })), new Rng(0), 5, 'high-variance'), /must be symmetric/);
  assert.throws(() => loadSequence(write('neg.json', JSON.stringify({ A: [[4, 0], [0, -1]] })), new Rng(0), 5, 'high-variance'), /positive diagonal/);
  assert.throws(
    () => loadSequence(write('short.json', JSON.stringify({ A, shifts: [0, 0.1, 0.2], rhs: [[1, 0, 0]] })), new Rng(0), 5, 'high-variance'),
    /'rhs' has 1 rows, fewer than the 3 instances/,
  );
  assert.throws(() => loadSequence(write('wrongn.json', JSON.stringify({ A, rhs: [[1, 0]] })), new Rng(0), 5, 'high-variance'), /field 'rhs' has shape \(1, 2\), expected \(rows, n=3\)/);
  const npy = join(dir, 'A.npy');
  writeNpy(npy, Float64Array.from(A.flat()), [3, 3]);
  assert.equal(loadSequence(npy, new Rng(0), 7, 'low-variance').shifts.length, 7);
});

test('sor-bandit experiment runs in process, logs traces and writes artifacts', async () => {
  const { dir, summary } = await runInProcess(sorBanditExperiment, { config: { gridSize: 4, instances: 60, logEvery: 5 }, seed: 1 });
  const s = summary as Record<string, any>;
  assert.equal(s.instances, 60);
  assert.ok(s.totals.instance_optimal <= s.totals.default);
  for (const f of ['costs.npy', 'omega_grid.npy', 'contexts.npy', 'omega_chebcb.npy', 'summary.json']) assert.ok(existsSync(join(dir, 'artifacts', f)), f);
  const rows = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 13);
  assert.ok('tsallis_inf/cum_iterations' in rows[0] && 'chebcb/omega' in rows[0] && 'wall_s' in rows[0]);
  assert.equal(rows.at(-1)['best_fixed/cum_iterations'], s.totals.best_fixed);
});

test('heat problem: Crank–Nicolson systems warm-started on the trajectory, SSOR-PCG and SOR cost tables', () => {
  const seq = heatSystems(5, 40, 0.02);
  assert.equal(seq.T, 40);
  assert.equal(seq.n, 25);
  assert.ok(Math.min(...seq.contexts) >= 0 && Math.max(...seq.contexts) <= 10);
  assert.ok(seq.contexts.some((k) => k > 1)); // the −10 sin branch (τ > 1/2) is reached within 0.8 time units
  // the warm start of instance t+1 solves instance t
  const { a, b } = seq.system(3);
  const next = seq.system(4).x0!;
  const r = spmv(a, next).map((v, i) => b[i] - v);
  assert.ok(Math.hypot(...r) < 1e-10 * Math.hypot(...b));
  const grid = omegaGrid(1, 1.9, 4);
  for (const solver of ['sor', 'ssor-pcg'] as const) {
    const table = buildCostTable(seq, { grid, defaultOmega: 1, tol: 1e-8, maxIter: 5000, solver });
    assert.equal(table.capped, 0);
    for (let t = 0; t < 40; t++) assert.ok(table.optimalCosts[t] <= Math.max(...table.costs.subarray(t * 4, t * 4 + 4)));
  }
});

test('sor-bandit fast claim passes for seed 0', async () => {
  const r = await sorBanditExperiment.claim!.fast({ seed: 0 });
  assert.ok(r.pass, r.summary);
});
