import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng';

test('same seed gives the same stream, different seeds differ', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xa = Array.from({ length: 100 }, () => a.uniform());
  const xb = Array.from({ length: 100 }, () => b.uniform());
  const xc = Array.from({ length: 100 }, () => c.uniform());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
  assert.ok(xa.every((x) => x >= 0 && x < 1));
});

test('uniform and normal have the right first two moments', () => {
  const r = new Rng(7);
  const n = 200_000;
  let su = 0;
  let sn = 0;
  let sn2 = 0;
  for (let i = 0; i < n; i++) {
    su += r.uniform();
    const z = r.normal();
    sn += z;
    sn2 += z * z;
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.005, `uniform mean ${su / n}`);
  assert.ok(Math.abs(sn / n) < 0.01, `normal mean ${sn / n}`);
  assert.ok(Math.abs(sn2 / n - 1) < 0.02, `normal variance ${sn2 / n}`);
});

test('categorical follows its weights; int stays in range; shuffle permutes', () => {
  const r = new Rng(1);
  const counts = [0, 0, 0];
  for (let i = 0; i < 30_000; i++) counts[r.categorical([1, 2, 7])]++;
  assert.ok(Math.abs(counts[2] / 30_000 - 0.7) < 0.02, `counts ${counts}`);
  for (let i = 0; i < 1000; i++) {
    const k = r.int(5);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 5);
  }
  const p = r.shuffle([0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual([...p].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
});
