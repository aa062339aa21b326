// Reverse-mode autodiff: grad(y, wrt) appends the backward graph to y's graph.
// One vector-Jacobian rule per ONNX op, each written with the same graph ops, so a gradient is
// itself a differentiable tensor (grad of grad works wherever the VJP's own ops have rules).
import { type Node, Tensor, GraphError, fmtShape, isFloat } from './graph';
import * as O from './ops';

type VJP = (node: Node, gouts: (Tensor | null)[], needs: boolean[]) => (Tensor | null)[];

/** Sum a broadcast gradient back down to `shape` (numpy broadcasting in reverse). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.join(',') === shape.join(',')) return g;
  const lead = g.rank - shape.length;
  if (lead < 0) throw new GraphError(`sumTo: gradient ${fmtShape(g.shape)} has lower rank than ${fmtShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
  }
  const s = axes.length ? O.sum(g, axes, true) : g;
  return O.reshape(s, shape);
}

const attrI = (n: Node, k: string, d = 0): number => {
  const a = n.attrs[k];
  return a && (a.kind === 'int' || a.kind === 'float') ? a.value : d;
};
const attrIs = (n: Node, k: string): number[] => {
  const a = n.attrs[k];
  return a && a.kind === 'ints' ? a.value : [];
};
/** Values of an int64 constant input (axes, shapes, starts...). */
function constInts(t: Tensor): number[] {
  if (t.kind !== 'const' || !(t.value instanceof BigInt64Array)) throw new GraphError(`autodiff: expected an int64 constant, got ${t}`);
  return Array.from(t.value, (v) => Number(v));
}

const rules: Record<string, VJP> = {};
const noGrad: VJP = (n) => n.inputs.map(() => null);
for (const op of ['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Not', 'TopK', 'Sign']) rules[op] = noGrad;

rules.Add = (n, [g]) => [sumTo(g!, n.inputs[0].shape), sumTo(g!, n.inputs[1].shape)];
rules.Sub = (n, [g], needs) => [sumTo(g!, n.inputs[0].shape), needs[1] ? sumTo(O.neg(g!), n.inputs[1].shape) : null];
rules.Mul = (n, [g], needs) => {
  const [a, b] = n.inputs;
  return [needs[0] ? sumTo(O.mul(g!, b), a.shape) : null, needs[1] ? sumTo(O.mul(g!, a), b.shape) : null];
};
rules.Div = (n, [g], needs) => {
  const [a, b] = n.inputs;
  const y = n.outputs[0];
  const ga = O.div(g!, b);
  return [needs[0] ? sumTo(ga, a.shape) : null, needs[1] ? sumTo(O.neg(O.mul(ga, y)), b.shape) : null];
};
rules.Pow = (n, [g], needs) => {
  const [a, b] = n.inputs;
  const y = n.outputs[0];
  // d/da a^b = b a^(b-1);  d/db a^b = a^b log a
  const ga = needs[0] ? sumTo(O.mul(g!, O.mul(b, O.pow(a, O.sub(b, 1)))), a.shape) : null;
  const gb = needs[1] ? sumTo(O.mul(g!, O.mul(y, O.log(a))), b.shape) : null;
  return [ga, gb];
};
rules.Neg = (_n, [g]) => [O.neg(g!)];
rules.Identity = (n, [g]) => (attrI(n, '_stop_gradient') ? [null] : [g]);
rules.Sqrt = (n, [g]) => [O.div(O.mul(g!, 0.5), n.outputs[0])];
rules.Exp = (n, [g]) => [O.mul(g!, n.outputs[0])];
rules.Log = (n, [g]) => [O.div(g!, n.inputs[0])];
rules.Abs = (n, [g]) => [O.mul(g!, O.sign(n.inputs[0]))];
rules.Tanh = (n, [g]) => {
  const y = n.outputs[0];
  return [O.mul(g!, O.sub(1, O.mul(y, y)))];
};
rules.Sigmoid = (n, [g]) => {
  const y = n.outputs[0];
  return [O.mul(g!, O.mul(y, O.sub(1, y)))];
};
rules.Relu = (n, [g]) => [O.where(O.greater(n.inputs[0], 0), g!, 0)];
rules.Erf = (n, [g]) => {
  const x = n.inputs[0];
  return [O.mul(g!, O.mul(O.exp(O.neg(O.mul(x, x))), 2 / Math.sqrt(Math.PI)))];
};
rules.Gelu = (n, [g]) => {
  const x = n.inputs[0];
  const approx = n.attrs.approximate;
  if (approx && approx.kind === 'string' && approx.value === 'tanh') {
    // y = 0.5 x (1 + t), t = tanh(c (x + a x^3)):  y' = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)
    const a = 0.044715, c = Math.sqrt(2 / Math.PI);
    const x2 = O.mul(x, x);
    const t = O.tanh(O.mul(O.mul(x, O.add(O.mul(x2, a), 1)), c));
    const d = O.add(O.mul(O.add(t, 1), 0.5), O.mul(O.mul(x, O.sub(1, O.mul(t, t))), O.add(O.mul(x2, 0.5 * c * 3 * a), 0.5 * c)));
    return [O.mul(g!, d)];
  }
  // y = x Phi(x):  y' = Phi(x) + x phi(x)
  const cdf = O.mul(O.add(O.erf(O.mul(x, Math.SQRT1_2)), 1), 0.5);
  const pdf = O.mul(O.exp(O.mul(O.mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return [O.mul(g!, O.add(cdf, O.mul(x, pdf)))];
};
rules.Softplus = (n, [g]) => [O.mul(g!, O.sigmoid(n.inputs[0]))];
rules.Max = (n, [g], needs) => {
  const [a, b] = n.inputs;
  const pick = O.greaterOrEqual(a, b); // ties go to the first operand
  return [needs[0] ? sumTo(O.where(pick, g!, 0), a.shape) : null, needs[1] ? sumTo(O.where(pick, 0, g!), b.shape) : null];
};
rules.Min = (n, [g], needs) => {
  const [a, b] = n.inputs;
  const pick = O.lessOrEqual(a, b);
  return [needs[0] ? sumTo(O.where(pick, g!, 0), a.shape) : null, needs[1] ? sumTo(O.where(pick, 0, g!), b.shape) : null];
};
rules.Clip = (n, [g]) => {
  const [x, lo, hi] = n.inputs;
  const inside = O.and(O.greaterOrEqual(x, lo), O.lessOrEqual(x, hi));
  return [O.where(inside, g!, 0), null, null];
};
rules.Where = (n, [g], needs) => {
  const [c, a, b] = n.inputs;
  return [null, needs[1] ? sumTo(O.where(c, g!, 0), a.shape) : null, needs[2] ? sumTo(O.where(c, 0, g!), b.shape) : null];
};
rules.Cast = (n, [g]) => (isFloat(n.inputs[0].dtype) ? [O.cast(g!, n.inputs[0].dtype)] : [null]);

rules.MatMul = (n, [g], needs) => {
  const [a, b] = n.inputs;
  let ga: Tensor | null = null, gb: Tensor | null = null;
  if (needs[0]) ga = sumTo(O.matmul(g!, O.transposeLast2(b)), a.shape);
  if (needs[1]) {
    if (b.rank === 2 && a.rank > 2) {
      // fold batch axes into rows: dB = A_2d^T @ G_2d (one GEMM instead of a batched one + reduce)
      const a2 = O.reshape(a, [-1, a.shape[a.rank - 1]]);
      const g2 = O.reshape(g!, [-1, g!.shape[g!.rank - 1]]);
      gb = O.matmul(O.transposeLast2(a2), g2);
    } else {
      gb = sumTo(O.matmul(O.transposeLast2(a), g!), b.shape);
    }
  }
  return [ga, gb];
};
rules.Gemm = (n, [g], needs) => {
  const [a, b, c] = n.inputs;
  const tA = attrI(n, 'transA'), tB = attrI(n, 'transB');
  const alpha = attrI(n, 'alpha', 1), beta = attrI(n, 'beta', 1);
  const ga0 = g!;
  const gs = alpha === 1 ? ga0 : O.mul(ga0, alpha);
  // Y = op(A) op(B): d op(A) = G op(B)^T, d op(B) = op(A)^T G
  const opB = tB ? O.transpose(b) : b;
  const opA = tA ? O.transpose(a) : a;
  let ga: Tensor | null = null, gb: Tensor | null = null;
  if (needs[0]) {
    const d = O.matmul(gs, O.transpose(opB));
    ga = tA ? O.transpose(d) : d;
  }
  if (needs[1]) {
    const d = O.matmul(O.transpose(opA), gs);
    gb = tB ? O.transpose(d) : d;
  }
  const out: (Tensor | null)[] = [ga, gb];
  if (c) out.push(needs[2] ? sumTo(beta === 1 ? g! : O.mul(g!, beta), c.shape) : null);
  return out;
};

function reductionAxes(n: Node): number[] {
  return constInts(n.inputs[1]);
}
function unreduce(n: Node, g: Tensor): Tensor {
  // restore the reduced axes as size-1 dims, then broadcast to the input shape
  const x = n.inputs[0];
  const keep = attrI(n, 'keepdims', 1);
  const gk = keep ? g : O.reshape(g, x.shape.map((d, i) => (reductionAxes(n).includes(i) ? 1 : d)));
  return O.expand(gk, x.shape);
}
rules.ReduceSum = (n, [g]) => [unreduce(n, g!), null];
rules.ReduceMean = (n, [g]) => {
  const x = n.inputs[0];
  const count = reductionAxes(n).reduce((p, a) => p * x.shape[a], 1);
  return [O.div(unreduce(n, g!), count), null];
};
rules.ReduceMax = (n, [g]) => {
  const x = n.inputs[0];
  const axes = reductionAxes(n);
  const yk = O.reshape(n.outputs[0], x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
  const hit = O.cast(O.equal(x, yk), x.dtype);
  const ties = O.sum(hit, axes, true); // split the gradient evenly among tied maxima (as PyTorch amax)
  return [O.mul(unreduce(n, g!), O.div(hit, ties)), null];
};
rules.Softmax = (n, [g]) => {
  const y = n.outputs[0];
  const ax = attrI(n, 'axis', -1);
  return [O.mul(y, O.sub(g!, O.sum(O.mul(g!, y), [ax], true)))];
};
rules.LogSoftmax = (n, [g]) => {
  const y = n.outputs[0];
  const ax = attrI(n, 'axis', -1);
  return [O.sub(g!, O.mul(O.exp(y), O.sum(g!, [ax], true)))];
};
rules.LayerNormalization = (n, [g], needs) => {
  const [x, scale, bias] = n.inputs;
  const eps = attrI(n, 'epsilon', 1e-5);
  const axis = attrI(n, 'axis', -1);
  const normAxes = x.shape.map((_, i) => i).slice(axis < 0 ? axis + x.rank : axis);
  const lead = x.shape.map((_, i) => i).slice(0, x.rank - normAxes.length);
  // recompute the statistics: xhat = (x - mu) * rstd
  const mu = O.mean(x, normAxes, true);
  const xc = O.sub(x, mu);
  const rstd = O.div(1, O.sqrt(O.add(O.mean(O.mul(xc, xc), normAxes, true), eps)));
  const xhat = O.mul(xc, rstd);
  const gh = O.mul(g!, scale);
  // dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat))
  const gx = needs[0]
    ? O.mul(rstd, O.sub(O.sub(gh, O.mean(gh, normAxes, true)), O.mul(xhat, O.mean(O.mul(gh, xhat), normAxes, true))))
    : null;
  const gs = needs[1] ? (lead.length ? O.sum(O.mul(g!, xhat), lead) : O.mul(g!, xhat)) : null;
  const out: (Tensor | null)[] = [gx, gs];
  if (bias) out.push(needs[2] ? (lead.length ? O.sum(g!, lead) : g!) : null);
  return out;
};

rules.Gather = (n, [g]) => {
  const [data, idx] = n.inputs;
  const axis = attrI(n, 'axis', 0);
  if (axis !== 0) throw new GraphError(`Gather: gradient implemented for axis 0 only (got axis ${axis})`);
  const rest = data.shape.slice(1);
  const r = rest.reduce((p, q) => p * q, 1);
  const N = idx.size;
  const g2 = O.reshape(g!, [N, r]);
  const i2 = O.expand(O.reshape(O.cast(idx, 'int64'), [N, 1]), [N, r]);
  const zeros = O.full(data.graph, [data.shape[0], r], 0, data.dtype);
  return [O.reshape(O.scatterElements(zeros, i2, g2, 0, 'add'), data.shape), null];
};
rules.GatherElements = (n, [g]) => {
  const [data, idx] = n.inputs;
  return [O.scatterElements(O.zerosLike(data), idx, g!, attrI(n, 'axis', 0), 'add'), null];
};
rules.ScatterElements = (n, [g], needs) => {
  const [, idx] = n.inputs;
  const red = n.attrs.reduction;
  if (!red || red.kind !== 'string' || red.value !== 'add') throw new GraphError('ScatterElements: gradient implemented for reduction=add only');
  return [needs[0] ? g : null, null, needs[2] ? O.gatherElements(g!, idx, attrI(n, 'axis', 0)) : null];
};

rules.Reshape = (n, [g]) => [O.reshape(g!, n.inputs[0].shape), null];
rules.Unsqueeze = (n, [g]) => [O.reshape(g!, n.inputs[0].shape), null];
rules.Squeeze = (n, [g]) => [O.reshape(g!, n.inputs[0].shape), null];
rules.Expand = (n, [g]) => [sumTo(g!, n.inputs[0].shape), null];
rules.Transpose = (n, [g]) => {
  const p = attrIs(n, 'perm');
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => (inv[v] = i));
  return [O.transpose(g!, inv)];
};
rules.Concat = (n, [g], needs) => {
  const axis = attrI(n, 'axis', 0);
  let off = 0;
  return n.inputs.map((x, i) => {
    const s = off;
    off += x.shape[axis];
    return needs[i] ? O.slice(g!, [s], [s + x.shape[axis]], [axis]) : null;
  });
};
rules.Split = (n, gs) => {
  const axis = attrI(n, 'axis', 0);
  const parts = n.outputs.map((o, i) => gs[i] ?? O.zerosLike(o));
  return [O.concat(parts, axis), null];
};
rules.Slice = (n, [g]) => {
  const x = n.inputs[0];
  const starts = constInts(n.inputs[1]), ends = constInts(n.inputs[2]);
  const axes = constInts(n.inputs[3]), steps = constInts(n.inputs[4]);
  if (steps.some((s) => s !== 1)) throw new GraphError('Slice: gradient implemented for step 1 only');
  const pads = new Array<number>(2 * x.rank).fill(0);
  axes.forEach((a, i) => {
    pads[a] = starts[i];
    pads[a + x.rank] = x.shape[a] - Math.max(ends[i], starts[i]);
  });
  return [O.pad(g!, pads), null, null, null, null];
};
rules.Pad = (n, [g]) => {
  const x = n.inputs[0];
  const pads = constInts(n.inputs[1]);
  const axes = x.shape.map((_, i) => i);
  return [O.slice(g!, axes.map((a) => pads[a]), axes.map((a) => pads[a] + x.shape[a]), axes), null];
};
rules.CumSum = (n, [g]) => {
  const axis = constInts(n.inputs[1])[0];
  return [O.cumsum(g!, axis, { exclusive: !!attrI(n, 'exclusive'), reverse: !attrI(n, 'reverse') }), null];
};

/** Register a VJP for an op type (custom or contrib ops). */
export function defineVjp(op: string, rule: VJP): void {
  rules[op] = rule;
}

export interface GradOptions {
  /** Gradient of y to start from (default: ones; y must be a scalar then). */
  seed?: Tensor;
  /** Return zeros for a wrt tensor that y does not depend on (default true), else null. */
  zerosForUnconnected?: boolean;
}

/**
 * d y / d wrt for every wrt tensor. y must be a float scalar unless a seed (the cotangent,
 * y's shape) is given. Appends the backward nodes to y.graph and returns their tensors.
 */
export function grad(y: Tensor, wrt: readonly Tensor[], opts: GradOptions = {}): Tensor[] {
  const graph = y.graph;
  if (!isFloat(y.dtype)) throw new GraphError(`grad: y must be a float tensor, got ${y}`);
  if (!opts.seed && y.size !== 1) throw new GraphError(`grad: y ${fmtShape(y.shape)} is not a scalar; pass a seed of its shape`);
  const seed = opts.seed ?? O.full(graph, y.shape, 1, y.dtype);
  if (seed.shape.join(',') !== y.shape.join(',')) throw new GraphError(`grad: seed ${fmtShape(seed.shape)} differs from y ${fmtShape(y.shape)}`);

  // 1. tensors that depend on some wrt tensor (nodes are in topological order by construction)
  const depends = new Set<number>(wrt.map((t) => t.id));
  const lastNode = y.node ? y.node.id : -1;
  for (let i = 0; i <= lastNode; i++) {
    const node = graph.nodes[i];
    if (node.inputs.some((t) => depends.has(t.id))) for (const o of node.outputs) depends.add(o.id);
  }
  // 2. walk back from y accumulating cotangents
  const acc = new Map<number, Tensor[]>();
  acc.set(y.id, [seed]);
  const total = (t: Tensor): Tensor | null => {
    const parts = acc.get(t.id);
    if (!parts || parts.length === 0) return null;
    let s = parts[0];
    for (let i = 1; i < parts.length; i++) s = O.add(s, parts[i]);
    acc.set(t.id, [s]);
    return s;
  };
  for (let i = lastNode; i >= 0; i--) {
    const node = graph.nodes[i];
    if (!node.outputs.some((o) => acc.has(o.id))) continue;
    const needs = node.inputs.map((t) => depends.has(t.id) && isFloat(t.dtype));
    if (!needs.some(Boolean)) continue;
    const rule = rules[node.op];
    if (!rule) throw new GraphError(`grad: no vector-Jacobian rule for op ${node.op}`);
    const gouts = node.outputs.map(total);
    const gins = rule(node, gouts, needs);
    node.inputs.forEach((t, k) => {
      const gi = gins[k];
      if (!needs[k] || !gi) return;
      if (gi.shape.join(',') !== t.shape.join(',')) {
        throw new GraphError(`grad: rule for ${node.op} gave ${fmtShape(gi.shape)} for input ${fmtShape(t.shape)}`);
      }
      const list = acc.get(t.id);
      if (list) list.push(gi);
      else acc.set(t.id, [gi]);
    });
  }
  const zeros = opts.zerosForUnconnected ?? true;
  return wrt.map((t) => total(t) ?? (zeros ? O.zerosLike(t) : (null as unknown as Tensor)));
}
