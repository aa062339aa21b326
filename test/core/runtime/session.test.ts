import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../../src/core/graph/graph';
import * as O from '../../../src/core/graph/ops';
import { compile, cudaProviderInstalled, sessionCacheSize } from '../../../src/core/runtime/session';

function build(n: number) {
  const g = new Graph();
  const x = g.input('x', 'float32', [n]);
  const w = g.input('w', 'float32', [n]);
  return { g, y: O.add(O.mul(x, w), 1), s: O.sum(O.mul(x, w)) };
}

test('sessions are cached by graph hash and options', async () => {
  const a = build(4);
  const p1 = await compile(a.g, { y: a.y });
  const n = sessionCacheSize();
  const b = build(4); // an identical graph built again hits the cache
  const p2 = await compile(b.g, { y: b.y });
  assert.equal(p1.session, p2.session);
  assert.equal(sessionCacheSize(), n);
  const c = build(5); // a different static shape is a different model
  const p3 = await compile(c.g, { y: c.y });
  assert.notEqual(p3.session, p1.session);
  const p4 = await compile(a.g, { y: a.y }, { threads: 1 });
  assert.notEqual(p4.session, p1.session);
  assert.notEqual(p1.hash, p3.hash);
});

test('outputs are written into caller-owned buffers', async () => {
  const a = build(3);
  const p = await compile(a.g, { y: a.y, s: a.s }, { threads: 1 });
  const out = new Float32Array(3);
  const r = await p.run({ x: Float32Array.of(1, 2, 3), w: Float32Array.of(2, 2, 2) }, { y: out });
  assert.deepEqual(Array.from(out), [3, 5, 7]);
  // onnxruntime-node 1.30 also returns its own copy of each CPU output (see README of the core)
  assert.deepEqual(Array.from(r.y.data as Float32Array), [3, 5, 7]);
  assert.equal(Number(r.s.data[0]), 12);
});

test('bad feeds give clear errors', async () => {
  const a = build(3);
  const p = await compile(a.g, { y: a.y });
  await assert.rejects(p.run({ x: Float32Array.of(1, 2, 3) }), /missing input 'w' \(float32 \[3\]\)/);
  await assert.rejects(p.run({ x: Float32Array.of(1, 2), w: Float32Array.of(1, 2, 3) }), /input 'x': expected 3 values/);
  await assert.rejects(p.run({ x: Float64Array.of(1, 2, 3), w: Float32Array.of(1, 2, 3) }), /expected float32 data, got Float64Array/);
});

test("device 'cuda' falls back to CPU with a clear message when the CUDA provider is absent", { skip: cudaProviderInstalled() && 'CUDA provider installed here' }, async () => {
  const a = build(6);
  const msgs: string[] = [];
  const p = await compile(a.g, { y: a.y }, { device: 'cuda', onMessage: (m) => msgs.push(m) });
  assert.equal(p.device, 'cpu');
  assert.equal(msgs.length, 1);
  assert.match(msgs[0], /cuda.*not installed.*npm run setup:cuda.*Falling back to CPU/i);
  const r = await p.run({ x: new Float32Array(6).fill(2), w: new Float32Array(6).fill(3) });
  assert.equal((r.y.data as Float32Array)[0], 7);
});
