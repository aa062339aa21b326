import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../../src/core/io/npy';
import { Rng } from '../../../src/core/rng';
import {
  bilevelPenaltyExperiment, BoxBilevelOracle, callsToEpsilon, exactMinimum1d, generateBoxBilevel, goldsteinStationarity, loadBoxBilevel,
} from '../../../src/core/solvers/bilevel-penalty';
import { runInProcess } from '../../../src/lab/runs/context';

test('oracle gradients match finite differences of f and g', () => {
  const p = generateBoxBilevel(new Rng(1), 3, 4, 0.2);
  const o = new BoxBilevelOracle(p);
  const rng = new Rng(2);
  const x = rng.fillNormal(new Float64Array(3));
  const y = rng.fillNormal(new Float64Array(4));
  const g = (x: Float64Array, y: Float64Array) => {
    let s = 0;
    for (let j = 0; j < 4; j++) {
      let ax = 0;
      for (let i = 0; i < 3; i++) ax += p.A[j * 3 + i] * x[i];
      s += 0.5 * (y[j] - ax) ** 2;
    }
    return s;
  };
  const f = (x: Float64Array, y: Float64Array) => y.reduce((a, v, j) => a + 0.5 * (v - p.yt[j]) ** 2, 0) + 0.5 * p.mu * x.reduce((a, v) => a + v * v, 0);
  const h = 1e-6;
  const fd = (fn: (x: Float64Array, y: Float64Array) => number, wrt: 'x' | 'y', i: number) => {
    const a = wrt === 'x' ? [Float64Array.from(x), Float64Array.from(x)] : [Float64Array.from(y), Float64Array.from(y)];
    a[0][i] += h;
    a[1][i] -= h;
    return wrt === 'x' ? (fn(a[0], y) - fn(a[1], y)) / (2 * h) : (fn(x, a[0]) - fn(x, a[1])) / (2 * h);
  };
  const gx = o.gradGx(x, y);
  const fx = o.gradFx(x, y);
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(fd(g, 'x', i) - gx[i]) < 1e-6);
    assert.ok(Math.abs(fd(f, 'x', i) - fx[i]) < 1e-6);
  }
  const gy = o.gradGy(x, y);
  const fy = o.gradFy(x, y);
  for (let j = 0; j < 4; j++) {
    assert.ok(Math.abs(fd(g, 'y', j) - gy[j]) < 1e-6);
    assert.ok(Math.abs(fd(f, 'y', j) - fy[j]) < 1e-6);
  }
  // ∇ψ matches finite differences of ψ away from kinks
  const gp = o.gradPsi(x);
  for (let i = 0; i < 3; i++) {
    const xp = Float64Array.from(x);
    const xm = Float64Array.from(x);
    xp[i] += h;
    xm[i] -= h;
    assert.ok(Math.abs((o.psi(xp) - o.psi(xm)) / (2 * h) - gp[i]) < 1e-5);
  }
  assert.equal(o.calls, 4);
});

test('exact 1-D minimum agrees with a fine grid; Goldstein stationarity is zero there and positive elsewhere', () => {
  for (let seed = 0; seed < 5; seed++) {
    const p = generateBoxBilevel(new Rng(seed), 1, 5, 0.1);
    const o = new BoxBilevelOracle(p);
    const ex = exactMinimum1d(p);
    let best = Infinity;
    for (let u = -5; u <= 5; u += 1e-4) best = Math.min(best, o.psi(Float64Array.of(u)));
    // exact is never above the grid, and the grid (step 1e-4, slopes ≲ 10) is within 1e-3 of it
    assert.ok(ex.psiStar <= best + 1e-12 && best - ex.psiStar < 1e-3, `seed ${seed}: grid ${best} vs exact ${ex.psiStar}`);
    assert.equal(goldsteinStationarity(o, Float64Array.of(ex.xStar), 1e-3), 0);
    assert.ok(goldsteinStationarity(o, Float64Array.of(ex.xStar + 0.5), 1e-3) > 0);
  }
});

test('callsToEpsilon needs the measure to stay below ε', () => {
  const t = [5, 0.5, 1e-4, 2, 1e-4, 1e-5].map((s, i) => ({ iteration: i, oracleCalls: 10 * i, stationarity: s, distance: 0, gap: 0, psi: 0, sigma: 0, wall_s: 0 }));
  assert.equal(callsToEpsilon(t, 1e-3), 40);
  assert.equal(callsToEpsilon(t.slice(0, 4), 1e-3), Infinity);
});

test('experiment: both methods logged with prefixes, artifacts written, problem read from JSON/.npy with clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bilevel-penalty-'));
  const runsDir = join(dir, 'runs');
  const { dir: runDir, summary } = await runInProcess(bilevelPenaltyExperiment, { runsDir, config: { budget: 3000 }, seed: 4 });
  const s = summary as Record<string, number>;
  assert.ok(s.penalty_gap < s.aid_gap);
  const rows = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(rows.some((r) => 'penalty/residual' in r && 'penalty/sigma' in r && 'penalty/gap' in r));
  assert.ok(rows.some((r) => 'aid/residual' in r && 'aid/oracle_calls' in r));
  for (const f of ['penalty_x.npy', 'aid_x.npy', 'penalty_trace.npy', 'summary.json']) assert.ok(existsSync(join(runDir, 'artifacts', f)), f);

  writeNpy(join(dir, 'A.npy'), Float64Array.from([1, 0.8, 1.2]), [3, 1]);
  writeFileSync(join(dir, 'p.json'), JSON.stringify({ A: 'A.npy', yt: [2, 1.5, 0.3], mu: 0.1 }));
  const p = loadBoxBilevel(join(dir, 'p.json'));
  assert.deepEqual([p.dx, p.dy, p.bound], [1, 3, 1]);
  const r = await runInProcess(bilevelPenaltyExperiment, { runsDir, config: { problemFile: join(dir, 'p.json'), budget: 6000 } });
  assert.ok((r.summary as Record<string, number>).penalty_calls_to_epsilon! > 0);
  // a bare .npy holds A (targets default to 0)
  assert.deepEqual([...loadBoxBilevel(join(dir, 'A.npy')).yt], [0, 0, 0]);

  writeFileSync(join(dir, 'bad-yt.json'), JSON.stringify({ A: [[1], [2]], yt: [1, 2, 3] }));
  await assert.rejects(runInProcess(bilevelPenaltyExperiment, { runsDir, config: { problemFile: join(dir, 'bad-yt.json') } }), /field 'yt' has shape \(3\), expected \(dy=2\)/);
  writeFileSync(join(dir, 'bad-mu.json'), JSON.stringify({ A: [[1]], yt: [1], mu: -1 }));
  await assert.rejects(runInProcess(bilevelPenaltyExperiment, { runsDir, config: { problemFile: join(dir, 'bad-mu.json') } }), /'mu' must be positive/);
  writeFileSync(join(dir, 'bad.json'), '{"A": [[1], [2]');
  await assert.rejects(runInProcess(bilevelPenaltyExperiment, { runsDir, config: { problemFile: join(dir, 'bad.json') } }), /malformed JSON/);
});

test('stochastic oracles: noisy runs are reproducible per seed and the penalty method still beats AID on ψ', async () => {
  const { compareBilevelPenalty, bilevelPenaltySchema } = await import('../../../src/core/solvers/bilevel-penalty');
  const c = bilevelPenaltySchema.parse({ budget: 12000, noise: 0.05 });
  const a = compareBilevelPenalty(c, new Rng(1));
  const b = compareBilevelPenalty(c, new Rng(1));
  const last = <T>(t: T[]) => t[t.length - 1];
  assert.equal(last(a.pen.trace).psi, last(b.pen.trace).psi);
  const clean = compareBilevelPenalty(bilevelPenaltySchema.parse({ budget: 12000 }), new Rng(1));
  assert.notEqual(last(a.pen.trace).psi, last(clean.pen.trace).psi);
  assert.ok(last(a.pen.trace).gap < 0.1 * last(a.aid.trace).gap, `penalty gap ${last(a.pen.trace).gap}, AID gap ${last(a.aid.trace).gap}`);
});

test('claim (fast form) passes for seed 0', async () => {
  const r = await bilevelPenaltyExperiment.claim!.fast({ seed: 0 });
  assert.ok(r.pass, r.summary);
});
