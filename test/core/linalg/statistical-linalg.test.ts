import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choleskyInPlace, choleskyLogDet, solveSpd, NotPositiveDefiniteError } from '../../../src/core/linalg/cholesky';
import { hungarian } from '../../../src/core/linalg/hungarian';
import { expm } from '../../../src/core/linalg/expm';
import { invert, solveGeneral } from '../../../src/core/linalg/lu';
import { Rng } from '../../../src/core/rng';

test('solveSpd solves a random SPD system and logdet matches the product of pivots', () => {
  const rng = new Rng(1);
  const n = 6;
  const g = rng.fillNormal(new Float64Array(n * n));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = i === j ? 1 : 0;
    for (let k = 0; k < n; k++) s += g[i * n + k] * g[j * n + k];
    a[i * n + j] = s;
  }
  const b = rng.fillNormal(new Float64Array(n));
  const x = solveSpd(a, n, b);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j] * x[j];
    assert.ok(Math.abs(s - b[i]) < 1e-9);
  }
  const diag = Float64Array.from([4, 0, 0, 0, 9, 0, 0, 0, 1]);
  assert.ok(Math.abs(choleskyLogDet(choleskyInPlace(diag, 3), 3) - Math.log(36)) < 1e-12);
  assert.throws(() => choleskyInPlace(Float64Array.from([1, 2, 2, 1]), 2), NotPositiveDefiniteError);
});

test('hungarian finds the optimal assignment (brute force check)', () => {
  const rng = new Rng(2);
  for (let trial = 0; trial < 20; trial++) {
    const n = 4, m = 5;
    const c = Float64Array.from({ length: n * m }, () => rng.uniform());
    const { rowToCol, total } = hungarian(c, n, m);
    assert.equal(new Set(rowToCol).size, n);
    let best = Infinity;
    const perm = (row: number, used: Set<number>, acc: number): void => {
      if (row === n) { best = Math.min(best, acc); return; }
      for (let j = 0; j < m; j++) if (!used.has(j)) { used.add(j); perm(row + 1, used, acc + c[row * m + j]); used.delete(j); }
    };
    perm(0, new Set(), 0);
    assert.ok(Math.abs(total - best) < 1e-12);
  }
  assert.throws(() => hungarian(new Float64Array(6), 3, 2), /rows ≤ columns/);
});

test('expm matches a closed form (rotation generator and nilpotent matrix)', () => {
  const t = 2.5;
  const e = expm(Float64Array.from([0, -t, t, 0]), 2);
  assert.ok(Math.abs(e[0] - Math.cos(t)) < 1e-12 && Math.abs(e[2] - Math.sin(t)) < 1e-12);
  const big = expm(Float64Array.from([0, 30, 0, 0]), 2); // exp(N) = I + N for nilpotent N
  assert.deepEqual(Array.from(big).map((v) => Math.round(v * 1e9) / 1e9), [1, 30, 0, 1]);
  const inv = invert(Float64Array.from([2, 1, 1, 3]), 2);
  assert.ok(Math.abs(inv[0] - 0.6) < 1e-12 && Math.abs(inv[1] + 0.2) < 1e-12);
  assert.throws(() => solveGeneral(new Float64Array(4), 2, new Float64Array(2)), /singular/);
});
