import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Oracle,
  fixedPointResidual,
  halpern,
  loadLeastSquares,
  randomLeastSquares,
  vrHalpern,
  vrHalpernExperiment,
} from '../../../src/core/solvers/vr-halpern';
import { solveSpd } from '../../../src/core/linalg/cholesky';
import { writeNpy } from '../../../src/core/io/npy';
import { Rng } from '../../../src/core/rng';
import { runInProcess } from '../../../src/lab/runs/context';

test('oracle counts component calls and the residual vanishes at the least-squares solution', () => {
  const p = randomLeastSquares(new Rng(1), 40, 5, 10, 0);
  const o = new Oracle(p);
  o.full(new Float64Array(5));
  assert.equal(o.calls, 40);
  // normal equations AᵀA x = Aᵀy
  const g = new Float64Array(25);
  const rhs = new Float64Array(5);
  for (let i = 0; i < 40; i++) {
    for (let j = 0; j < 5; j++) {
      rhs[j] += p.a[i * 5 + j] * p.y[i];
      for (let k = 0; k < 5; k++) g[j * 5 + k] += p.a[i * 5 + j] * p.a[i * 5 + k];
    }
  }
  const xStar = solveSpd(g, 5, rhs);
  assert.ok(fixedPointResidual(p, xStar, 1 / p.L) < 1e-10);
  assert.ok(fixedPointResidual(p, new Float64Array(5), 1 / p.L) > 1e-3);
});

test('VR-Halpern with refresh probability 1 reproduces deterministic Halpern', () => {
  const p = randomLeastSquares(new Rng(2), 30, 4, 100, 0.5);
  const x0 = new Float64Array(4);
  const budget = { budget: 30 * 20, checkpoint: 30, measureEta: 1 / p.L };
  const a = halpern(p, x0, 1 / p.L, budget);
  const b = vrHalpern(p, x0, { eta: 1 / p.L, p: 1, batch: 3 }, new Rng(0), budget);
  assert.equal(a.iterations, 20);
  assert.equal(b.iterations, 20);
  a.x.forEach((v, j) => assert.ok(Math.abs(v - b.x[j]) < 1e-14));
  // Halpern's residual decays (O(1/k)) and the iterate stays in the box
  assert.ok(a.trace.at(-1)!.residual < a.trace[0].residual / 5);
  a.x.forEach((v) => assert.ok(Math.abs(v) <= 0.5));
});

test('least-squares problem files: JSON, .npy (n, d+1), and clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vrh-file-'));
  const f = join(dir, 'p.json');
  writeFileSync(f, JSON.stringify({ A: [[1, 0], [0, 2], [1, 1]], y: [1, 2, 3], lower: [-1, -1], upper: [1, 1] }));
  const p = loadLeastSquares(f, 0);
  assert.equal(p.n, 3);
  assert.equal(p.d, 2);
  assert.equal(p.upper[1], 1);
  const npy = join(dir, 'ay.npy');
  writeNpy(npy, Float64Array.of(1, 0, 1, 0, 2, 2), [2, 3]);
  const q = loadLeastSquares(npy, 2);
  assert.equal(q.d, 2);
  assert.deepEqual(Array.from(q.y), [1, 2]);
  assert.equal(q.lower[0], -2);
  const write = (name: string, body: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(body));
    return path;
  };
  assert.throws(() => loadLeastSquares(write('y.json', { A: [[1, 0], [0, 1]], y: [1, 2, 3] }), 0), /field 'y' has shape \(3\), expected \(n=2\)/);
  assert.throws(() => loadLeastSquares(write('noy.json', { A: [[1, 0], [0, 1]] }), 0), /missing field 'y'/);
  assert.throws(() => loadLeastSquares(write('bnd.json', { A: [[1]], y: [1], lower: [2], upper: [1] }), 0), /lower\[0\] = 2 exceeds upper\[0\] = 1/);
  const one = join(dir, 'one.npy');
  writeNpy(one, Float64Array.of(1, 2), [2, 1]);
  assert.throws(() => loadLeastSquares(one, 0), /needs shape \(n, d\+1\) with d ≥ 1/);
});

test('vr-halpern experiment runs in process on a shared oracle-call axis and writes artifacts', async () => {
  const { dir, summary } = await runInProcess(vrHalpernExperiment, { config: { n: 200, d: 10, epochs: 10 }, seed: 3 });
  const s = summary as Record<string, any>;
  assert.ok(s.vr_halpern_residual > 0 && s.halpern_iterations === 10 && s.eag_iterations === 5 && s.sgd_halpern_residual > 0);
  for (const f of ['trace_vr_halpern.npy', 'trace_halpern.npy', 'trace_eag.npy', 'x_vr_halpern.npy', 'summary.json']) assert.ok(existsSync(join(dir, 'artifacts', f)), f);
  const rows = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 41);
  assert.equal(rows.at(-1).oracle_calls, 2000);
  assert.ok('vr_halpern/residual' in rows[5] && 'halpern/residual' in rows[5] && 'eag/residual' in rows[5] && 'sgd_halpern/residual' in rows[5]);
});

test('vr-halpern fast claim passes for seed 0', async () => {
  const r = await vrHalpernExperiment.claim!.fast({ seed: 0 });
  assert.ok(r.pass, r.summary);
});
