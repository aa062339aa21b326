import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeNpy } from '../../../src/core/io/npy';
import { loadDataset, withBias } from '../../../src/lab/optimizers/data';
import { tempDir } from './helpers';

const opts = { xField: 'dataX', yField: 'dataY', labels: 'binary' as const };

test('loads X/y from .npy and maps {0,1} labels to ±1', () => {
  const dir = tempDir();
  writeNpy(join(dir, 'X.npy'), Float64Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
  writeNpy(join(dir, 'y.npy'), Int32Array.from([0, 1, 1]));
  const ds = loadDataset(join(dir, 'X.npy'), join(dir, 'y.npy'), opts);
  assert.equal(ds.n, 3);
  assert.equal(ds.d, 2);
  assert.deepEqual([...ds.y], [-1, 1, 1]);
  const b = withBias(ds);
  assert.equal(b.d, 3);
  assert.deepEqual([...b.X.slice(0, 3)], [1, 2, 1]);
});

test('loads a single {"X","y"} JSON file', () => {
  const dir = tempDir();
  const p = join(dir, 'data.json');
  writeFileSync(p, JSON.stringify({ X: [[1, 0], [0, 1]], y: [1, -1] }));
  const ds = loadDataset(p, '', opts);
  assert.deepEqual([...ds.X], [1, 0, 0, 1]);
  assert.deepEqual([...ds.y], [1, -1]);
});

test('bad data files give errors naming the field, file and problem', () => {
  const dir = tempDir();
  const X = join(dir, 'X.npy');
  writeNpy(X, Float64Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
  const y2 = join(dir, 'y2.npy');
  writeNpy(y2, Float64Array.from([1, -1]));
  assert.throws(() => loadDataset(X, y2, opts), /dataY: .*has 2 targets but X has 3 rows/);
  const y3 = join(dir, 'y3.npy');
  writeNpy(y3, Float64Array.from([1, 2, -1]));
  assert.throws(() => loadDataset(X, y3, opts), /dataY: .*binary labels.*entry 1 is 2/);
  const x1 = join(dir, 'x1.npy');
  writeNpy(x1, Float64Array.from([1, 2, 3]));
  assert.throws(() => loadDataset(x1, y3, opts), /dataX: .*must be a 2-D array/);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"X": [[1, 2], [3]]');
  assert.throws(() => loadDataset(bad, '', opts), /dataX: .*not valid JSON/);
  const ragged = join(dir, 'ragged.json');
  writeFileSync(ragged, JSON.stringify({ X: [[1, 2], [3]], y: [1, 1] }));
  assert.throws(() => loadDataset(ragged, '', opts), /dataX: .*row 1 has 1 entries, expected 2/);
  const nan = join(dir, 'nan.json');
  writeFileSync(nan, JSON.stringify({ X: [[1, 'a'], [3, 4]], y: [1, 1] }));
  assert.throws(() => loadDataset(nan, '', opts), /entry \[0\]\[1\] is "a"/);
  assert.throws(() => loadDataset(join(dir, 'X.csv'), '', opts), /must be a \.npy or \.json file/);
  assert.throws(() => loadDataset(join(dir, 'missing.npy'), y3, opts), /dataX: .*cannot read/);
  assert.throws(() => loadDataset(X, '', opts), /dataY: give a \.npy or \.json file/);
  assert.throws(() => loadDataset(X, y3, { ...opts, d: 5 }), /has 2 columns, expected 5/);
});
