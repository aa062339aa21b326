import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng';
import { readNpy, writeNpy } from '../../../src/core/io/npy';
import {
  candidatePairs, centerColumns, covariance, expAcyclicity, fitOrder, graphAccuracy, logDetAcyclicityGradient, notears,
  orderFromEstimate, scoreAndGradient, simulateErDag, simulateLinearSem, simulateWeights, topo, topologicalOrder, topoNotearsExperiment,
} from '../../../src/core/solvers/topo-notears';
import { runInProcess } from '../../../src/lab/runs/context';

function problem(seed: number, d: number, edges: number, n: number) {
  const rng = new Rng(seed);
  const b = simulateErDag(rng, d, edges);
  const w = simulateWeights(rng, b);
  const x = centerColumns(simulateLinearSem(rng, w, d, n), n, d);
  return { w, x, s: covariance(x, n, d), rng };
}

test('graphAccuracy counts extra, missing and reversed edges like NOTEARS count_accuracy', () => {
  const d = 3;
  const t = Float64Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0]); // 0→1→2
  assert.deepEqual(graphAccuracy(t, t, d, 0.3), { shd: 0, tpr: 1, fdr: 0, nnz: 2 });
  const e = Float64Array.from([0, 0, 1, 1, 0, 0, 0, 0, 0]); // 1→0 (reversed), 0→2 (extra); 1→2 missing
  const a = graphAccuracy(t, e, d, 0.3);
  assert.equal(a.shd, 3);
  assert.equal(a.tpr, 0);
  assert.equal(a.fdr, 1);
});

test('score gradient matches finite differences; acyclicity functions vanish on DAGs', () => {
  const { s, w } = problem(3, 6, 8, 200);
  const d = 6;
  const w0 = Float64Array.from(w, (v, i) => v + 0.1 * Math.sin(i));
  const { score, grad } = scoreAndGradient(s, w0, d);
  for (const k of [1, 7, 20]) {
    const wp = Float64Array.from(w0); wp[k] += 1e-6;
    assert.ok(Math.abs((scoreAndGradient(s, wp, d).score - score) / 1e-6 - grad[k]) < 1e-4);
  }
  assert.ok(Math.abs(expAcyclicity(w, d).h) < 1e-10);
  const cyc = Float64Array.from([0, 1, 1, 0]);
  assert.ok(expAcyclicity(cyc, 2).h > 0.1);
  const { h, grad: gh } = expAcyclicity(Float64Array.from([0, 0.5, 0.3, 0]), 2);
  const hp = expAcyclicity(Float64Array.from([0, 0.5 + 1e-6, 0.3, 0]), 2).h;
  assert.ok(Math.abs((hp - h) / 1e-6 - gh[1]) < 1e-5);
  // ∇h of log-det: zero exactly where adding i→j keeps the graph acyclic (no path j ⇝ i)
  const chain = Float64Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0]);
  const g = logDetAcyclicityGradient(chain, 3);
  assert.ok(g[2 * 3 + 0] > 0); // 2→0 would close the cycle 0→1→2→0
  assert.equal(g[0 * 3 + 2], 0); // 0→2 is a shortcut: fine
});

test('fitOrder with the true order recovers W; orderFromEstimate breaks cycles at the weakest edge', () => {
  const d = 8;
  const { s, w } = problem(5, d, 10, 5000);
  const order = topologicalOrder(w, d, 0)!;
  const fit = fitOrder(s, d, order);
  for (let k = 0; k < d * d; k++) assert.ok(Math.abs(fit[k] - w[k]) < 0.1, `entry ${k}: ${fit[k]} vs ${w[k]}`);
  const cyc = Float64Array.from([0, 2, 0, 0, 0, 1, 0.5, 0, 0]); // 0→1→2→0, weakest 2→0
  assert.deepEqual(orderFromEstimate(cyc, 3, 0.3), [0, 1, 2]);
});

test('candidatePairs lists only forbidden pairs, smallest ∇h first, ties kept', () => {
  const chain = Float64Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0]);
  const g = logDetAcyclicityGradient(chain, 3);
  const pairs = candidatePairs(g, 3, [0, 1, 2], 1);
  // forbidden pairs: (1,0), (2,0), (2,1); ∇h(1,0) = 1, ∇h(2,1) = 1, ∇h(2,0) = 1 → all tie
  assert.equal(pairs.length, 3);
  for (const [i, j] of pairs) assert.ok([1, 2].includes(i) && j < i);
});

test('TOPO decreases the score monotonically and beats a random order; NOTEARS returns a near-DAG', () => {
  const d = 10;
  const { s, w, rng } = problem(11, d, 20, 1000);
  const init = rng.shuffle(Array.from({ length: d }, (_, i) => i));
  const scores: number[] = [];
  const r = topo(s, d, init, { sizeSmall: 100, sizeLarge: 400, noLargeSearch: 1, maxIter: 500, timeLimitS: 30, ridge: 1e-10, onIteration: (it) => scores.push(it.score) });
  for (let k = 1; k < scores.length; k++) assert.ok(scores[k] < scores[k - 1]);
  assert.ok(r.score < scoreAndGradient(s, fitOrder(s, d, init), d).score);
  assert.ok(topologicalOrder(r.W, d, 0), 'TOPO output is a DAG');
  assert.ok(graphAccuracy(w, r.W, d, 0.3).shd <= 2);
  const nt = notears(s, d, { lambda1: 0, maxIter: 100, hTol: 1e-8, rhoMax: 1e16, innerMaxIter: 15000, timeLimitS: 60 });
  assert.ok(nt.h <= 1e-7, `h = ${nt.h}`);
  assert.ok(topologicalOrder(nt.W, d, 0.3), 'thresholded NOTEARS output is a DAG');
});

test('experiment runs from a problem file, writes artifacts and traces; bad files give clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'topo-test-'));
  const d = 6, n = 300;
  const rng = new Rng(2);
  const w = simulateWeights(rng, simulateErDag(rng, d, 6));
  const x = simulateLinearSem(rng, w, d, n);
  // inline JSON arrays (.npy fields go through the same loader, src/core/io/problem-file.ts)
  const rows2d = (a: Float64Array, r: number, c: number) => Array.from({ length: r }, (_, i) => Array.from(a.subarray(i * c, (i + 1) * c)));
  writeFileSync(join(dir, 'problem.json'), JSON.stringify({ X: rows2d(x, n, d), W_true: rows2d(w, d, d) }));
  writeFileSync(join(dir, 'X.json'), JSON.stringify({ X: rows2d(x, n, d) }));
  const runsDir = join(dir, 'runs');
  const { dir: runDir, summary } = await runInProcess(topoNotearsExperiment, { runsDir, config: { dataFile: join(dir, 'problem.json') }, seed: 1 });
  const sum = summary as any;
  assert.equal(sum.d, d);
  assert.ok(sum.methods.topo.shd !== null && sum.methods.notears.score > 0);
  const wTopo = readNpy(join(runDir, 'artifacts', 'W_topo.npy'));
  assert.deepEqual(wTopo.shape, [d, d]);
  assert.ok(existsSync(join(runDir, 'artifacts', 'summary.json')));
  const rows = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(rows.some((r) => 'notears/objective' in r) && rows.some((r) => 'topo/objective' in r));
  // data without ground truth: SHD is null
  const r2 = await runInProcess(topoNotearsExperiment, { runsDir, config: { dataFile: join(dir, 'X.json'), postProcess: false } });
  assert.equal((r2.summary as any).methods.topo.shd, null);
  // .npy problem data: X alone, and X / W_true as .npy paths inside a JSON file
  writeNpy(join(dir, 'X.npy'), x, [n, d]);
  writeNpy(join(dir, 'W.npy'), w, [d, d]);
  writeFileSync(join(dir, 'npy.json'), JSON.stringify({ X: 'X.npy', W_true: 'W.npy' }));
  const r3 = await runInProcess(topoNotearsExperiment, { runsDir, config: { dataFile: join(dir, 'npy.json'), postProcess: false }, seed: 1 });
  assert.equal((r3.summary as any).methods.topo.shd, sum.methods.topo.shd);
  const r4 = await runInProcess(topoNotearsExperiment, { runsDir, config: { dataFile: join(dir, 'X.npy'), postProcess: false } });
  assert.equal((r4.summary as any).d, d);
  writeNpy(join(dir, 'X1.npy'), x, [n * d]);
  await assert.rejects(runInProcess(topoNotearsExperiment, { runsDir, config: { dataFile: join(dir, 'X1.npy') } }), /field 'X' has shape \(1800\), expected \(n, d\)/);
  // errors
  writeFileSync(join(dir, 'bad.json'), '{"X": [[1, 2], [3]]}');
  await assert.rejects(runInProcess(topoNotearsExperiment, { runsDir, config: { dataFile: join(dir, 'bad.json') } }), /ragged/);
  writeFileSync(join(dir, 'shape.json'), JSON.stringify({ X: rows2d(x, n, d), W_true: [[0, 1], [0, 0]] }));
  await assert.rejects(runInProcess(topoNotearsExperiment, { runsDir, config: { dataFile: join(dir, 'shape.json') } }), /W_true.*shape \(2, 2\), expected \(d=6, d=6\)/);
  writeFileSync(join(dir, 'cyc.json'), JSON.stringify({ X: [[1, 2], [2, 1], [0, 1]], W_true: [[0, 1], [1, 0]] }));
  await assert.rejects(runInProcess(topoNotearsExperiment, { runsDir, config: { dataFile: join(dir, 'cyc.json') } }), /not acyclic/);
  writeFileSync(join(dir, 'broken.json'), '{"X": [[1, 2]');
  await assert.rejects(runInProcess(topoNotearsExperiment, { runsDir, config: { dataFile: join(dir, 'broken.json') } }), /malformed JSON/);
  await assert.rejects(runInProcess(topoNotearsExperiment, { runsDir, config: { dataFile: join(dir, 'missing.npy') } }), /cannot read file/);
});

test('topo-notears fast claim passes for seed 0', async () => {
  const r = await topoNotearsExperiment.claim!.fast({ seed: 0 });
  assert.ok(r.pass, r.summary);
});

test('a cancelled run stops with a cancellation error', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(runInProcess(topoNotearsExperiment, { config: { nodes: 8 }, signal: ac.signal }), /cancel/);
});
