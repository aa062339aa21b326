import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng';
import {
  LeastSquares, acceleratedGradient, fista, kdeMutualInformation, nonconvexPenaltiesExperiment, pearsonScores, penaltyProx, penaltyValue,
  proxGradient, proxNonlinearCg, supportScore, topK, type Penalty,
} from '../../../src/core/solvers/nonconvex-penalties';
import { runInProcess } from '../../../src/lab/runs/context';

const pens: Penalty[] = [
  { kind: 'lasso', lambda: 0.7, shape: 1 },
  { kind: 'scad', lambda: 0.7, shape: 3.7 },
  { kind: 'mcp', lambda: 0.7, shape: 3 },
];

test('closed-form proximal maps of lasso/SCAD/MCP equal a brute-force argmin', () => {
  for (const pen of pens) for (const t of [0.3, 1]) for (let z = -4; z <= 4; z += 0.37) {
    const prox = penaltyProx(pen, z, t);
    let best = Infinity, arg = 0;
    for (let x = -5; x <= 5; x += 2e-4) {
      const v = 0.5 * (x - z) ** 2 + t * penaltyValue(pen, x);
      if (v < best) { best = v; arg = x; }
    }
    assert.ok(Math.abs(prox - arg) < 4e-4, `${pen.kind} t=${t} z=${z}: ${prox} vs ${arg}`);
  }
});

test('SCAD and MCP penalties are continuous and flat beyond aλ / γλ', () => {
  for (const pen of pens.slice(1)) {
    const knots = [pen.lambda, pen.shape * pen.lambda];
    for (const k of knots) assert.ok(Math.abs(penaltyValue(pen, k - 1e-9) - penaltyValue(pen, k + 1e-9)) < 1e-8);
    assert.equal(penaltyValue(pen, 10), penaltyValue(pen, 20));
  }
});

test('KDE mutual information: ≈ 0 for independent pairs, large for y = x², ≈ −½log(1−ρ²) for Gaussians', () => {
  const rng = new Rng(3);
  const n = 2000;
  const x = rng.fillNormal(new Float64Array(n));
  const e = rng.fillNormal(new Float64Array(n));
  const indep = kdeMutualInformation(x, e, 64);
  const square = kdeMutualInformation(x, x.map((v, i) => v * v + 0.1 * e[i]), 64);
  const rho = 0.8;
  const gauss = kdeMutualInformation(x, x.map((v, i) => rho * v + Math.sqrt(1 - rho * rho) * e[i]), 64);
  assert.ok(indep < 0.03, `independent: ${indep}`);
  assert.ok(square > 0.5, `square: ${square}`);
  const truth = -0.5 * Math.log(1 - rho * rho);
  assert.ok(Math.abs(gauss - truth) < 0.12, `gaussian: ${gauss} vs ${truth}`);
  // Pearson misses the even relation that MI sees
  const X = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) { X[i * 2] = x[i]; X[i * 2 + 1] = e[i]; }
  const yq = x.map((v) => v * v);
  assert.ok(pearsonScores(X, yq, n, 2)[0] < 0.1);
  assert.deepEqual(topK(Float64Array.from([0.1, 0.5, 0.3]), 2), [1, 2]);
  const sc = supportScore([1, 2, 3], [1, 2]);
  assert.ok(sc.tpr === 1 && Math.abs(sc.fdr - 1 / 3) < 1e-12 && Math.abs(sc.f1 - 0.8) < 1e-12 && sc.selected === 3);
});

test('all solvers descend to the same stationary point; prox-NCG is monotone and uses fewer products than ISTA', () => {
  const rng = new Rng(9);
  const n = 100, p = 40;
  const X = rng.fillNormal(new Float64Array(n * p));
  for (let i = 0; i < n; i++) for (let j = 1; j < p; j++) X[i * p + j] = 0.6 * X[i * p + j - 1] + 0.8 * X[i * p + j];
  const beta = new Float64Array(p);
  beta[3] = 2; beta[10] = -1.5; beta[25] = 3;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) { let s = 0.5 * rng.normal(); for (let j = 0; j < p; j++) s += X[i * p + j] * beta[j]; y[i] = s; }
  const ls = new LeastSquares(X, y, n, p);
  const opts = { maxIter: 3000, tol: 1e-12 };
  for (const pen of pens.slice(1)) {
    const ista = proxGradient(ls, pen, opts);
    const ncg = proxNonlinearCg(ls, pen, { ...opts, alpha0: 4 });
    const ag = acceleratedGradient(ls, pen, { ...opts, damping: 1 });
    for (let k = 1; k < ncg.trace.length; k++) assert.ok(ncg.trace[k].objective <= ncg.trace[k - 1].objective + 1e-12);
    assert.ok(Math.abs(ista.objective - ncg.objective) < 1e-8, `${pen.kind}: ${ista.objective} vs ${ncg.objective}`);
    assert.ok(ag.objective < ista.trace[0].objective);
    const reach = (tr: { objective: number; matvecs: number }[]) => tr.find((t) => t.objective - ista.objective <= 1e-6)!.matvecs;
    assert.ok(reach(ncg.trace) < reach(ista.trace), `${pen.kind}: ${reach(ncg.trace)} vs ${reach(ista.trace)}`);
    const support = Array.from(ncg.beta.keys()).filter((j) => ncg.beta[j] !== 0);
    assert.deepEqual(support, [3, 10, 25]);
  }
  const lasso = fista(ls, pens[0], opts);
  assert.ok(Array.from(lasso.beta.keys()).filter((j) => lasso.beta[j] !== 0).length >= 3);
});

test('experiment runs from a JSON problem, logs traces, writes artifacts; malformed input names the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ncp-test-'));
  const rng = new Rng(4);
  const n = 80, p = 30;
  const X = Array.from({ length: n }, () => Array.from({ length: p }, () => rng.normal()));
  const y = X.map((r) => 2 * r[1] - 1.5 * r[7] + r[12] ** 2 + 0.3 * rng.normal());
  writeFileSync(join(dir, 'p.json'), JSON.stringify({ X, y, linear: [1, 7], nonlinear: [12] }));
  const runsDir = join(dir, 'runs');
  const cfg = { dataFile: join(dir, 'p.json'), screenTo: 10, miGrid: 32 };
  const { dir: runDir, summary } = await runInProcess(nonconvexPenaltiesExperiment, { runsDir, config: cfg });
  const s = summary as any;
  assert.equal(s.p, p);
  assert.equal(s.screening.mi_recall, 1);
  assert.ok(s.fits.ncg_scad.tpr === 1 && s.fits.lasso.tpr === 1);
  for (const f of ['beta_lasso.npy', 'beta_ncg_mcp.npy', 'mi_scores.npy', 'survivors.npy', 'summary.json']) assert.ok(existsSync(join(runDir, 'artifacts', f)), f);
  const rows = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(rows.some((r) => 'ncg_scad/gap' in r) && rows.some((r) => 'ista_mcp/objective' in r) && rows.some((r) => 'lasso/objective' in r));
  writeFileSync(join(dir, 'noy.json'), JSON.stringify({ X }));
  await assert.rejects(runInProcess(nonconvexPenaltiesExperiment, { runsDir, config: { ...cfg, dataFile: join(dir, 'noy.json') } }), /missing field 'y'/);
  writeFileSync(join(dir, 'ylen.json'), JSON.stringify({ X, y: y.slice(1) }));
  await assert.rejects(runInProcess(nonconvexPenaltiesExperiment, { runsDir, config: { ...cfg, dataFile: join(dir, 'ylen.json') } }), /'y' has shape \(79\), expected \(n=80\)/);
  writeFileSync(join(dir, 'idx.json'), JSON.stringify({ X, y, linear: [1, 99] }));
  await assert.rejects(runInProcess(nonconvexPenaltiesExperiment, { runsDir, config: { ...cfg, dataFile: join(dir, 'idx.json') } }), /'linear'\[1\] = 99 is not a column index/);
});

test('a cancelled screening run stops with a cancellation error', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(runInProcess(nonconvexPenaltiesExperiment, { config: { features: 50, screenTo: 10 }, signal: ac.signal }), /cancel/);
});
