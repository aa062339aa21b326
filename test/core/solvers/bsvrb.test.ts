import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../../src/core/io/npy';
import { log1pExp, sigmoid } from '../../../src/core/linalg/logistic';
import { Rng } from '../../../src/core/rng';
import { bsvrbExperiment, ExactHypergradient, generateMultiTask, loadMultiTask, MultiTaskOracle, solveFloored } from '../../../src/core/solvers/bsvrb';
import { runInProcess } from '../../../src/lab/runs/context';

const p = generateMultiTask(new Rng(2), 7, 5, 3, 2, 0.3, 0.1);
const o = new MultiTaskOracle(p);
const all = Int32Array.from({ length: p.n }, (_, j) => j);
const allVal = Int32Array.from({ length: p.nVal }, (_, j) => j);

function g(i: number, x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let j = 0; j < p.n; j++) {
    let u = 0;
    for (let k = 0; k < p.d; k++) u += p.A[j * p.d + k] * y[k];
    s += sigmoid(x[j]) * log1pExp(-p.L[i * p.n + j] * u);
  }
  return s / p.n + 0.5 * p.lambda * y.reduce((a, v) => a + v * v, 0);
}

function fd(fn: (v: Float64Array) => number, at: Float64Array, h = 1e-6): Float64Array {
  return Float64Array.from(at, (_, i) => {
    const a = Float64Array.from(at);
    const b = Float64Array.from(at);
    a[i] += h;
    b[i] -= h;
    return (fn(a) - fn(b)) / (2 * h);
  });
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < tol * (1 + Math.abs(b[i])), `entry ${i}: ${a[i]} vs ${b[i]}`);
};

test('block derivatives on the full data match finite differences', () => {
  const rng = new Rng(4);
  const x = rng.fillNormal(new Float64Array(p.n));
  const y = rng.fillNormal(new Float64Array(p.d));
  const { grad, hess } = o.lowerDerivs(1, x, y, all, true);
  close(grad, fd((v) => g(1, x, v), y), 1e-6);
  for (let k = 0; k < p.d; k++) {
    const col = fd((v) => o.lowerDerivs(1, x, v, all, false).grad[k], y);
    close(hess!.subarray(k * p.d, (k + 1) * p.d), col, 1e-5);
  }
  // −∇²_{py} g v = −∂_p (∇_y g · v)
  const v = rng.fillNormal(new Float64Array(p.d));
  const out = new Float64Array(p.n);
  o.mixedTimes(1, x, y, v, all, 1, out);
  const want = fd((xx) => -o.lowerDerivs(1, xx, y, all, false).grad.reduce((a, b, k) => a + b * v[k], 0), x);
  close(out, want, 1e-5);
  const up = o.upperGrad(0, y, allVal);
  close(up.grad, fd((yy) => o.upperGrad(0, yy, allVal).loss, y), 1e-6);
});

test('exact hypergradient matches finite differences of F(p) = mean_i f_i(y_i*(p))', () => {
  const x = new Rng(8).fillNormal(new Float64Array(p.n));
  const ex = new ExactHypergradient(o);
  const { grad } = ex.evaluate(x);
  const want = fd((xx) => new ExactHypergradient(o).evaluate(xx).value, x, 1e-5);
  close(grad, want, 1e-5);
});

test('solveFloored keeps indefinite estimates invertible and is exact above the floor', () => {
  const spd = Float64Array.from([4, 1, 1, 3]);
  const r = Float64Array.from([1, 2]);
  const v = solveFloored(spd, 2, r, 0.1);
  close([4 * v[0] + v[1], v[0] + 3 * v[1]], r, 1e-12);
  const indef = Float64Array.from([1, 0, 0, -2]);
  const w = solveFloored(indef, 2, r, 0.5);
  // eigenvalues shifted by 2.5: diag(3.5, 0.5)
  close(w, [1 / 3.5, 2 / 0.5], 1e-12);
});

test('experiment: logs both estimators, writes artifacts, reads problems from JSON/.npy with clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsvrb-'));
  const runsDir = join(dir, 'runs');
  const cfg = { n: 30, nVal: 20, d: 3, tasks: 4, blocks: 2, batch: 4, iterations: 60, evalEvery: 10 };
  const { dir: runDir, summary } = await runInProcess(bsvrbExperiment, { runsDir, config: cfg, seed: 3 });
  const s = summary as Record<string, number>;
  assert.ok(s.bsvrb_mean_rel_error < s.plain_mean_rel_error);
  const rows = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(rows.some((r) => 'bsvrb/residual' in r && 'bsvrb/samples' in r));
  assert.ok(rows.some((r) => 'plain/residual' in r && 'plain/objective' in r));
  for (const f of ['bsvrb_trace.npy', 'plain_trace.npy', 'bsvrb_weight_logits.npy', 'summary.json']) assert.ok(existsSync(join(runDir, 'artifacts', f)), f);

  const q = generateMultiTask(new Rng(1), 12, 6, 2, 3, 0.2, 0.1);
  writeNpy(join(dir, 'A.npy'), q.A, [12, 2]);
  const mat = (a: Float64Array, r: number, c: number) => Array.from({ length: r }, (_, i) => Array.from(a.subarray(i * c, (i + 1) * c)));
  const json = { A: 'A.npy', L: mat(q.L, 3, 12), Av: mat(q.Av, 6, 2), Lv: mat(q.Lv, 3, 6), lambda: 0.2 };
  writeFileSync(join(dir, 'p.json'), JSON.stringify(json));
  const loaded = loadMultiTask(join(dir, 'p.json'), 0.05);
  assert.deepEqual([loaded.n, loaded.d, loaded.m, loaded.nVal, loaded.lambda], [12, 2, 3, 6, 0.2]);
  const r2 = await runInProcess(bsvrbExperiment, { runsDir, config: { problemFile: join(dir, 'p.json'), blocks: 2, batch: 3, iterations: 20, evalEvery: 5 } });
  assert.ok(r2.summary);
  writeFileSync(join(dir, 'labels.json'), JSON.stringify({ ...json, L: mat(q.L, 3, 12).map((r) => r.map((v) => (v > 0 ? 1 : 0))) }));
  await assert.rejects(runInProcess(bsvrbExperiment, { runsDir, config: { problemFile: join(dir, 'labels.json') } }), /'L' must hold labels −1 or \+1/);
  writeFileSync(join(dir, 'shape.json'), JSON.stringify({ ...json, Lv: mat(q.Lv, 3, 6).map((r) => r.slice(1)) }));
  await assert.rejects(runInProcess(bsvrbExperiment, { runsDir, config: { problemFile: join(dir, 'shape.json') } }), /field 'Lv' has shape \(3, 5\), expected \(m=3, nVal=6\)/);
  await assert.rejects(runInProcess(bsvrbExperiment, { runsDir, config: { problemFile: join(dir, 'p.json'), blocks: 5 } }), /blocks \(5\) must not exceed the number of tasks \(3\)/);
});

test('BSVRB-v2 (Hessian-vector products only) also lowers the hypergradient error against plain sampling', async () => {
  const { compareBsvrb, bsvrbSchema } = await import('../../../src/core/solvers/bsvrb');
  const r = compareBsvrb(bsvrbSchema.parse({ n: 60, nVal: 30, d: 4, tasks: 6, blocks: 2, batch: 8, iterations: 200, evalEvery: 20, version: 'v2' }), new Rng(5));
  assert.ok(r.bsvrbError < 0.7 * r.plainError, `v2 ${r.bsvrbError} vs plain ${r.plainError}`);
});

test('claim (fast form) passes for seed 0', async () => {
  const r = await bsvrbExperiment.claim!.fast({ seed: 0 });
  assert.ok(r.pass, r.summary);
});

test('claim checks of the bilevel group stop on an aborted signal', async () => {
  const { experiments } = await import('../../../src/core/solvers/experiments-bilevel');
  const ac = new AbortController();
  ac.abort();
  for (const e of experiments) await assert.rejects(e.claim!.fast({ seed: 0, signal: ac.signal }), /cancelled/, e.id);
});
