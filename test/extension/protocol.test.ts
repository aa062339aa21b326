// The webview protocol's validators: well-formed messages pass, malformed ones are rejected
// with a reason naming the field; metrics rows become columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFromWebview, parseToWebview, rowsToBatch } from '../../src/extension/protocol';

const run = { id: 'r1', experiment: 'cbo', status: 'running', createdAt: '2026-01-01T00:00:00Z', config: {} };

test('parseToWebview accepts each message kind', () => {
  const batch = { step: [0, 1], time: [0, 0.1], values: { a: [1, null] } };
  for (const m of [
    { type: 'init', view: 'run', run, metrics: batch, samples: [{ x: 1 }], artifacts: [{ name: 'f', size: 1 }] },
    { type: 'init', view: 'compare', runs: [{ run, metrics: batch }] },
    { type: 'metrics', runId: 'r1', batch },
    { type: 'samples', runId: 'r1', rows: [] },
    { type: 'run', run: { ...run, status: 'completed', summary: { a: 1 }, progress: { step: 1, total: 2 } } },
    { type: 'artifacts', runId: 'r1', items: [] },
  ]) {
    assert.equal(typeof parseToWebview(m), 'object', JSON.stringify(m));
  }
});

test('parseToWebview rejects malformed messages with a reason', () => {
  const cases: [unknown, RegExp][] = [
    [null, /expected an object/],
    [{ type: 'x' }, /unknown type/],
    [{ type: 'metrics', runId: 'r1', batch: { step: [1], time: [], values: {} } }, /batch\.time/],
    [{ type: 'metrics', runId: 'r1', batch: { step: [1], time: [0], values: { a: ['1'] } } }, /batch\.values\["a"\]/],
    [{ type: 'metrics', runId: 'r1', batch: { step: [NaN], time: [0], values: {} } }, /batch\.step/],
    [{ type: 'run', run: { ...run, status: 'weird' } }, /run\.status/],
    [{ type: 'run', run: { ...run, config: [] } }, /run\.config/],
    [{ type: 'init', view: 'other' }, /init\.view/],
    [{ type: 'samples', runId: 'r1', rows: [1] }, /samples\.rows/],
    [{ type: 'artifacts', runId: 'r1', items: [{ name: 1 }] }, /artifacts/],
  ];
  for (const [m, re] of cases) {
    const r = parseToWebview(m);
    assert.equal(typeof r, 'string', JSON.stringify(m));
    assert.match(r as string, re);
  }
});

test('parseFromWebview validates actions and confines artifact names', () => {
  assert.deepEqual(parseFromWebview({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseFromWebview({ type: 'action', action: 'stop', runId: 'r' }), { type: 'action', action: 'stop', runId: 'r' });
  assert.equal(typeof parseFromWebview({ type: 'action', action: 'rm -rf', runId: 'r' }), 'string');
  assert.equal(typeof parseFromWebview({ type: 'openArtifact', runId: 'r', name: '../x' }), 'string');
  assert.equal(typeof parseFromWebview({ type: 'openArtifact', runId: 'r', name: '/etc/passwd' }), 'string');
  assert.equal(typeof parseFromWebview({ type: 'openArtifact', runId: 'r', name: 'a/b.png' }), 'object');
  assert.equal(typeof parseFromWebview({ type: 'log', level: 'fatal', message: 'x' }), 'string');
  assert.equal((parseFromWebview({ type: 'log', level: 'warn', message: 'x'.repeat(10000) }) as { message: string }).message.length, 4000);
});

test('rowsToBatch makes columns with nulls for missing values and skips bad rows', () => {
  const b = rowsToBatch([{ step: 0, time: 0, a: 1 }, 'junk', { step: 1, b: 2, a: Infinity }, { time: 3 }, { step: 2, time: 1, a: 3, note: 'text' }]);
  assert.deepEqual(b.step, [0, 1, 2]);
  assert.deepEqual(b.time, [0, 0, 1]);
  assert.deepEqual(b.values, { a: [1, null, 3], b: [null, 2, null] });
});
