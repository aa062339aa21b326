import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng';
import { bitsPerWeight, dequantize, jlcm, kmeans1d, kmeansCompress, nearest } from '../../../src/lab/optimizers/jlcm';
import { metricNames, runForTest, tempDir } from './helpers';

test('jlcm: 1-D k-means finds well-separated clusters and returns sorted centroids', () => {
  const rng = new Rng(1);
  const v = Float64Array.from({ length: 600 }, (_, i) => [-2, 0.5, 3][i % 3] + 0.05 * rng.normal());
  const { centroids, labels } = kmeans1d(v, 3, 50);
  [-2, 0.5, 3].forEach((c, k) => assert.ok(Math.abs(centroids[k] - c) < 0.02, `centroid ${k}: ${centroids[k]}`));
  for (let i = 0; i < v.length; i++) assert.equal(labels[i], i % 3);
  assert.equal(nearest([-1, 0, 1], 0.6), 2);
});

test('jlcm: grouped codebooks quantize at least as well as one per tensor; bits per weight count the overhead', () => {
  const rng = new Rng(2);
  const rows = 32, cols = 16;
  // rows with very different scales: one codebook per tensor wastes codewords
  const w = Float32Array.from({ length: rows * cols }, (_, i) => rng.normal() * (Math.floor(i / cols) < 16 ? 0.01 : 1));
  const err = (m: ReturnType<typeof kmeansCompress>) => {
    const q = dequantize(m, new Float32Array(rows * cols));
    return q.reduce((a, v, i) => a + (Math.floor(i / cols) < 16 ? (v - w[i]) ** 2 : 0), 0); // on the small-scale rows
  };
  const one = kmeansCompress(w, rows, cols, 4, 1, 30);
  const four = kmeansCompress(w, rows, cols, 4, 4, 30);
  assert.ok(err(four) < 0.5 * err(one), `small-row error: grouped ${err(four)} vs per-tensor ${err(one)}`);
  assert.equal(bitsPerWeight([one]), 2 + (4 * 32) / (rows * cols));
  assert.equal(bitsPerWeight([four]), 2 + (4 * 4 * 32 + rows * 2) / (rows * cols));
});

test('jlcm: a tiny run compresses, learns and logs every variant', async () => {
  const dir = tempDir();
  const file = join(dir, 'corpus.txt');
  writeFileSync(file, 'a rose is a rose is a rose. '.repeat(150));
  const run = await runForTest(jlcm, { corpusFile: file, hiddenSize: 16, layers: 1, intermediateSize: 32, seqLen: 16, batchSize: 2, pretrainSteps: 10, iterations: 5, evalBatches: 2, kmeansIterations: 5 });
  const names = metricNames(run);
  for (const k of ['pretrain/loss', 'jlcm/calib_loss', 'jlcm/mapping_moves', 'kmeans/ppl', 'jlcm/ppl', 'fp32/ppl', 'kmeans/bpw', 'jlcm/bpw', 'wall_s']) assert.ok(names.has(k), `missing ${k}`);
  const s = run.summary as Record<string, number>;
  assert.ok(s.jlcm_bpw > s.kmeans_bpw, 'group codebooks and row-group ids cost bits'); // tiny matrices: large overhead
  assert.ok(run.artifacts.has('summary.json') && run.artifacts.has('jlcm_codebooks.npy'));
});
