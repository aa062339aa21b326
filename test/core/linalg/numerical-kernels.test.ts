import { test } from 'node:test';
import assert from 'node:assert/strict';
import { laplacian5, spmv, sorSweep, sorSweepResidual, ssorPrecondition, diagonal, csrFromDense, shiftDiagonal, spmvTransposed } from '../../../src/core/linalg/sparse';
import { conjugateGradient } from '../../../src/core/linalg/cg';
import { logSumExp } from '../../../src/core/linalg/logsumexp';
import { symmetricEigenvalues } from '../../../src/core/linalg/symmetric-eigen';
import { matVec, matTVec, norm2 } from '../../../src/core/linalg/dense';
import { Rng } from '../../../src/core/rng';
import { kthLargest, quantile } from '../../../src/core/linalg/select';

test('laplacian5 has the 5-point stencil and symmetric structure', () => {
  const a = laplacian5(3);
  assert.equal(a.rows, 9);
  assert.equal(a.values.length, 9 + 2 * 12); // 9 diagonal + 12 grid edges, each stored twice
  const ones = new Float64Array(9).fill(1);
  const y = spmv(a, ones);
  assert.deepEqual(Array.from(y), [2, 1, 2, 1, 0, 1, 2, 1, 2]);
  assert.deepEqual(Array.from(spmvTransposed(a, ones)), Array.from(y));
  assert.deepEqual(Array.from(diagonal(shiftDiagonal(a, 0.5))), new Array(9).fill(4.5));
});

test('SOR sweeps converge to the solution of a Poisson system', () => {
  const a = laplacian5(6);
  const rng = new Rng(1);
  const b = rng.fillNormal(new Float64Array(36));
  const x = new Float64Array(36);
  const d = diagonal(a);
  for (let k = 0; k < 400; k++) sorSweep(a, d, b, x, 1.5);
  const r = spmv(a, x).map((v, i) => b[i] - v);
  assert.ok(norm2(r) < 1e-10 * norm2(b));
});

test('CG solves an SPD system and a singular consistent one', () => {
  const a = laplacian5(5);
  const rng = new Rng(2);
  const b = rng.fillNormal(new Float64Array(25));
  const res = conjugateGradient((v, out) => spmv(a, v, out), b, { tol: 1e-12, diag: diagonal(a) });
  assert.ok(res.converged);
  const r = spmv(a, res.x).map((v, i) => b[i] - v);
  assert.ok(norm2(r) < 1e-10 * norm2(b));
  // graph Laplacian of a path (singular, null vector 1) with a right-hand side orthogonal to 1
  const dense = new Float64Array([1, -1, 0, -1, 2, -1, 0, -1, 1]);
  const s = csrFromDense(dense, 3, 3);
  const rhs = new Float64Array([1, 0, -1]);
  const sol = conjugateGradient((v, out) => spmv(s, v, out), rhs, { tol: 1e-12 });
  assert.ok(sol.converged);
  assert.ok(Math.abs(sol.x[0] - sol.x[2] - 2) < 1e-9);
});

test('logSumExp is stable for large arguments and honours stride', () => {
  assert.ok(Math.abs(logSumExp([1000, 1000]) - (1000 + Math.log(2))) < 1e-9);
  assert.equal(logSumExp([-Infinity, -Infinity]), -Infinity);
  assert.ok(Math.abs(logSumExp([0, 9, 0, 9], 0, 2, 2) - Math.log(2)) < 1e-12);
});

test('symmetric eigenvalues match a known spectrum; matVec/matTVec agree', () => {
  const ev = symmetricEigenvalues(new Float64Array([2, 1, 0, 1, 2, 1, 0, 1, 2]), 3);
  const want = [2 - Math.SQRT2, 2, 2 + Math.SQRT2];
  ev.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-10));
  const m = new Float64Array([1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(matVec(m, 2, 3, [1, 1, 1])), [6, 15]);
  assert.deepEqual(Array.from(matTVec(m, 2, 3, [1, 1])), [5, 7, 9]);
});

test('sorSweepResidual leaves the exact residual of the swept iterate', () => {
  const a = shiftDiagonal(laplacian5(5), 0.3);
  const d = diagonal(a);
  const b = new Rng(4).fillNormal(new Float64Array(25));
  const x1 = new Float64Array(25);
  const x2 = new Float64Array(25);
  const r = new Float64Array(25);
  for (let k = 0; k < 3; k++) {
    sorSweep(a, d, b, x1, 1.3);
    const r2 = sorSweepResidual(a, d, b, x2, 1.3, r);
    const exact = spmv(a, x2).map((v, i) => b[i] - v);
    assert.deepEqual(Array.from(x2), Array.from(x1));
    exact.forEach((v, i) => assert.ok(Math.abs(v - r[i]) < 1e-12));
    assert.ok(Math.abs(r2 - norm2(exact) ** 2) < 1e-9);
  }
});

test('kthLargest and quantile agree with sorting', () => {
  const rng = new Rng(11);
  for (const n of [1, 2, 7, 100, 1001]) {
    const v = Float64Array.from({ length: n }, () => Math.round(rng.normal() * 5) + 0); // many ties (+0 turns -0 into 0)
    const sorted = Array.from(v).sort((a, b) => b - a);
    for (const k of [1, Math.ceil(n / 3), n]) assert.equal(kthLargest(v, k), sorted[k - 1]);
    assert.equal(quantile(v, 0.5), sorted[n - 1 - Math.floor(0.5 * (n - 1))]);
  }
  assert.throws(() => kthLargest([1, 2], 3), /k must be in \[1, 2\]/);
});

test('SSOR-preconditioned CG converges faster than plain CG on a Poisson system', () => {
  const a = laplacian5(12);
  const d = diagonal(a);
  const b = new Rng(6).fillNormal(new Float64Array(144));
  const plain = conjugateGradient((v, out) => spmv(a, v, out), b, { tol: 1e-8 });
  const ssor = conjugateGradient((v, out) => spmv(a, v, out), b, { tol: 1e-8, precondition: (r, z) => ssorPrecondition(a, d, 1.5, r, z) });
  assert.ok(plain.converged && ssor.converged);
  assert.ok(ssor.iterations < plain.iterations, `${ssor.iterations} vs ${plain.iterations}`);
  const r = spmv(a, ssor.x).map((v, i) => b[i] - v);
  assert.ok(norm2(r) < 1e-7 * norm2(b));
  // M z = r with M = (D + ωL) D⁻¹ (D + ωU) / (ω(2 − ω)), checked by multiplying back
  const omega = 1.3;
  const z = new Float64Array(144);
  ssorPrecondition(a, d, omega, b, z);
  const y = new Float64Array(144);
  for (let i = 0; i < 144; i++) {
    let s = d[i] * z[i];
    for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) if (a.colIdx[k] > i) s += omega * a.values[k] * z[a.colIdx[k]];
    y[i] = s / d[i];
  }
  for (let i = 0; i < 144; i++) {
    let s = d[i] * y[i];
    for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) if (a.colIdx[k] < i) s += omega * a.values[k] * y[a.colIdx[k]];
    assert.ok(Math.abs(s / (omega * (2 - omega)) - b[i]) < 1e-10);
  }
});
