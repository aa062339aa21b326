import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  evaluateDual,
  loadOtProblem,
  makeOtProblem,
  randomPointClouds,
  sinkhornLog,
  sinkhornNewtonSparse,
  sinkhornSnsExperiment,
  sparsifyPlan,
  transportPlan,
} from '../../../src/core/solvers/sinkhorn-sns';
import { writeNpy, readNpy } from '../../../src/core/io/npy';
import { Rng } from '../../../src/core/rng';
import { runInProcess } from '../../../src/lab/runs/context';

test('dual gradient is r − P1, c − Pᵀ1 (finite differences)', () => {
  const p = randomPointClouds(new Rng(1), 5, 4);
  const eta = 7;
  const rng = new Rng(2);
  const x = Float64Array.from({ length: 5 }, () => rng.normal() * 0.1);
  const y = Float64Array.from({ length: 4 }, () => rng.normal() * 0.1);
  const base = evaluateDual(p, eta, x, y);
  const h = 1e-6;
  for (let i = 0; i < 5; i++) {
    const xp = Float64Array.from(x);
    xp[i] += h;
    const xm = Float64Array.from(x);
    xm[i] -= h;
    const fd = (evaluateDual(p, eta, xp, y).f - evaluateDual(p, eta, xm, y).f) / (2 * h);
    assert.ok(Math.abs(fd - (p.r[i] - base.rowSums[i])) < 1e-7);
  }
  for (let j = 0; j < 4; j++) {
    const yp = Float64Array.from(y);
    yp[j] += h;
    const ym = Float64Array.from(y);
    ym[j] -= h;
    const fd = (evaluateDual(p, eta, x, yp).f - evaluateDual(p, eta, x, ym).f) / (2 * h);
    assert.ok(Math.abs(fd - (p.c[j] - base.colSums[j])) < 1e-7);
  }
});

test('Sinkhorn recovers the product plan r cᵀ of a zero-cost problem', () => {
  // with zero cost the entropic plan is the product r cᵀ
  const p = makeOtProblem(new Float64Array(6), 2, 3, Float64Array.of(0.3, 0.7), Float64Array.of(0.2, 0.5, 0.3));
  const res = sinkhornLog(p, { eta: 10, tol: 1e-13, maxIter: 100 });
  assert.ok(res.converged);
  const plan = transportPlan(p, 10, res.x, res.y);
  const want = [0.06, 0.15, 0.09, 0.14, 0.35, 0.21];
  plan.forEach((v, k) => assert.ok(Math.abs(v - want[k]) < 1e-12));
});

test('sparsifyPlan keeps the largest entries', () => {
  const plan = Float64Array.of(0.1, 0.5, 0.05, 0.3, 0.02, 0.03);
  const sp = sparsifyPlan(plan, 2, 3, 3);
  assert.deepEqual(Array.from(sp.values), [0.1, 0.5, 0.3]);
  assert.deepEqual(Array.from(sp.colIdx), [0, 1, 0]);
  assert.deepEqual(Array.from(sp.rowPtr), [0, 2, 3]);
});

test('SNS converges to 1e-10 in a few Newton steps where Sinkhorn needs hundreds, same plan', () => {
  const p = randomPointClouds(new Rng(3), 80, 90);
  const opts = { eta: 300, tol: 1e-10, n1: 10, n2: 50, keepPerRow: 20, cgTol: 1e-11, cgMaxIter: 500, armijo: 1e-4 };
  const sns = sinkhornNewtonSparse(p, opts);
  const sk = sinkhornLog(p, { eta: 300, tol: 1e-10, maxIter: 20000 });
  assert.ok(sns.converged && sk.converged);
  assert.ok(sns.newtonIterations <= 15, `newton ${sns.newtonIterations}`);
  assert.ok(sk.iterations > 5 * sns.iterations, `${sk.iterations} vs ${sns.iterations}`);
  const a = transportPlan(p, 300, sns.x, sns.y);
  const b = transportPlan(p, 300, sk.x, sk.y);
  let l1 = 0;
  for (let k = 0; k < a.length; k++) l1 += Math.abs(a[k] - b[k]);
  assert.ok(l1 < 1e-8, `plan L1 ${l1}`);
  // the trace is monotone in iterations and ends at the reported error
  assert.equal(sns.trace.at(-1)!.error, sns.error);
});

test('OT problem files: JSON, .npy, and clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sns-file-'));
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ C: [[0, 1], [1, 0], [0.5, 0.5]], r: [1, 1, 2], c: [2, 2] }));
  const p = loadOtProblem(good);
  assert.equal(p.n, 3);
  assert.equal(p.m, 2);
  assert.ok(Math.abs(p.r[2] - 0.5) < 1e-15 && Math.abs(p.c[0] - 0.5) < 1e-15);
  const npy = join(dir, 'C.npy');
  writeNpy(npy, Float64Array.of(0, 1, 1, 0), [2, 2]);
  assert.equal(loadOtProblem(npy).costT.length, 4);
  const write = (name: string, body: unknown) => {
    const f = join(dir, name);
    writeFileSync(f, typeof body === 'string' ? body : JSON.stringify(body));
    return f;
  };
  assert.throws(() => loadOtProblem(write('m.json', '{"C": [[0, 1]')), /malformed JSON/);
  assert.throws(() => loadOtProblem(write('r.json', { C: [[0, 1], [1, 0]], r: [1, 1, 1] })), /field 'r' has shape \(3\), expected \(n=2\)/);
  assert.throws(() => loadOtProblem(write('neg.json', { C: [[0, 1], [1, 0]], c: [1, 0] })), /'c' must be strictly positive; c\[1\] = 0/);
  assert.throws(() => loadOtProblem(write('rag.json', { C: [[0, 1], [1]] })), /ragged/);
  const vec = join(dir, 'v.npy');
  writeNpy(vec, Float64Array.of(1, 2, 3));
  assert.throws(() => loadOtProblem(vec), /field 'C' has shape \(3\), expected \(n, m\)/);
});

test('sinkhorn-sns experiment runs in process, logs both methods and writes artifacts', async () => {
  const { dir, summary } = await runInProcess(sinkhornSnsExperiment, { config: { n: 40, m: 50, eta: 100 }, seed: 2 });
  const s = summary as Record<string, any>;
  assert.ok(s.sns_converged && s.sinkhorn_converged);
  assert.ok(s.plan_l1_difference < 1e-6);
  for (const f of ['plan_sns.npy', 'plan_sinkhorn.npy', 'trace_sns.npy', 'trace_sinkhorn.npy', 'summary.json']) assert.ok(existsSync(join(dir, 'artifacts', f)), f);
  assert.deepEqual(readNpy(join(dir, 'artifacts', 'plan_sns.npy')).shape, [40, 50]);
  const rows = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(rows.some((r) => 'sns/residual' in r && 'sns/kept_entries' in r));
  assert.ok(rows.some((r) => 'sinkhorn/residual' in r));
});

test('sinkhorn-sns fast claim passes for seed 0', async () => {
  const r = await sinkhornSnsExperiment.claim!.fast({ seed: 0 });
  assert.ok(r.pass, r.summary);
});
