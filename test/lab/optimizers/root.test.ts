import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootExperiment, loadCorpusBytes, matrixShapes, orthogonalizationStudy, rootSchema } from '../../../src/lab/optimizers/root';
import { metricNames, runForTest, tempDir } from './helpers';

test('root: a tiny run from a text file logs every method, the spiked runs and artifacts', async () => {
  const dir = tempDir();
  const file = join(dir, 'corpus.txt');
  writeFileSync(file, 'The quick brown fox jumps over the lazy dog. '.repeat(200));
  const run = await runForTest(rootExperiment, { corpusFile: file, hiddenSize: 16, layers: 1, heads: 2, intermediateSize: 32, seqLen: 16, batchSize: 2, steps: 6, warmup: 1, evalEvery: 3, evalBatches: 1, orthoSamples: 2 });
  const names = metricNames(run);
  for (const k of ['root/val_loss', 'muon/val_loss', 'adamw/val_loss', 'muon_spiked/val_loss', 'root_spiked/val_loss', 'root/ortho_error', 'muon/ortho_error', 'wall_s']) assert.ok(names.has(k), `missing metric ${k}`);
  assert.ok(run.artifacts.has('val_curves.npy') && run.artifacts.has('summary.json'));
  const val = run.summary.val_loss as Record<string, number>;
  // a repetitive text is learnable: every method goes below the uniform byte loss ln 256
  for (const [k, v] of Object.entries(val)) assert.ok(v < Math.log(256), `${k}: ${v}`);
});

test('root: bad inputs give clear errors', () => {
  assert.throws(() => loadCorpusBytes('/nonexistent/corpus.txt'), /corpusFile: cannot read/);
  const dir = tempDir();
  writeFileSync(join(dir, 'small.txt'), 'too short');
  assert.throws(() => loadCorpusBytes(join(dir, 'small.txt')), /at least 2000/);
  assert.throws(() => rootSchema.parse({ quantile: 1.5 }));
});

test('root: the model matrix shapes are covered by the fitted table and beat Muon held out', () => {
  const c = rootSchema.parse({});
  const rows = orthogonalizationStudy(matrixShapes(c), 4, 5, 7);
  assert.equal(rows.length, 2);
  for (const r of rows) assert.ok(r.root < r.muon, `${r.shape}: ${r.root} vs ${r.muon}`);
});
