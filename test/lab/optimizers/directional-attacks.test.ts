import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng';
import { better, directionalAttacks, mlpForward, mlpVjp, randomMlp, readMlpFile, runSearch, toyOutputProblem, type Mlp } from '../../../src/lab/optimizers/directional-attacks';
import { finiteDiffGrad, maxAbsDiff, metricNames, runForTest, tempDir } from './helpers';

test('J_Φᵀu by backprop matches finite differences of ⟨u, Φ(x)⟩', () => {
  const net = randomMlp(new Rng(1), [5, 7, 6, 2], 3);
  const x = new Rng(2).fillNormal(new Float64Array(5));
  const u = Float64Array.from([0.7, -1.3]);
  const g = mlpVjp(net, x, u);
  const fd = finiteDiffGrad((v) => {
    const o = mlpForward(net, v).out;
    return u[0] * o[0] + u[1] * o[1];
  }, x);
  assert.ok(maxAbsDiff(g, fd) < 1e-7, `max diff ${maxAbsDiff(g, fd)}`);
});

test('merit gradient of the toy output problem matches finite differences', () => {
  const out = toyOutputProblem(1);
  for (const zv of [[0.3, 0.2], [1, 1.7]]) {
    const z = Float64Array.from(zv);
    const merit = (w: Float64Array) => out.f(w) - 10 * Math.max(0, out.c(w)) ** 2;
    assert.ok(maxAbsDiff(out.meritGrad(z, 10), finiteDiffGrad(merit, z)) < 1e-6);
  }
});

test('ordering: feasible beats infeasible, then objective, then violation', () => {
  const x = new Float64Array(1);
  assert.ok(better({ x, f: -5, c: -1 }, { x, f: 10, c: 0.1 }));
  assert.ok(better({ x, f: 2, c: 0 }, { x, f: 1, c: -1 }));
  assert.ok(better({ x, f: -9, c: 0.1 }, { x, f: 9, c: 0.5 }));
  assert.ok(!better({ x, f: 1, c: 0.5 }, { x, f: 1, c: 0.1 }));
});

test('every method respects the evaluation budget and its best-so-far trace never decreases', () => {
  const net = randomMlp(new Rng(3), [4, 8, 8, 2], 3);
  const setup = { net, out: toyOutputProblem(1), lower: -3, upper: 3, budget: 60, gradientCost: 1, attackSteps: 2, penalty: 10, coverRadius: 1, frameInit: 1 };
  const x0 = Float64Array.from([0.5, -0.5, 1, 0]);
  for (const m of ['cdsm', 'attack', 'hybrid'] as const) {
    const r = runSearch(m, setup, x0, new Rng(4));
    assert.equal(r.trace.length, 60);
    for (let k = 1; k < 60; k++) assert.ok(r.trace[k] >= r.trace[k - 1], `${m}: trace decreases at ${k}`);
    assert.ok(r.best.x.every((v) => v >= -3 && v <= 3), `${m}: stays in the box`);
    if (r.best.c <= 0) assert.equal(r.trace[59], r.best.f);
  }
});

function toJson(net: Mlp) {
  return { layers: net.layers.map((L) => ({ W: Array.from({ length: L.out }, (_, r) => [...L.W.subarray(r * L.in, (r + 1) * L.in)]), b: [...L.b] })) };
}

test('experiment on a surrogate file: traces per method, artifacts; malformed files are rejected', async () => {
  const dir = tempDir();
  const net = randomMlp(new Rng(5), [3, 6, 2], 2);
  const p = join(dir, 'net.json');
  writeFileSync(p, JSON.stringify(toJson(net)));
  assert.ok(maxAbsDiff(mlpForward(readMlpFile(p, 2), [0.1, 0.2, 0.3]).out, mlpForward(net, [0.1, 0.2, 0.3]).out) < 1e-15);
  const run = await runForTest(directionalAttacks, { surrogateFile: p, budget: 40, starts: 2 });
  const names = metricNames(run);
  for (const k of ['cdsm/best_f', 'attack/best_f', 'hybrid/best_f', 'wall_s']) assert.ok(names.has(k), k);
  assert.ok(run.artifacts.has('median_traces.npy') && run.artifacts.has('summary.json'));
  const bad = toJson(net);
  bad.layers[1].W = bad.layers[1].W.map((r) => r.slice(1));
  writeFileSync(join(dir, 'chain.json'), JSON.stringify(bad));
  assert.throws(() => readMlpFile(join(dir, 'chain.json'), 2), /layer 1 .* takes 5 inputs but layer 0 gives 6/);
  const three = randomMlp(new Rng(6), [3, 4, 3]);
  writeFileSync(join(dir, 'three.json'), JSON.stringify(toJson(three)));
  assert.throws(() => readMlpFile(join(dir, 'three.json'), 2), /outputs 3 values, expected 2/);
  const shortB = toJson(net);
  shortB.layers[0].b = [1];
  writeFileSync(join(dir, 'b.json'), JSON.stringify(shortB));
  await assert.rejects(runForTest(directionalAttacks, { surrogateFile: join(dir, 'b.json') }), /surrogateFile: layer 0 .*"b" must have 6 entries/);
  writeFileSync(join(dir, 'junk.json'), '{"layers": [');
  assert.throws(() => readMlpFile(join(dir, 'junk.json'), 2), /surrogateFile: cannot read .* as JSON/);
});
