// Primitive ops: each builds exactly one ONNX node after checking dtypes and static shapes.
// A shape mismatch throws a GraphError that names the op and both shapes.
import {
  type Attr,
  type DType,
  Graph,
  GraphError,
  Tensor,
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  fmtShape,
  isFloat,
} from './graph';

export type TensorLike = Tensor | number;

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function graphOf(op: string, xs: TensorLike[]): Graph {
  for (const x of xs) if (x instanceof Tensor) return x.graph;
  throw new GraphError(`${op}: at least one argument must be a tensor`);
}

/** Turn a JS number into a scalar constant of the partner tensor's dtype. */
function lift(x: TensorLike, like: DType, g: Graph): Tensor {
  if (x instanceof Tensor) return x;
  if (!isFloat(like) && !Number.isInteger(x)) throw new GraphError(`cannot mix the non-integer ${x} with a ${like} tensor (cast it to a float dtype first)`);
  return g.scalar(x, like);
}

function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new GraphError(`${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new GraphError(`${op}: cannot broadcast shapes ${fmtShape(a)} and ${fmtShape(b)}`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

function binaryOperands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor, Graph] {
  const g = graphOf(op, [a, b]);
  const dt = a instanceof Tensor ? a.dtype : (b as Tensor).dtype;
  const x = lift(a, dt, g);
  const y = lift(b, dt, g);
  if (x.dtype !== y.dtype) throw new GraphError(`${op}: dtype mismatch ${x.dtype} ${fmtShape(x.shape)} vs ${y.dtype} ${fmtShape(y.shape)}`);
  return [x, y, g];
}

function binary(op: string, a: TensorLike, b: TensorLike, outDtype?: DType): Tensor {
  const [x, y, g] = binaryOperands(op, a, b);
  const shape = broadcastShapes(op, x.shape, y.shape);
  return g.addNode(op, [x, y], {}, [{ dtype: outDtype ?? x.dtype, shape }])[0];
}

function unary(op: string, x: Tensor, attrs: Record<string, Attr> = {}): Tensor {
  if (!isFloat(x.dtype) && op !== 'Neg' && op !== 'Abs' && op !== 'Identity' && op !== 'Sign') {
    throw new GraphError(`${op}: needs a float tensor, got ${x}`);
  }
  return x.graph.addNode(op, [x], attrs, [{ dtype: x.dtype, shape: x.shape }])[0];
}

// ---- elementwise arithmetic (numpy broadcasting) ----
export const add = (a: TensorLike, b: TensorLike): Tensor => binary('Add', a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('Sub', a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('Mul', a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('Div', a, b);
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('Pow', a, b);
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('Max', a, b);
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('Min', a, b);
export const neg = (x: Tensor): Tensor => unary('Neg', x);
export const sqrt = (x: Tensor): Tensor => unary('Sqrt', x);
export const exp = (x: Tensor): Tensor => unary('Exp', x);
export const log = (x: Tensor): Tensor => unary('Log', x);
export const abs = (x: Tensor): Tensor => unary('Abs', x);
export const sign = (x: Tensor): Tensor => unary('Sign', x);
export const tanh = (x: Tensor): Tensor => unary('Tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('Sigmoid', x);
export const relu = (x: Tensor): Tensor => unary('Relu', x);
export const erf = (x: Tensor): Tensor => unary('Erf', x);
/** log(1 + e^x), = x above 20 (ORT's Softplus kernel is float32-only, so it is composed here). */
export function softplus(x: Tensor): Tensor {
  const big = greater(x, 20);
  return where(big, x, log(add(exp(minimum(x, 20)), 1)));
}
/** ONNX Gelu (opset 20): approximate 'tanh' (GPT-2's gelu_new) or 'none' (erf form). */
export const geluOp = (x: Tensor, approximate: 'tanh' | 'none'): Tensor => unary('Gelu', x, { approximate: attrString(approximate) });
/** Identity whose gradient is zero: the value is treated as a constant by grad(). */
export const stopGradient = (x: Tensor): Tensor => x.graph.addNode('Identity', [x], { _stop_gradient: attrInt(1) }, [{ dtype: x.dtype, shape: x.shape }])[0];
export const identity = (x: Tensor): Tensor => x.graph.addNode('Identity', [x], {}, [{ dtype: x.dtype, shape: x.shape }])[0];

export function clip(x: Tensor, lo: number | null, hi: number | null): Tensor {
  if (!isFloat(x.dtype)) throw new GraphError(`Clip: needs a float tensor, got ${x}`);
  const g = x.graph;
  const ins = [x, g.scalar(lo ?? -Infinity, x.dtype), g.scalar(hi ?? Infinity, x.dtype)];
  return g.addNode('Clip', ins, {}, [{ dtype: x.dtype, shape: x.shape }])[0];
}

// ---- comparisons and selection ----
export const equal = (a: TensorLike, b: TensorLike): Tensor => binary('Equal', a, b, 'bool');
export const less = (a: TensorLike, b: TensorLike): Tensor => binary('Less', a, b, 'bool');
export const lessOrEqual = (a: TensorLike, b: TensorLike): Tensor => binary('LessOrEqual', a, b, 'bool');
export const greater = (a: TensorLike, b: TensorLike): Tensor => binary('Greater', a, b, 'bool');
export const greaterOrEqual = (a: TensorLike, b: TensorLike): Tensor => binary('GreaterOrEqual', a, b, 'bool');
export const and = (a: Tensor, b: Tensor): Tensor => binary('And', a, b, 'bool');
export const or = (a: Tensor, b: Tensor): Tensor => binary('Or', a, b, 'bool');
export const not = (a: Tensor): Tensor => a.graph.addNode('Not', [a], {}, [{ dtype: 'bool', shape: a.shape }])[0];

export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (cond.dtype !== 'bool') throw new GraphError(`Where: condition must be bool, got ${cond}`);
  const [x, y, g] = binaryOperands('Where', a, b);
  const shape = broadcastShapes('Where', cond.shape, broadcastShapes('Where', x.shape, y.shape));
  return g.addNode('Where', [cond, x, y], {}, [{ dtype: x.dtype, shape }])[0];
}

// ---- linear algebra ----
/** numpy matmul for rank >= 2 operands; batch dimensions broadcast. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.dtype !== b.dtype) throw new GraphError(`MatMul: dtype mismatch ${a} vs ${b}`);
  if (a.rank < 2 || b.rank < 2) throw new GraphError(`MatMul: operands must have rank >= 2, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  const m = a.shape[a.rank - 2], k = a.shape[a.rank - 1];
  const k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1];
  if (k !== k2) throw new GraphError(`MatMul: inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  let batch: number[];
  try {
    batch = broadcastShapes('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    throw new GraphError(`MatMul: batch dimensions do not broadcast: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  }
  return a.graph.addNode('MatMul', [a, b], {}, [{ dtype: a.dtype, shape: [...batch, m, n] }])[0];
}

/** ONNX Gemm: alpha * op(A) @ op(B) + beta * C for 2-D A, B (C broadcasts to the result). */
export function gemm(a: Tensor, b: Tensor, c: Tensor | null, opts: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {}): Tensor {
  if (a.rank !== 2 || b.rank !== 2) throw new GraphError(`Gemm: A and B must be 2-D, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  const [m, k] = opts.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [k2, n] = opts.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (k !== k2) throw new GraphError(`Gemm: inner dimensions differ: ${fmtShape(a.shape)} and ${fmtShape(b.shape)} (transA=${!!opts.transA}, transB=${!!opts.transB})`);
  if (c) broadcastShapes('Gemm', [m, n], c.shape);
  const attrs: Record<string, Attr> = {
    transA: attrInt(opts.transA ? 1 : 0),
    transB: attrInt(opts.transB ? 1 : 0),
    alpha: attrFloat(opts.alpha ?? 1),
    beta: attrFloat(opts.beta ?? 1),
  };
  return a.graph.addNode('Gemm', c ? [a, b, c] : [a, b], attrs, [{ dtype: a.dtype, shape: [m, n] }])[0];
}

// ---- reductions ----
function reduce(op: string, x: Tensor, axes: number[] | null, keepdims: boolean): Tensor {
  const ax = (axes ?? x.shape.map((_, i) => i)).map((a) => normAxis(op, a, x.rank));
  const set = new Set(ax);
  if (set.size !== ax.length) throw new GraphError(`${op}: repeated axes ${ax.join(',')}`);
  const sorted = [...set].sort((p, q) => p - q);
  const shape = keepdims ? x.shape.map((d, i) => (set.has(i) ? 1 : d)) : x.shape.filter((_, i) => !set.has(i));
  if (sorted.length === 0) return identity(x);
  return x.graph.addNode(op, [x, x.graph.ints(sorted)], { keepdims: attrInt(keepdims ? 1 : 0) }, [{ dtype: x.dtype, shape }])[0];
}
export const sum = (x: Tensor, axes: number[] | null = null, keepdims = false): Tensor => reduce('ReduceSum', x, axes, keepdims);
export const mean = (x: Tensor, axes: number[] | null = null, keepdims = false): Tensor => reduce('ReduceMean', x, axes, keepdims);
export const max = (x: Tensor, axes: number[] | null = null, keepdims = false): Tensor => reduce('ReduceMax', x, axes, keepdims);

// ---- normalizations and activations with a single fused ONNX op ----
export function softmax(x: Tensor, axis = -1): Tensor {
  return unary('Softmax', x, { axis: attrInt(normAxis('Softmax', axis, x.rank)) });
}
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return unary('LogSoftmax', x, { axis: attrInt(normAxis('LogSoftmax', axis, x.rank)) });
}

/** ONNX LayerNormalization over the last `scale.rank` axes. */
export function layerNorm(x: Tensor, scale: Tensor, bias: Tensor | null, eps = 1e-5): Tensor {
  const r = scale.rank;
  const tail = x.shape.slice(x.rank - r);
  if (r === 0 || r > x.rank || tail.join(',') !== scale.shape.join(',')) {
    throw new GraphError(`LayerNormalization: scale ${fmtShape(scale.shape)} does not match the trailing axes of x ${fmtShape(x.shape)}`);
  }
  if (bias && bias.shape.join(',') !== scale.shape.join(',')) {
    throw new GraphError(`LayerNormalization: bias ${fmtShape(bias.shape)} differs from scale ${fmtShape(scale.shape)}`);
  }
  const attrs = { axis: attrInt(x.rank - r), epsilon: attrFloat(eps) };
  return x.graph.addNode('LayerNormalization', bias ? [x, scale, bias] : [x, scale], attrs, [{ dtype: x.dtype, shape: x.shape }])[0];
}

// ---- indexing ----
/** Gather along `axis` (embedding lookup with axis 0). */
export function gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32') throw new GraphError(`Gather: indices must be int64/int32, got ${indices}`);
  const a = normAxis('Gather', axis, data.rank);
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  return data.graph.addNode('Gather', [data, indices], { axis: attrInt(a) }, [{ dtype: data.dtype, shape }])[0];
}

export function gatherElements(data: Tensor, indices: Tensor, axis: number): Tensor {
  const a = normAxis('GatherElements', axis, data.rank);
  if (indices.rank !== data.rank) throw new GraphError(`GatherElements: rank differs: data ${fmtShape(data.shape)} vs indices ${fmtShape(indices.shape)}`);
  indices.shape.forEach((d, i) => {
    if (i !== a && d > data.shape[i]) throw new GraphError(`GatherElements: indices ${fmtShape(indices.shape)} exceed data ${fmtShape(data.shape)} on axis ${i}`);
  });
  return data.graph.addNode('GatherElements', [data, indices], { axis: attrInt(a) }, [{ dtype: data.dtype, shape: indices.shape }])[0];
}

export function scatterElements(data: Tensor, indices: Tensor, updates: Tensor, axis: number, reduction: 'none' | 'add' = 'none'): Tensor {
  const a = normAxis('ScatterElements', axis, data.rank);
  if (indices.shape.join(',') !== updates.shape.join(',')) {
    throw new GraphError(`ScatterElements: indices ${fmtShape(indices.shape)} and updates ${fmtShape(updates.shape)} differ`);
  }
  if (indices.rank !== data.rank) throw new GraphError(`ScatterElements: rank differs: data ${fmtShape(data.shape)} vs indices ${fmtShape(indices.shape)}`);
  return data.graph.addNode('ScatterElements', [data, indices, updates], { axis: attrInt(a), reduction: attrString(reduction) }, [{ dtype: data.dtype, shape: data.shape }])[0];
}

// ---- shape ops ----
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = [...shape];
  const inferred = s.indexOf(-1);
  if (s.filter((d) => d === -1).length > 1) throw new GraphError(`Reshape: more than one -1 in ${fmtShape(shape)}`);
  if (inferred >= 0) {
    const known = prod(s.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) throw new GraphError(`Reshape: cannot reshape ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
    s[inferred] = x.size / known;
  }
  if (prod(s) !== x.size) throw new GraphError(`Reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
  if (s.join(',') === x.shape.join(',')) return x;
  return x.graph.addNode('Reshape', [x, x.graph.ints(s)], {}, [{ dtype: x.dtype, shape: s }])[0];
}

export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ? [...perm] : x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    throw new GraphError(`Transpose: perm [${p.join(',')}] is not a permutation for shape ${fmtShape(x.shape)}`);
  }
  if (p.every((v, i) => v === i)) return x;
  return x.graph.addNode('Transpose', [x], { perm: attrInts(p) }, [{ dtype: x.dtype, shape: p.map((i) => x.shape[i]) }])[0];
}

/** Swap the last two axes. */
export function transposeLast2(x: Tensor): Tensor {
  const p = x.shape.map((_, i) => i);
  [p[x.rank - 2], p[x.rank - 1]] = [p[x.rank - 1], p[x.rank - 2]];
  return transpose(x, p);
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new GraphError('Concat: no inputs');
  if (xs.length === 1) return xs[0];
  const a = normAxis('Concat', axis, xs[0].rank);
  let total = 0;
  for (const x of xs) {
    if (x.dtype !== xs[0].dtype || x.rank !== xs[0].rank || x.shape.some((d, i) => i !== a && d !== xs[0].shape[i])) {
      throw new GraphError(`Concat: shapes ${fmtShape(xs[0].shape)} and ${fmtShape(x.shape)} differ off axis ${a}`);
    }
    total += x.shape[a];
  }
  const shape = xs[0].shape.map((d, i) => (i === a ? total : d));
  return xs[0].graph.addNode('Concat', xs, { axis: attrInt(a) }, [{ dtype: xs[0].dtype, shape }])[0];
}

/** Slice with python-style starts/ends (negative = from the end, clamped), optional steps. */
export function slice(x: Tensor, starts: number[], ends: number[], axes?: number[], steps?: number[]): Tensor {
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis('Slice', a, x.rank));
  const st = steps ?? ax.map(() => 1);
  if (starts.length !== ax.length || ends.length !== ax.length || st.length !== ax.length) {
    throw new GraphError(`Slice: starts/ends/axes/steps lengths differ`);
  }
  const shape = [...x.shape];
  const s0: number[] = [], e0: number[] = [];
  ax.forEach((a, i) => {
    const d = x.shape[a];
    const step = st[i];
    if (step === 0) throw new GraphError('Slice: step 0');
    const norm = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
    const s = step > 0 ? norm(starts[i], 0, d) : norm(starts[i], -1, d - 1);
    const e = step > 0 ? norm(ends[i], 0, d) : norm(ends[i], -1, d - 1);
    s0.push(s);
    e0.push(e);
    shape[a] = Math.max(0, Math.ceil((e - s) / step));
  });
  const g = x.graph;
  return g.addNode('Slice', [x, g.ints(s0), g.ints(e0), g.ints(ax), g.ints(st)], {}, [{ dtype: x.dtype, shape }])[0];
}

export function split(x: Tensor, sizes: number[], axis: number): Tensor[] {
  const a = normAxis('Split', axis, x.rank);
  if (sizes.reduce((p, q) => p + q, 0) !== x.shape[a]) {
    throw new GraphError(`Split: sizes [${sizes.join(',')}] do not sum to dim ${x.shape[a]} of ${fmtShape(x.shape)}`);
  }
  return x.graph.addNode(
    'Split',
    [x, x.graph.ints(sizes)],
    { axis: attrInt(a) },
    sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === a ? s : d)) })),
  );
}

export function unsqueeze(x: Tensor, axes: number[]): Tensor {
  const r = x.rank + axes.length;
  const ax = axes.map((a) => normAxis('Unsqueeze', a, r)).sort((p, q) => p - q);
  const shape: number[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) shape.push(ax.includes(i) ? 1 : x.shape[j++]);
  return x.graph.addNode('Unsqueeze', [x, x.graph.ints(ax)], {}, [{ dtype: x.dtype, shape }])[0];
}

export function squeeze(x: Tensor, axes: number[]): Tensor {
  const ax = axes.map((a) => normAxis('Squeeze', a, x.rank));
  for (const a of ax) if (x.shape[a] !== 1) throw new GraphError(`Squeeze: axis ${a} of ${fmtShape(x.shape)} is not 1`);
  const shape = x.shape.filter((_, i) => !ax.includes(i));
  return x.graph.addNode('Squeeze', [x, x.graph.ints([...ax].sort((p, q) => p - q))], {}, [{ dtype: x.dtype, shape }])[0];
}

export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const out = broadcastShapes('Expand', x.shape, shape);
  if (out.join(',') === x.shape.join(',')) return x;
  return x.graph.addNode('Expand', [x, x.graph.ints([...shape])], {}, [{ dtype: x.dtype, shape: out }])[0];
}

/** Pad with zeros: `pads` = [begin_0..begin_{r-1}, end_0..end_{r-1}] (ONNX order). */
export function pad(x: Tensor, pads: number[]): Tensor {
  if (pads.length !== 2 * x.rank) throw new GraphError(`Pad: need ${2 * x.rank} pads for ${fmtShape(x.shape)}, got ${pads.length}`);
  if (pads.every((p) => p === 0)) return x;
  const shape = x.shape.map((d, i) => d + pads[i] + pads[i + x.rank]);
  return x.graph.addNode('Pad', [x, x.graph.ints(pads)], {}, [{ dtype: x.dtype, shape }])[0];
}

export function cumsum(x: Tensor, axis: number, opts: { exclusive?: boolean; reverse?: boolean } = {}): Tensor {
  const a = normAxis('CumSum', axis, x.rank);
  const axT = x.graph.constant(BigInt64Array.from([BigInt(a)]), [], 'int64');
  return x.graph.addNode('CumSum', [x, axT], { exclusive: attrInt(opts.exclusive ? 1 : 0), reverse: attrInt(opts.reverse ? 1 : 0) }, [{ dtype: x.dtype, shape: x.shape }])[0];
}

const ONNX_TYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };
export function cast(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  return x.graph.addNode('Cast', [x], { to: attrInt(ONNX_TYPE[to]) }, [{ dtype: to, shape: x.shape }])[0];
}

/** Top-k values and int64 indices along `axis` (no gradient). */
export function topk(x: Tensor, k: number, axis = -1, largest = true): [Tensor, Tensor] {
  const a = normAxis('TopK', axis, x.rank);
  if (k < 1 || k > x.shape[a]) throw new GraphError(`TopK: k=${k} out of range for axis ${a} of ${fmtShape(x.shape)}`);
  const shape = x.shape.map((d, i) => (i === a ? k : d));
  const [v, idx] = x.graph.addNode('TopK', [x, x.graph.ints([k])], { axis: attrInt(a), largest: attrInt(largest ? 1 : 0), sorted: attrInt(1) }, [
    { dtype: x.dtype, shape },
    { dtype: 'int64', shape },
  ]);
  return [v, idx];
}

/** A tensor of `shape` filled with `value` (Expand of a scalar). */
export function full(g: Graph, shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  const s = g.scalar(value, dtype);
  if (shape.length === 0) return s;
  return g.addNode('Expand', [s, g.ints([...shape])], {}, [{ dtype, shape: [...shape] }])[0];
}
export const zerosLike = (x: Tensor): Tensor => full(x.graph, x.shape, 0, x.dtype);
