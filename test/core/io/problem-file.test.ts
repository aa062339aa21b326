import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../../src/core/io/npy';
import { loadProblemFile, ProblemFileError } from '../../../src/core/io/problem-file';

const dir = mkdtempSync(join(tmpdir(), 'problem-file-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('JSON with inline arrays, scalars and .npy paths; symbolic dimensions bind across fields', () => {
  writeNpy(join(dir, 'B.npy'), Float64Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
  const d = loadProblemFile(file('ok.json', JSON.stringify({ A: [[1, 2, 3], [4, 5, 6]], B: 'B.npy', mu: 0.5 })));
  assert.deepEqual([...d.get('A', ['m', 'n'])], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...d.get('B', ['n', 'm'])], [1, 2, 3, 4, 5, 6]);
  assert.equal(d.dims.get('m'), 2);
  assert.equal(d.scalar('mu'), 0.5);
  assert.equal(d.scalar('absent', 7), 7);
  assert.throws(() => d.get('B', ['m', 'n']), /field 'B' has shape \(3, 2\), expected \(m=2, n=3\)/);
});

test('clear errors for malformed files', () => {
  assert.throws(() => loadProblemFile(file('bad.json', '{"A": [1, 2')), /bad\.json: malformed JSON/);
  assert.throws(() => loadProblemFile(file('arr.json', '[1, 2]')), /expected a JSON object of named arrays/);
  assert.throws(() => loadProblemFile(file('ragged.json', '{"A": [[1, 2], [3]]}')), /field 'A'\[1\] is ragged/);
  assert.throws(() => loadProblemFile(file('nan.json', '{"A": [1, "x"]}')), /field 'A'\[1\] must be a number/);
  assert.throws(() => loadProblemFile(file('str.json', '{"A": "A.csv"}')), /not a \.npy path/);
  assert.throws(() => loadProblemFile(file('null.json', '{"A": null}')), /field 'A' must be a number, a nested array or a \.npy path, got null/);
  assert.throws(() => loadProblemFile(join(dir, 'missing.json')), /missing\.json: cannot read file/);
  assert.throws(() => loadProblemFile(file('missnpy.json', '{"A": "nope.npy"}')), (e: unknown) => e instanceof ProblemFileError && /nope\.npy: cannot read file/.test(e.message));
  assert.throws(() => loadProblemFile(file('junk.npy', 'not numpy')), /not a \.npy file/);
  const d = loadProblemFile(file('fields.json', '{"A": [1, 2]}'));
  assert.throws(() => d.get('C', ['n']), /missing field 'C' .*fields present: A/);
  assert.throws(() => d.scalar('A'), /must be a scalar/);
});

test('a single .npy file is stored under the given name', () => {
  writeNpy(join(dir, 'x.npy'), Float64Array.from([1, 2, 3]));
  const d = loadProblemFile(join(dir, 'x.npy'), 'x');
  assert.deepEqual([...d.get('x', [3])], [1, 2, 3]);
  assert.throws(() => d.get('x', [4]), /shape \(3\), expected \(4\)/);
});
