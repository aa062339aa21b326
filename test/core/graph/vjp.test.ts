// Every op's vector-Jacobian rule against central finite differences (float64 unless noted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, GraphError, Tensor } from '../../../src/core/graph/graph';
import { Rng } from '../../../src/core/rng';
import * as O from '../../../src/core/graph/ops';
import * as C from '../../../src/core/graph/composite';
import { grad } from '../../../src/core/graph/autodiff';
import { compile } from '../../../src/core/runtime/session';
import { gradCheck } from './gradcheck';

const pos = (_i: number, r: { uniform(): number }) => 0.5 + 2 * r.uniform();
const spread = (i: number, r: { uniform(): number }) => i * 0.37 - 2 + 0.1 * r.uniform(); // distinct values

const cases: [string, () => Promise<unknown>][] = [
  ['Add broadcast', () => gradCheck([{ shape: [2, 3, 4] }, { shape: [3, 1] }], O.add)],
  ['Sub broadcast', () => gradCheck([{ shape: [4] }, { shape: [2, 3, 4] }], O.sub)],
  ['Mul broadcast', () => gradCheck([{ shape: [2, 1, 4] }, { shape: [3, 1] }], O.mul)],
  ['Div broadcast', () => gradCheck([{ shape: [2, 3] }, { shape: [3], init: pos }], O.div)],
  ['Pow', () => gradCheck([{ shape: [2, 3], init: pos }, { shape: [3] }], O.pow)],
  ['Pow const exponent', () => gradCheck([{ shape: [5], init: pos }], (x) => O.pow(x, 3))],
  ['Neg', () => gradCheck([{ shape: [3, 2] }], O.neg)],
  ['Sqrt', () => gradCheck([{ shape: [6], init: pos }], O.sqrt)],
  ['Exp', () => gradCheck([{ shape: [2, 3] }], O.exp)],
  ['Log', () => gradCheck([{ shape: [2, 3], init: pos }], O.log)],
  ['Abs', () => gradCheck([{ shape: [7], init: spread }], O.abs)],
  ['Max (elementwise, broadcast)', () => gradCheck([{ shape: [2, 4], init: spread }, { shape: [4], init: (i) => i * 0.4 - 0.83 }], O.maximum)],
  ['Min (elementwise, broadcast)', () => gradCheck([{ shape: [2, 4], init: spread }, { shape: [1, 4], init: (i) => i * 0.4 - 0.83 }], O.minimum)],
  ['Clip', () => gradCheck([{ shape: [9], init: spread }], (x) => O.clip(x, -1.05, 0.95))],
  ['Where + comparisons', () => gradCheck([{ shape: [2, 5], init: spread }, { shape: [5] }], (x, y) => O.where(O.greater(x, 0.1), x, O.mul(y, y)))],
  ['MatMul 2-D', () => gradCheck([{ shape: [3, 4] }, { shape: [4, 2] }], O.matmul)],
  ['MatMul batched x 2-D', () => gradCheck([{ shape: [2, 3, 4] }, { shape: [4, 5] }], O.matmul)],
  ['MatMul broadcast batch', () => gradCheck([{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }], O.matmul)],
  ['Gemm transA transB + C', () => gradCheck([{ shape: [4, 3] }, { shape: [2, 4] }, { shape: [2] }], (a, b, c) => O.gemm(a, b, c, { transA: true, transB: true, alpha: 0.7, beta: 1.3 }))],
  ['ReduceSum axes', () => gradCheck([{ shape: [2, 3, 4] }], (x) => O.sum(x, [0, 2]))],
  ['ReduceSum keepdims', () => gradCheck([{ shape: [2, 3, 4] }], (x) => O.sum(x, [1], true))],
  ['ReduceMean', () => gradCheck([{ shape: [2, 3, 4] }], (x) => O.mean(x, [-1]))],
  ['ReduceMax', () => gradCheck([{ shape: [3, 4], init: spread }], (x) => O.max(x, [1]))],
  ['Softmax', () => gradCheck([{ shape: [2, 5] }], (x) => O.softmax(x, -1))],
  ['Softmax axis 0', () => gradCheck([{ shape: [3, 2] }], (x) => O.softmax(x, 0))],
  ['LogSoftmax', () => gradCheck([{ shape: [3, 4] }], (x) => O.logSoftmax(x, -1))],
  ['LayerNormalization', () => gradCheck([{ shape: [2, 3, 5] }, { shape: [5] }, { shape: [5] }], (x, s, b) => O.layerNorm(x, s, b, 1e-5))],
  ['RMS norm', () => gradCheck([{ shape: [2, 3, 4] }, { shape: [4] }], (x, w) => C.rmsNorm(x, w, 1e-5))],
  ['Gelu tanh (ONNX Gelu op)', () => gradCheck([{ shape: [8] }], (x) => C.gelu(x, 'tanh'))],
  ['Silu', () => gradCheck([{ shape: [8] }], C.silu)],
  ['Tanh', () => gradCheck([{ shape: [6] }], O.tanh)],
  ['Sigmoid', () => gradCheck([{ shape: [6] }], O.sigmoid)],
  ['Relu', () => gradCheck([{ shape: [8], init: spread }], O.relu)],
  ['Softplus (incl. 0 and the > 20 branch)', () => gradCheck([{ shape: [6] }], O.softplus, { seed: 5 }).then(() => gradCheck([{ shape: [3], init: (i) => [0, 25, -30][i] }], O.softplus))],
  ['Gather (embedding, repeated ids)', () => gradCheck([{ shape: [5, 3] }, { shape: [2, 3], dtype: 'int64', init: (i) => [0, 4, 0, 2, 4, 4][i] }], (w, ids) => O.gather(w, ids, 0))],
  ['GatherElements', () => gradCheck([{ shape: [2, 3, 4] }, { shape: [2, 3, 1], dtype: 'int64', init: (i) => [3, 0, 1, 1, 2, 3][i] }], (x, ix) => O.gatherElements(x, ix, 2))],
  ['Reshape', () => gradCheck([{ shape: [2, 6] }], (x) => O.mul(O.reshape(x, [3, -1]), O.reshape(x, [3, 4])))],
  ['Transpose', () => gradCheck([{ shape: [2, 3, 4] }], (x) => O.transpose(x, [2, 0, 1]))],
  ['Concat', () => gradCheck([{ shape: [2, 3] }, { shape: [2, 2] }], (a, b) => O.concat([a, b, a], 1))],
  ['Slice', () => gradCheck([{ shape: [4, 5] }], (x) => O.slice(x, [1, -3], [3, 100], [0, 1]))],
  ['Split', () => gradCheck([{ shape: [2, 5] }], (x) => {
    const [a, b] = O.split(x, [2, 3], 1);
    return O.concat([O.mul(b, 2), a], 1);
  })],
  ['Split with an unused part', () => gradCheck([{ shape: [6] }], (x) => O.split(x, [2, 4], 0)[1])],
  ['Unsqueeze/Squeeze', () => gradCheck([{ shape: [3, 2] }], (x) => O.squeeze(O.mul(O.unsqueeze(x, [0, 3]), 2), [0]))],
  ['Expand', () => gradCheck([{ shape: [3, 1] }], (x) => O.expand(x, [2, 3, 4]))],
  ['CumSum', () => gradCheck([{ shape: [2, 4] }], (x) => O.cumsum(x, 1))],
  ['CumSum reverse exclusive', () => gradCheck([{ shape: [5] }], (x) => O.cumsum(x, 0, { reverse: true, exclusive: true }))],
  ['Cast round trip', () => gradCheck([{ shape: [4] }], (x) => O.cast(O.mul(O.cast(x, 'float32'), 1), 'float64'), { h: 1e-3, rtol: 1e-3 })],
  ['Pad', () => gradCheck([{ shape: [2, 3] }], (x) => O.pad(x, [1, 0, 0, 2]))],
  ['causal mask + softmax', () => gradCheck([{ shape: [2, 4, 4] }], (x) => O.softmax(O.add(x, C.causalMask(x.graph, 4, 'float64')), -1))],
  ['rotary', () => gradCheck([{ shape: [1, 2, 3, 4] }], (x) => {
    const { cos, sin } = C.rotaryTables(x.graph, 3, 4, 10000, 'float64');
    return C.applyRotary(x, cos, sin);
  })],
  ['logSumExp', () => gradCheck([{ shape: [3, 4] }], (x) => C.logSumExp(x, -1))],
  // Erf has only a float32 kernel in onnxruntime's CPU provider: checked in float32.
  ['Gelu tanh (float32)', () => gradCheck([{ shape: [8] }], (x) => C.gelu(x, 'tanh'), { dtype: 'float32', h: 1e-2, rtol: 2e-2, atol: 1e-3 })],
  ['Gelu erf (float32)', () => gradCheck([{ shape: [8] }], (x) => C.gelu(x, 'erf'), { dtype: 'float32', h: 1e-2, rtol: 2e-2, atol: 1e-3 })],
  ['Erf (float32)', () => gradCheck([{ shape: [8] }], O.erf, { dtype: 'float32', h: 1e-2, rtol: 2e-2, atol: 1e-3 })],
];

for (const [name, run] of cases) test(`VJP ${name}`, async () => void (await run()));

test('the checker fails when autodiff misses a path (stopGradient hides x*x from grad)', async () => {
  await assert.rejects(gradCheck([{ shape: [3] }], (x) => O.add(O.mul(x, 2), O.stopGradient(O.mul(x, x)))), /gradient check failed/);
});

test('stopGradient: d/dx (2x + sg(x^2)) is exactly 2', async () => {
  const g = new Graph();
  const x = g.input('x', 'float64', [3]);
  const [gx] = grad(O.sum(O.add(O.mul(x, 2), O.stopGradient(O.mul(x, x)))), [x]);
  const r = (await (await compile(g, { gx })).run({ x: Float64Array.from([1, -2, 3]) })).gx.data as Float64Array;
  assert.deepEqual(Array.from(r), [2, 2, 2]);
});

test('grad of grad: d2/dx2 of sum(x^3) is 6x', async () => {
  const g = new Graph();
  const x = g.input('x', 'float64', [4]);
  const y = O.sum(O.mul(O.mul(x, x), x));
  const [gx] = grad(y, [x]);
  const [ggx] = grad(O.sum(gx), [x]);
  const p = await compile(g, { ggx });
  const xs = Float64Array.from([0.5, -1, 2, 3]);
  const r = (await p.run({ x: xs })).ggx.data as Float64Array;
  xs.forEach((v, i) => assert.ok(Math.abs(r[i] - 6 * v) < 1e-12));
});

test('TopK values and indices (no gradient)', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [2, 4]);
  const [v, i] = O.topk(x, 2, -1);
  const p = await compile(g, { v, i });
  const r = await p.run({ x: Float32Array.from([1, 5, 3, 2, 9, 8, 7, 10]) });
  assert.deepEqual(Array.from(r.v.data as Float32Array), [5, 3, 10, 9]);
  assert.deepEqual(Array.from(r.i.data as BigInt64Array).map(Number), [1, 2, 3, 0]);
});

test('shape mismatches throw at build time naming the op and both shapes', () => {
  const g = new Graph();
  const a = g.input('a', 'float32', [2, 3]);
  const b = g.input('b', 'float32', [4]);
  assert.throws(() => O.add(a, b), (e: Error) => e instanceof GraphError && /Add/.test(e.message) && /\[2,3\]/.test(e.message) && /\[4\]/.test(e.message));
  const w = g.input('w', 'float32', [4, 5]);
  assert.throws(() => O.matmul(a, w), /MatMul: inner dimensions differ: \[2,3\] @ \[4,5\]/);
  assert.throws(() => O.reshape(a, [4, 2]), /Reshape: cannot reshape \[2,3\]/);
  assert.throws(() => O.concat([a, w], 0), /Concat/);
  const ids = g.input('ids', 'int64', [3]);
  assert.throws(() => O.mul(ids, 0.5), /non-integer 0.5 with a int64 tensor/);
});

// Second order: gradCheck of x -> grad(F)(x) compares Hessian-vector products built by applying
// grad twice with finite differences of the first gradient (the LPN method needs this).
const secondOrder: [string, () => Promise<unknown>][] = [
  ['softmax(layerNorm(x W))', () => gradCheck([{ shape: [2, 3] }, { shape: [3, 4] }, { shape: [4] }, { shape: [4] }], (x, w, s, b) => {
    const F = O.sum(O.mul(O.softmax(O.layerNorm(O.matmul(x, w), s, b), -1), O.reshape(O.cast(O.cumsum(O.add(O.mul(s, 0), 1), 0), 'float64'), [4])));
    return grad(F, [x])[0];
  })],
  ['cross-entropy of gelu MLP logits', () => gradCheck([{ shape: [3, 4] }, { shape: [4, 5] }], (x, w) => {
    const ids = x.graph.constant(BigInt64Array.from([1n, 4n, 0n]), [3, 1]);
    const F = O.neg(O.sum(O.gatherElements(O.logSoftmax(C.gelu(O.matmul(x, w), 'tanh'), -1), ids, 1)));
    return grad(F, [w])[0];
  })],
  ['rmsNorm + silu + rotary', () => gradCheck([{ shape: [1, 1, 3, 4] }, { shape: [4] }], (x, w) => {
    const { cos, sin } = C.rotaryTables(x.graph, 3, 4, 10000, 'float64');
    const F = O.sum(O.mul(C.silu(C.applyRotary(C.rmsNorm(x, w), cos, sin)), x));
    return grad(F, [x])[0];
  })],
];
for (const [name, run] of secondOrder) test(`grad of grad: ${name}`, async () => void (await run()));

test('binary ops with random broadcast shapes (seeded)', async () => {
  const rng = new Rng(11);
  const ops: [string, (a: Tensor, b: Tensor) => Tensor, boolean][] = [
    ['Add', O.add, false], ['Sub', O.sub, false], ['Mul', O.mul, false], ['Div', O.div, true],
    ['Pow', O.pow, true], ['Max', O.maximum, false], ['Min', O.minimum, false],
    ['Where', (a, b) => O.where(O.greater(a, 0), a, b), false],
  ];
  for (let trial = 0; trial < 16; trial++) {
    const rank = 1 + rng.int(3);
    const full = Array.from({ length: rank }, () => 1 + rng.int(3));
    // each operand drops some leading axes and sets some dims to 1
    const operand = () => full.slice(rng.int(rank)).map((d) => (rng.uniform() < 0.4 ? 1 : d));
    const [name, op, positiveB] = ops[trial % ops.length];
    const sa = operand(), sb = operand();
    const distinct = (i: number, r: Rng) => (i % 2 ? 1 : -1) * (0.3 + 0.25 * i) + 0.05 * r.uniform(); // no ties for Max/Min
    await gradCheck([{ shape: sa, init: name === 'Pow' ? pos : distinct }, { shape: sb, init: positiveB ? pos : (i, r) => 0.11 + distinct(i, r) }], op, { seed: trial }).catch((e: Error) => {
      throw new Error(`${name} ${JSON.stringify(sa)} x ${JSON.stringify(sb)}: ${e.message}`);
    });
  }
});
