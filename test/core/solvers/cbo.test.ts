import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng';
import { cboExperiment, cboMinimize, cboSchema, consensusPoint, randomSearch } from '../../../src/core/solvers/cbo';
import { ackley, rastrigin } from '../../../src/core/solvers/objectives';
import { runInProcess } from '../../../src/lab/runs/context';
import { readJsonl } from '../../../src/lab/runs/store';
import { readNpy } from '../../../src/core/io/npy';

test('objectives have their minimum at the shifted minimizer', () => {
  for (const o of [rastrigin(1), ackley(1)]) {
    assert.ok(Math.abs(o.f(o.minimizer(7))) < 1e-12, o.name);
    assert.ok(o.f(new Float64Array(7).fill(0.3)) > 1, o.name);
  }
});

test('consensus point: log-sum-exp weights handle huge alpha and reduce to the best particle', () => {
  const X = new Float64Array([0, 0, 1, 1, 2, 2]);
  const e = new Float64Array([3, 1, 2]);
  const v = new Float64Array(2);
  consensusPoint(X, e, 3, 2, 1e12, v);
  assert.deepEqual(Array.from(v), [1, 1]);
  consensusPoint(X, e, 3, 2, 0, v);
  assert.deepEqual(Array.from(v), [1, 1]); // α = 0: plain mean
  consensusPoint(X, e, 3, 2, 1, v);
  const w = [Math.exp(-3), Math.exp(-1), Math.exp(-2)];
  const s = w[0] + w[1] + w[2];
  assert.ok(Math.abs(v[0] - (0 * w[0] + 1 * w[1] + 2 * w[2]) / s) < 1e-12);
});

test('CBO without noise contracts to consensus; with the default config it solves Ackley d=10', () => {
  const c = cboSchema.parse({ sigma: 0, dim: 3, steps: 300 });
  const r = cboMinimize(rastrigin(1), 3, c, new Rng(0));
  assert.ok(r.evaluations === 300 * c.particles);
  const def = cboSchema.parse({ objective: 'ackley', dim: 10, steps: 800 });
  const r2 = cboMinimize(ackley(1), 10, def, new Rng(1));
  assert.ok(ackley(1).f(r2.consensus) < 0.05, `Ackley f(v) = ${ackley(1).f(r2.consensus)}`);
});

test('random search spends exactly its budget', () => {
  let calls = 0;
  const o = rastrigin(1);
  randomSearch({ ...o, f: (x) => (calls++, o.f(x)) }, 3, 500, -3, 3, new Rng(0));
  assert.equal(calls, 500);
});

test('the experiment logs traces and writes its artifacts', async () => {
  const { dir, summary } = await runInProcess(cboExperiment, { config: { dim: 3, steps: 100, particles: 40 }, seed: 2 });
  const rows = readJsonl(join(dir, 'metrics.jsonl')) as Record<string, number>[];
  assert.ok(rows.length >= 10);
  assert.ok(rows.some((r) => typeof r['cbo/objective'] === 'number' && typeof r['cbo/alpha'] === 'number'));
  assert.equal(readNpy(join(dir, 'artifacts', 'consensus.npy')).shape[0], 3);
  assert.equal((summary as Record<string, unknown>).evaluations, 4000);
});
