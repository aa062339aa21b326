// Symbolic tensors with static shapes and the graph that records the ops between them.
// Every node is one ONNX node (op type + attributes + inputs), so emission is 1:1 and the
// backward graph built by autodiff is made of the same nodes (which keeps grad-of-grad open).

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';

export const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64';

/** A typed ONNX attribute value (ints and floats are distinct in ONNX). */
export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string };

export const attrInt = (value: number): Attr => ({ kind: 'int', value });
export const attrFloat = (value: number): Attr => ({ kind: 'float', value });
export const attrInts = (value: number[]): Attr => ({ kind: 'ints', value });
export const attrString = (value: string): Attr => ({ kind: 'string', value });

export type ConstData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export interface Node {
  readonly id: number;
  readonly op: string;
  readonly domain: string;
  readonly inputs: readonly Tensor[];
  readonly attrs: Readonly<Record<string, Attr>>;
  readonly outputs: Tensor[];
}

export type TensorKind = 'input' | 'const' | 'op';

export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly dtype: DType,
    readonly shape: readonly number[],
    readonly kind: TensorKind,
    /** Producer node for kind 'op'. */
    readonly node: Node | null,
    /** Output index within the producer. */
    readonly index: number,
    /** Graph-input name (kind 'input'); optional user name otherwise. */
    public name: string | null,
    /** Constant payload (kind 'const'). */
    readonly value: ConstData | null,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  toString(): string {
    return `${this.name ?? 't' + this.id}:${this.dtype}[${this.shape.join(',')}]`;
  }
}

export class GraphError extends Error {}

export const fmtShape = (s: readonly number[]): string => `[${s.join(',')}]`;

export class Graph {
  private nextId = 0;
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly constants: Tensor[] = [];
  private inputNames = new Set<string>();
  private scalarCache = new Map<string, Tensor>();

  /** A named graph input (a parameter, a batch tensor, a hyperparameter fed per run). */
  input(name: string, dtype: DType, shape: readonly number[]): Tensor {
    if (this.inputNames.has(name)) throw new GraphError(`input '${name}' declared twice`);
    checkShape('input ' + name, shape);
    this.inputNames.add(name);
    const t = new Tensor(this, this.nextId++, dtype, [...shape], 'input', null, 0, name, null);
    this.inputs.push(t);
    return t;
  }

  hasInput(name: string): boolean {
    return this.inputNames.has(name);
  }

  /** A constant tensor embedded in the model (an ONNX initializer). */
  constant(value: ConstData, shape: readonly number[], dtype?: DType): Tensor {
    const dt = dtype ?? dtypeOfData(value);
    checkShape('constant', shape);
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== value.length) throw new GraphError(`constant: shape ${fmtShape(shape)} needs ${n} values, got ${value.length}`);
    const t = new Tensor(this, this.nextId++, dt, [...shape], 'const', null, 0, null, value);
    this.constants.push(t);
    return t;
  }

  /** A cached rank-0 constant of the given dtype. */
  scalar(v: number, dtype: DType = 'float32'): Tensor {
    const key = `${dtype}:${Object.is(v, -0) ? '-0' : v}`;
    let t = this.scalarCache.get(key);
    if (!t) {
      t = this.constant(makeData(dtype, [v]), [], dtype);
      this.scalarCache.set(key, t);
    }
    return t;
  }

  /** A 1-D int64 constant (axes, shapes, starts, ...). */
  ints(values: readonly number[]): Tensor {
    const key = `ints:${values.join(',')}`;
    let t = this.scalarCache.get(key);
    if (!t) {
      t = this.constant(BigInt64Array.from(values.map((v) => BigInt(v))), [values.length], 'int64');
      this.scalarCache.set(key, t);
    }
    return t;
  }

  /** Record a node; output dtypes/shapes come from the op's shape rule. */
  addNode(
    op: string,
    inputs: readonly Tensor[],
    attrs: Record<string, Attr>,
    outs: { dtype: DType; shape: readonly number[] }[],
    domain = '',
  ): Tensor[] {
    for (const x of inputs) {
      if (x.graph !== this) throw new GraphError(`${op}: input ${x} belongs to another graph`);
    }
    const outputs: Tensor[] = [];
    const node: Node = { id: this.nodes.length, op, domain, inputs: [...inputs], attrs, outputs };
    outs.forEach((o, i) => {
      checkShape(op, o.shape);
      outputs.push(new Tensor(this, this.nextId++, o.dtype, [...o.shape], 'op', node, i, null, null));
    });
    this.nodes.push(node);
    return outputs;
  }
}

function checkShape(what: string, shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new GraphError(`${what}: bad static shape ${fmtShape(shape)}`);
  }
}

export function dtypeOfData(v: ConstData): DType {
  if (v instanceof Float32Array) return 'float32';
  if (v instanceof Float64Array) return 'float64';
  if (v instanceof BigInt64Array) return 'int64';
  if (v instanceof Int32Array) return 'int32';
  return 'bool';
}

export function makeData(dtype: DType, values: readonly number[]): ConstData {
  switch (dtype) {
    case 'float32': return Float32Array.from(values);
    case 'float64': return Float64Array.from(values);
    case 'int64': return BigInt64Array.from(values.map((v) => BigInt(Math.trunc(v))));
    case 'int32': return Int32Array.from(values);
    case 'bool': return Uint8Array.from(values.map((v) => (v ? 1 : 0)));
  }
}

export function allocData(dtype: DType, n: number): ConstData {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'int32': return new Int32Array(n);
    case 'bool': return new Uint8Array(n);
  }
}
