import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../../src/core/io/npy';
import { Rng } from '../../../src/core/rng';
import { aidSgd, boRep, boRepExperiment, generateUnboundedBilevel, loadUnboundedBilevel, UnboundedOracle } from '../../../src/core/solvers/bo-rep';
import { runInProcess } from '../../../src/lab/runs/context';

const p = generateUnboundedBilevel(new Rng(5), 4, 6, 3, 0.5);

function fdCheck(fn: (v: Float64Array) => number, grad: Float64Array, at: Float64Array, tol: number) {
  const h = 1e-6;
  for (let i = 0; i < at.length; i++) {
    const a = Float64Array.from(at);
    const b = Float64Array.from(at);
    a[i] += h;
    b[i] -= h;
    const fd = (fn(a) - fn(b)) / (2 * h);
    assert.ok(Math.abs(fd - grad[i]) < tol * (1 + Math.abs(fd)), `component ${i}: fd ${fd} vs ${grad[i]}`);
  }
}

test('oracles (noise 0) match finite differences of f, g and Φ', () => {
  const o = new UnboundedOracle(p, new Rng(0), 0);
  const rng = new Rng(1);
  const x = rng.fillNormal(new Float64Array(p.dx));
  const y = rng.fillNormal(new Float64Array(p.dy));
  const Bx = (x: Float64Array) => Array.from({ length: p.dy }, (_, j) => p.B.subarray(j * p.dx, (j + 1) * p.dx).reduce((a, b, i) => a + b * x[i], 0));
  const g = (x: Float64Array, y: Float64Array) => {
    const bx = Bx(x);
    return y.reduce((a, v, j) => a + 0.5 * (v - bx[j]) ** 2 + 0.5 * p.mu * v * v, 0);
  };
  const f = (x: Float64Array, y: Float64Array) => {
    let s = 0;
    for (let i = 0; i < p.k; i++) s += Math.cosh(p.W.subarray(i * p.dy, (i + 1) * p.dy).reduce((a, w, j) => a + w * y[j], 0) - p.t[i]);
    return s + x.reduce((a, v) => a + v * v, 0) ** 2 / 4;
  };
  fdCheck((v) => g(x, v), o.gradGy(x, y), y, 1e-6);
  fdCheck((v) => f(x, v), o.gradFy(x, y), y, 1e-6);
  fdCheck((v) => f(v, y), o.gradFx(x, y), x, 1e-6);
  fdCheck((v) => o.phi(v), o.gradPhi(x), x, 1e-5);
  // ∇²_yy g v and the mixed product against differences of ∇_y g
  const v = rng.fillNormal(new Float64Array(p.dy));
  const h = 1e-6;
  const yp = Float64Array.from(y, (a, i) => a + h * v[i]);
  const hv = o.hvpGyy(v);
  const d = o.gradGy(x, yp);
  const d0 = o.gradGy(x, y);
  for (let i = 0; i < p.dy; i++) assert.ok(Math.abs((d[i] - d0[i]) / h - hv[i]) < 1e-5);
  // (∂ₓ∇_y g)ᵀ w: derivative of wᵀ∇_y g(x,y) with respect to x
  const w = rng.fillNormal(new Float64Array(p.dy));
  fdCheck((xx) => o.gradGy(xx, y).reduce((a, b, i) => a + b * w[i], 0), o.jvpGxy(w), x, 1e-5);
});

test('BO-REP moves x by exactly η per iteration (normalized momentum); AID-SGD diverges from a far start at a large step', () => {
  const x0 = new Float64Array(p.dx).fill(2.5);
  const params = { eta: 0.05, beta: 0.9, nu: 0.1, innerLr: 0.3, interval: 2, yWarmStart: 2, initSteps: 50, zRadius: 0, normalize: true };
  // budget for the refinement plus exactly one iteration (2 y-steps + HVP + ∇_y f + ∇ₓf + mixed product)
  const one = boRep(new UnboundedOracle(p, new Rng(3), 0.1), params, x0, 50 + 6, undefined, 1);
  const moved = Math.sqrt(one.x.reduce((a, v, i) => a + (v - x0[i]) ** 2, 0));
  assert.ok(Math.abs(moved - 0.05) < 1e-12, `moved ${moved}`);
  const o = new UnboundedOracle(p, new Rng(3), 0.1);
  const r = boRep(o, params, x0, 3000, undefined, 1);
  assert.equal(r.diverged, false);
  assert.ok(r.trace[r.trace.length - 1].gradNorm < 0.1 * r.trace[0].gradNorm);
  assert.ok(o.calls <= 3000);
  const a = aidSgd(new UnboundedOracle(p, new Rng(3), 0.1), { eta: 0.3, nu: 0.1, innerLr: 0.3, innerSteps: 1, initSteps: 50 }, x0, 3000, undefined, 1);
  assert.equal(a.diverged, true);
  const a2 = aidSgd(new UnboundedOracle(p, new Rng(3), 0.1), { eta: 0.003, nu: 0.1, innerLr: 0.3, innerSteps: 1, initSteps: 50 }, x0, 3000, undefined, 1);
  assert.equal(a2.diverged, false);
});

test('experiment: logs per-η traces for both methods, writes artifacts, reads JSON/.npy problems with clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'borep-'));
  const runsDir = join(dir, 'runs');
  const { dir: runDir, summary } = await runInProcess(boRepExperiment, { runsDir, config: { budget: 1500, etas: [0.01, 0.3] }, seed: 1 });
  const s = summary as { aidsgd_diverged: boolean[]; borep_diverged: boolean[] };
  assert.deepEqual(s.borep_diverged, [false, false]);
  assert.equal(s.aidsgd_diverged[1], true);
  const rows = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(rows.some((r) => 'borep/eta_0.01/residual' in r));
  assert.ok(rows.some((r) => 'aidsgd/eta_0.01/objective' in r));
  assert.ok(rows.some((r) => r['aidsgd/diverged_fraction'] === 0.5 && r['borep/diverged_fraction'] === 0 && Number.isFinite(r['borep/residual'])));
  for (const f of ['borep_eta_0.3_trace.npy', 'aidsgd_eta_0.01_trace.npy', 'summary.json']) assert.ok(existsSync(join(runDir, 'artifacts', f)), f);

  const q = generateUnboundedBilevel(new Rng(9), 3, 4, 2, 0.5);
  writeNpy(join(dir, 'B.npy'), q.B, [4, 3]);
  const mat = (a: Float64Array, r: number, c: number) => Array.from({ length: r }, (_, i) => Array.from(a.subarray(i * c, (i + 1) * c)));
  writeFileSync(join(dir, 'p.json'), JSON.stringify({ B: 'B.npy', W: mat(q.W, 2, 4), t: [...q.t], mu: 0.5 }));
  const loaded = loadUnboundedBilevel(join(dir, 'p.json'));
  assert.deepEqual([loaded.dx, loaded.dy, loaded.k], [3, 4, 2]);
  assert.deepEqual([...loaded.B], [...q.B]);
  const r2 = await runInProcess(boRepExperiment, { runsDir, config: { problemFile: join(dir, 'p.json'), budget: 600, etas: [0.01] } });
  assert.ok(r2.summary);
  writeFileSync(join(dir, 'w.json'), JSON.stringify({ B: 'B.npy', W: mat(q.W, 2, 4).map((r) => r.slice(0, 3)), t: [...q.t] }));
  await assert.rejects(runInProcess(boRepExperiment, { runsDir, config: { problemFile: join(dir, 'w.json') } }), /field 'W' has shape \(2, 3\), expected \(k, dy=4\)/);
  writeFileSync(join(dir, 'mu.json'), JSON.stringify({ B: 'B.npy', W: mat(q.W, 2, 4), t: [...q.t], mu: 0 }));
  await assert.rejects(runInProcess(boRepExperiment, { runsDir, config: { problemFile: join(dir, 'mu.json') } }), /'mu' must be positive/);
  writeFileSync(join(dir, 'bad.json'), '{"B": "B.npy", "W": [[1, 2]');
  await assert.rejects(runInProcess(boRepExperiment, { runsDir, config: { problemFile: join(dir, 'bad.json') } }), /malformed JSON/);
});

test('claim (fast form) passes for seed 0', async () => {
  const r = await boRepExperiment.claim!.fast({ seed: 0 });
  assert.ok(r.pass, r.summary);
});
