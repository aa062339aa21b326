import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy, writeNpy } from '../../../src/core/io/npy';
import { Rng } from '../../../src/core/rng';
import { initialPoint, LcqbOracle, llcToy, loadLcqb, lvHba, lvHbaExperiment, lvHbaParams, lvHbaSchema } from '../../../src/core/solvers/lv-hba';
import { runInProcess } from '../../../src/lab/runs/context';

test('LLC toy: the closed-form solution is feasible and solves the lower level', () => {
  const p = llcToy(7);
  const o = new LcqbOracle(p);
  const g = o.constraint(p.xStar!, p.yStar!);
  assert.ok(Math.abs(g[0]) < 1e-12);
  assert.ok(o.lowerResidual(p.xStar!, p.yStar!) < 1e-12);
  // a perturbed y₁ is not a lower-level solution
  const y = Float64Array.from(p.yStar!);
  y[0] += 0.1;
  y[7] -= 0.1;
  assert.ok(o.lowerResidual(p.xStar!, y) > 0.05);
});

test('oracle gradients match finite differences; projection lands on the constraint', () => {
  const p = llcToy(4);
  const o = new LcqbOracle(p);
  const rng = new Rng(3);
  const x = rng.fillNormal(new Float64Array(p.n));
  const y = rng.fillNormal(new Float64Array(p.m));
  const G = { gx: new Float64Array(p.n), gy: new Float64Array(p.m) };
  o.upper(x, y, G);
  const fx = new Float64Array(p.n);
  const fy = new Float64Array(p.m);
  o.lower(x, y, fx, fy);
  const h = 1e-6;
  for (let i = 0; i < p.n; i++) {
    const xp = Float64Array.from(x);
    const xm = Float64Array.from(x);
    xp[i] += h;
    xm[i] -= h;
    assert.ok(Math.abs((o.upper(xp, y) - o.upper(xm, y)) / (2 * h) - G.gx[i]) < 1e-6);
    assert.ok(Math.abs((o.lower(xp, y, null, null) - o.lower(xm, y, null, null)) / (2 * h) - fx[i]) < 1e-6);
  }
  for (let i = 0; i < p.m; i++) {
    const yp = Float64Array.from(y);
    const ym = Float64Array.from(y);
    yp[i] += h;
    ym[i] -= h;
    assert.ok(Math.abs((o.upper(x, yp) - o.upper(x, ym)) / (2 * h) - G.gy[i]) < 1e-6);
    assert.ok(Math.abs((o.lower(x, yp, null, null) - o.lower(x, ym, null, null)) / (2 * h) - fy[i]) < 1e-6);
  }
  o.projectJoint(x, y);
  assert.ok(Math.abs(o.constraint(x, y)[0]) < 1e-12);
});

test('LV-HBA approaches the known LLC solution and spends exactly its budget', () => {
  const c = lvHbaSchema.parse({ n: 10, budget: 8000 });
  const o = new LcqbOracle(llcToy(10));
  const start = initialPoint(o, c.init, new Rng(0));
  const r = lvHba(o, lvHbaParams(c), start, c.budget, undefined, 50);
  const first = r.trace[0].relError;
  const last = r.trace[r.trace.length - 1].relError;
  assert.ok(first > 5, `start error ${first}`);
  assert.ok(last < 2e-2, `final error ${last}`);
  assert.ok(o.calls <= 8000 && o.calls > 8000 - 4);
});

test('experiment: runs both methods, logs prefixed metrics, writes artifacts; reads a JSON/.npy problem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvhba-'));
  const { dir: runDir, summary } = await runInProcess(lvHbaExperiment, { runsDir: join(dir, 'runs'), config: { n: 5, budget: 800, logEvery: 20 }, seed: 2 });
  const s = summary as Record<string, number>;
  assert.ok(s.lvhba_rel_error < s.vpbgd_rel_error * 100 && Number.isFinite(s.vpbgd_rel_error));
  const rows = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(rows.some((r) => 'lvhba/gap' in r && 'lvhba/oracle_calls' in r));
  assert.ok(rows.some((r) => 'vpbgd/gap' in r && 'vpbgd/residual' in r));
  for (const f of ['lvhba_x.npy', 'vpbgd_y.npy', 'lvhba_trace.npy', 'summary.json']) assert.ok(existsSync(join(runDir, 'artifacts', f)), f);
  assert.deepEqual(readNpy(join(runDir, 'artifacts', 'lvhba_x.npy')).shape, [5]);

  // The same toy written to files (Uy as .npy, the rest inline) gives the same problem.
  const p = llcToy(3);
  writeNpy(join(dir, 'Uy.npy'), p.Uy, [p.r, p.m]);
  const mat = (a: Float64Array, rows: number, cols: number) => Array.from({ length: rows }, (_, i) => Array.from(a.subarray(i * cols, (i + 1) * cols)));
  const json = {
    Ux: mat(p.Ux, p.r, p.n), Uy: 'Uy.npy', u: [...p.u], Q: mat(p.Q, p.m, p.m), P: mat(p.P, p.m, p.n), q: [...p.q],
    Cx: mat(p.Cx, 1, p.n), Cy: mat(p.Cy, 1, p.m), c: [0], xStar: [...p.xStar!],
  };
  writeFileSync(join(dir, 'llc.json'), JSON.stringify(json));
  const q = loadLcqb(join(dir, 'llc.json'));
  assert.deepEqual([q.n, q.m, q.r, q.k], [3, 6, 6, 1]);
  assert.deepEqual([...q.Uy], [...p.Uy]);
  const r2 = await runInProcess(lvHbaExperiment, { runsDir: join(dir, 'runs'), config: { problemFile: join(dir, 'llc.json'), budget: 400 } });
  assert.ok(Number.isFinite((r2.summary as Record<string, number>).lvhba_rel_error));

  writeFileSync(join(dir, 'shape.json'), JSON.stringify({ ...json, q: [1, 2] }));
  await assert.rejects(runInProcess(lvHbaExperiment, { runsDir: join(dir, 'runs'), config: { problemFile: join(dir, 'shape.json') } }), /field 'q' has shape \(2\), expected \(m=6\)/);
  writeFileSync(join(dir, 'asym.json'), JSON.stringify({ ...json, Q: mat(Float64Array.from(p.Q, (v, i) => (i === 1 ? 1 : v)), p.m, p.m) }));
  await assert.rejects(runInProcess(lvHbaExperiment, { runsDir: join(dir, 'runs'), config: { problemFile: join(dir, 'asym.json') } }), /'Q' must be symmetric/);
  writeFileSync(join(dir, 'dep.json'), JSON.stringify({ ...json, Cx: [mat(p.Cx, 1, p.n)[0], mat(p.Cx, 1, p.n)[0]], Cy: [mat(p.Cy, 1, p.m)[0], mat(p.Cy, 1, p.m)[0]], c: [0, 0] }));
  await assert.rejects(runInProcess(lvHbaExperiment, { runsDir: join(dir, 'runs'), config: { problemFile: join(dir, 'dep.json') } }), /linearly independent/);
  writeFileSync(join(dir, 'broken.json'), '{"Ux": [[1,');
  await assert.rejects(runInProcess(lvHbaExperiment, { runsDir: join(dir, 'runs'), config: { problemFile: join(dir, 'broken.json') } }), /malformed JSON/);
});

test('claim (fast form) passes for seed 0', async () => {
  const r = await lvHbaExperiment.claim!.fast({ seed: 0 });
  assert.ok(r.pass, r.summary);
});
