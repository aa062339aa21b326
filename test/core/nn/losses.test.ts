import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../../src/core/graph/graph';
import { compile } from '../../../src/core/runtime/session';
import { bradleyTerryLoss, crossEntropy, logisticLoss, mse, tokenEntropy, tokenKl } from '../../../src/core/nn/losses';

const lse = (r: number[]) => {
  const m = Math.max(...r);
  return m + Math.log(r.reduce((s, v) => s + Math.exp(v - m), 0));
};

test('cross-entropy ignores label -100; KL, entropy, MSE, Bradley–Terry, logistic match direct formulas', async () => {
  const g = new Graph();
  const logits = g.input('logits', 'float64', [3, 4]);
  const other = g.input('other', 'float64', [3, 4]);
  const labels = g.input('labels', 'int64', [3]);
  const a = g.input('a', 'float64', [2]);
  const b = g.input('b', 'float64', [2]);
  const p = await compile(g, {
    ce: crossEntropy(logits, labels),
    kl: tokenKl(logits, other),
    ent: tokenEntropy(logits),
    mse: mse(a, b),
    bt: bradleyTerryLoss(a, b),
    lg: logisticLoss(a, b),
  });
  const L = [0.1, 2, -1, 0.5, 1, 1, 1, 1, -3, 0, 3, 0.2];
  const Q = [1, 0, 0, 0, 0.3, -0.2, 0.1, 2, 0, 0, 0, 0];
  const r = await p.run({
    logits: Float64Array.from(L),
    other: Float64Array.from(Q),
    labels: BigInt64Array.from([1n, -100n, 2n]),
    a: Float64Array.of(0.5, -1),
    b: Float64Array.of(1, 0),
  });
  const row = (x: number[], i: number) => x.slice(4 * i, 4 * i + 4);
  const ce = -((row(L, 0)[1] - lse(row(L, 0))) + (row(L, 2)[2] - lse(row(L, 2)))) / 2;
  assert.ok(Math.abs(Number(r.ce.data[0]) - ce) < 1e-12);
  for (let i = 0; i < 3; i++) {
    const lp = row(L, i).map((v) => v - lse(row(L, i)));
    const lq = row(Q, i).map((v) => v - lse(row(Q, i)));
    const kl = lp.reduce((s, v, k) => s + Math.exp(v) * (v - lq[k]), 0);
    const ent = -lp.reduce((s, v) => s + Math.exp(v) * v, 0);
    assert.ok(Math.abs(Number(r.kl.data[i]) - kl) < 1e-12);
    assert.ok(Math.abs(Number(r.ent.data[i]) - ent) < 1e-12);
  }
  assert.ok(Math.abs(Number(r.mse.data[0]) - (0.25 + 1) / 2) < 1e-12);
  const bt = (Math.log1p(Math.exp(0.5)) + Math.log1p(Math.exp(1))) / 2; // -log σ(a-b)
  assert.ok(Math.abs(Number(r.bt.data[0]) - bt) < 1e-12);
  const lg = (Math.log1p(Math.exp(0.5)) - 0.5 + Math.log1p(Math.exp(-1))) / 2;
  assert.ok(Math.abs(Number(r.lg.data[0]) - lg) < 1e-12);
});
