import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy, parseNpy, readMatrix, readNpy, writeNpy } from '../../../src/core/io/npy';

test('round-trips every supported dtype with its shape', () => {
  const cases = [new Float64Array([1.5, -2, 3e-300]), new Float32Array([1, 2, 3, 4, 5, 6]), new Int32Array([-1, 0, 7]), new BigInt64Array([1n, -9n]), new Uint8Array([0, 255])];
  for (const data of cases) {
    const shape = data.length === 6 ? [2, 3] : [data.length];
    const back = parseNpy(encodeNpy(data, shape));
    assert.deepEqual(back.shape, shape);
    assert.deepEqual(Array.from(back.data as ArrayLike<unknown>), Array.from(data as ArrayLike<unknown>));
  }
});

test('header is 64-byte aligned as numpy writes it', () => {
  const buf = encodeNpy(new Float64Array(3));
  const headerLen = buf[8] | (buf[9] << 8);
  assert.equal((10 + headerLen) % 64, 0);
  assert.equal(buf[10 + headerLen - 1], 0x0a);
});

test('reads a file and checks the expected shape, with clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'npy-'));
  const p = join(dir, 'a.npy');
  writeNpy(p, new Float32Array([1, 2, 3, 4]), [2, 2]);
  assert.deepEqual(Array.from(readNpy(p).data as Float32Array), [1, 2, 3, 4]);
  assert.deepEqual(readMatrix(p, [2, -1]).shape, [2, 2]);
  assert.throws(() => readMatrix(p, [3, 2]), /expected an array of shape \(3, 2\), got \(2, 2\)/);
  const bad = join(dir, 'bad.npy');
  writeFileSync(bad, 'hello world, not numpy');
  assert.throws(() => readNpy(bad), /not a \.npy file/);
  const truncated = join(dir, 't.npy');
  writeFileSync(truncated, encodeNpy(new Float64Array(10)).subarray(0, 100));
  assert.throws(() => readNpy(truncated), /truncated data/);
  assert.throws(() => readNpy(join(dir, 'missing.npy')), /cannot read file \(ENOENT\)/);
});
