import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Flops,
  adaSketchExperiment,
  adaSketchSchema,
  evaluateFirstOrder,
  loadConstrainedLogistic,
  logisticHessian,
  randomConstrainedLogistic,
  randomizedKaczmarz,
  sqpOptionsFrom,
  sqpSolve,
} from '../../../src/core/solvers/adasketch-newton';
import { Rng } from '../../../src/core/rng';
import { runInProcess } from '../../../src/lab/runs/context';

test('gradient and Hessian of the constrained logistic problem match finite differences', () => {
  const p = randomConstrainedLogistic(new Rng(1), 20, 6, 2, 0.5, 0.3);
  const x = Float64Array.from({ length: 6 }, (_, j) => 0.1 * (j - 2));
  const fl = new Flops();
  const ev = evaluateFirstOrder(p, x, fl);
  const H = logisticHessian(p, ev.curv, fl);
  const h = 1e-6;
  for (let j = 0; j < 6; j++) {
    const xp = Float64Array.from(x);
    xp[j] += h;
    const xm = Float64Array.from(x);
    xm[j] -= h;
    const ep = evaluateFirstOrder(p, xp, fl);
    const em = evaluateFirstOrder(p, xm, fl);
    assert.ok(Math.abs((ep.f - em.f) / (2 * h) - ev.grad[j]) < 1e-7);
    for (let k = 0; k < 6; k++) assert.ok(Math.abs((ep.grad[k] - em.grad[k]) / (2 * h) - H[k * 6 + j]) < 1e-6);
    for (let q = 0; q < 3; q++) assert.ok(Math.abs((ep.c[q] - em.c[q]) / (2 * h) - ev.G[q * 6 + j]) < 1e-7);
  }
  assert.ok(fl.evaluation > 0 && fl.hessian > 0);
});

test('randomized Kaczmarz solves a consistent indefinite system and counts its flops', () => {
  const s = 3;
  const K = Float64Array.of(2, 0, 1, 0, 2, 1, 1, 1, 0); // [[B, Gᵀ], [G, 0]] with B = 2I
  const want = Float64Array.of(0.25, 0.25, 0.5);
  const b = Float64Array.of(2 * 0.25 + 0.5, 2 * 0.25 + 0.5, 0.5);
  const rowNorms = Float64Array.of(5, 5, 2);
  const fl = new Flops();
  const r = randomizedKaczmarz(K, s, b, 1e-12, new Rng(3), { checkEvery: 3, maxSteps: 100000, sampling: 'uniform', rowNorms }, fl);
  assert.ok(r.converged);
  r.d.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-10));
  assert.equal(fl.solver, r.steps * 4 * s + (r.steps / 3 + 0) * 2 * s * s);
});

test('AdaSketch-Newton and exact SQP reach the same KKT point', () => {
  const cfg = adaSketchSchema.parse({ variables: 60, samples: 30, linearConstraints: 4 });
  const p = randomConstrainedLogistic(new Rng(5), 30, 60, 4, 0.5, 1);
  const sk = sqpSolve(p, sqpOptionsFrom(cfg, 'sketch', 65), new Rng(1));
  const ex = sqpSolve(p, sqpOptionsFrom(cfg, 'exact', 65), new Rng(1));
  assert.ok(sk.converged && ex.converged, `${sk.kkt} ${ex.kkt}`);
  let d = 0;
  for (let j = 0; j < 60; j++) d += (sk.x[j] - ex.x[j]) ** 2;
  assert.ok(Math.sqrt(d) < 1e-4);
  // feasibility: the norm constraint holds at the solution
  const nx = Math.hypot(...ex.x);
  assert.ok(Math.abs(nx - 0.5) < 1e-6);
  assert.ok(sk.totalSketchSteps > 0 && ex.totalSketchSteps === 0);
  // the code's worst-case accuracy rule makes the solves near-exact: more Kaczmarz steps
  const code = sqpSolve(p, sqpOptionsFrom({ ...cfg, accuracyRule: 'code' }, 'sketch', 65), new Rng(1));
  assert.ok(code.converged);
  assert.ok(code.totalSketchSteps > sk.totalSketchSteps);
});

test('constrained-logistic problem files: JSON loads, bad files are named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ada-file-'));
  const good = join(dir, 'p.json');
  writeFileSync(good, JSON.stringify({ features: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], labels: [1, 0, 1, 0], C: [[1, 1, 1]], e: [0.1] }));
  const p = loadConstrainedLogistic(good, 0, 1);
  assert.equal(p.n, 3);
  assert.equal(p.labels[1], -1);
  const write = (name: string, body: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(body));
    return path;
  };
  assert.throws(() => loadConstrainedLogistic(write('lab.json', { features: [[1, 0], [0, 1]], labels: [1, 2], C: [[1, 0]], e: [0] }), 0, 1), /labels\[1\] = 2, expected ±1 or 0\/1/);
  assert.throws(() => loadConstrainedLogistic(write('c.json', { features: [[1, 0], [0, 1]], labels: [1, 0], C: [[1, 0, 0]], e: [0] }), 0, 1), /field 'C' has shape \(1, 3\), expected \(m, n=2\)/);
  assert.throws(() => loadConstrainedLogistic(write('many.json', { features: [[1, 0], [0, 1]], labels: [1, 0], C: [[1, 0]], e: [0] }), 1, 1), /must be fewer than the 2 variables/);
  assert.throws(() => loadConstrainedLogistic(join(dir, 'x.npy'), 0, 1), /needs a JSON problem/);
});

test('adasketch-newton experiment runs in process and writes flop-counted traces', async () => {
  const { dir, summary } = await runInProcess(adaSketchExperiment, { config: { variables: 40, samples: 20, linearConstraints: 3 }, seed: 4 });
  const s = summary as Record<string, any>;
  assert.ok(s.adasketch_converged && s.sqp_exact_converged);
  assert.ok(s.solution_distance < 1e-4);
  for (const f of ['x_adasketch.npy', 'x_sqp_exact.npy', 'summary.json']) assert.ok(existsSync(join(dir, 'artifacts', f)), f);
  const rows = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(rows.some((r) => 'adasketch/flops' in r && 'adasketch/residual' in r));
  assert.ok(rows.some((r) => 'sqp_exact/solver_flops' in r));
});

test('adasketch-newton fast claim passes for seed 0', async () => {
  const r = await adaSketchExperiment.claim!.fast({ seed: 0 });
  assert.ok(r.pass, r.summary);
});
