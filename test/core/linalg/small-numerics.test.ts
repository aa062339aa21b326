import { test } from 'node:test';
import assert from 'node:assert/strict';
import { log1pExp, sigmoid } from '../../../src/core/linalg/logistic';
import { medianFilter } from '../../../src/core/linalg/median-filter';

test('stable sigmoid and softplus at extremes', () => {
  assert.equal(sigmoid(800), 1);
  assert.ok(sigmoid(-800) >= 0 && sigmoid(-800) < 1e-300);
  assert.ok(Math.abs(sigmoid(0.3) - 1 / (1 + Math.exp(-0.3))) < 1e-15);
  assert.equal(log1pExp(1000), 1000);
  assert.ok(Math.abs(log1pExp(-40) - Math.exp(-40)) < 1e-25);
  assert.ok(Math.abs(log1pExp(0) - Math.LN2) < 1e-15);
});

test('median filter: spike removal, reflect padding at the end', () => {
  const out = medianFilter([1, 1, 9, 1, 1], 3);
  assert.deepEqual([...out], [1, 1, 1, 1, 1]);
  // last sample's window: [x3, x4, reflect x3]
  assert.deepEqual([...medianFilter([0, 0, 0, 5, 1], 3)], [0, 0, 0, 1, 5]);
  assert.throws(() => medianFilter([1, 2], 2), /odd positive integer/);
});
