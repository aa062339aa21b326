// A small writer of ONNX graphs with symbolic dimensions (batch, sequence, past length), for the
// inference models the lab exports. The numeric core's graph (src/core/graph) has static shapes,
// which suits training steps; an exported model must accept any batch and sequence length.
import { onnx } from 'onnx-proto';

export const EXPORT_OPSET = 18;
export const ELEM = { float32: 1, int64: 7, bool: 9, float16: 10, bfloat16: 16 } as const;

type AttrValue = number | number[] | { float: number } | { tensor: onnx.ITensorProto } | { graph: onnx.IGraphProto };
export type Dim = number | string;

export class OnnxGraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;
  private constCache = new Map<string, string>();

  /** `scope` prefixes every generated name (a Loop body must not reuse outer names). */
  constructor(private readonly scope = '') {}

  private fresh(prefix: string): string {
    return `${this.scope}${prefix}_${this.counter++}`;
  }

  /** Add one node; returns its output names. Integer attributes are ints, `{float: x}` floats. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1, label = opType): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh(label));
    const T = onnx.AttributeProto.AttributeType;
    const attribute: onnx.IAttributeProto[] = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'number') return { name, type: T.INT, i: v };
      if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
      if ('float' in v) return { name, type: T.FLOAT, f: v.float };
      if ('graph' in v) return { name, type: T.GRAPH, g: v.graph };
      return { name, type: T.TENSOR, t: v.tensor };
    });
    this.nodes.push({ opType, input: inputs, output: outs, name: this.fresh(`n_${opType}`), attribute });
    return outs;
  }

  /** Shorthand for single-output nodes. */
  o(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, label = opType): string {
    return this.op(opType, inputs, attrs, 1, label)[0];
  }

  /** Rename the output of the last node that produced `value` (to give graph outputs their names). */
  rename(value: string, name: string): void {
    for (const n of this.nodes) {
      n.output = n.output!.map((x) => (x === value ? name : x));
      n.input = n.input!.map((x) => (x === value ? name : x));
    }
  }

  /** A float32 initializer under an explicit name (model parameters keep their HF names). */
  weight(name: string, data: Float32Array, dims: number[]): string {
    this.initializers.push({
      name,
      dataType: ELEM.float32,
      dims,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  /** A cached int64 constant initializer (axes, shapes, starts). */
  ints(values: number[], scalar = false): string {
    const key = `i:${scalar}:${values.join(',')}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.fresh('const_i64');
      const data = BigInt64Array.from(values.map((v) => BigInt(v)));
      this.initializers.push({ name, dataType: ELEM.int64, dims: scalar ? [] : [values.length], rawData: new Uint8Array(data.buffer) });
      this.constCache.set(key, name);
    }
    return name;
  }

  /** A cached float32 scalar constant. */
  scalar(v: number): string {
    const key = `f:${v}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.fresh('const_f32');
      const data = Float32Array.of(v);
      this.initializers.push({ name, dataType: ELEM.float32, dims: [], rawData: new Uint8Array(data.buffer) });
      this.constCache.set(key, name);
    }
    return name;
  }

  /** A bool scalar initializer. */
  scalarBool(v: boolean): string {
    const key = `b:${v}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.fresh('const_bool');
      this.initializers.push({ name, dataType: ELEM.bool, dims: [], rawData: Uint8Array.of(v ? 1 : 0) });
      this.constCache.set(key, name);
    }
    return name;
  }

  input(name: string, elem: number, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, elem, dims));
    return name;
  }

  output(name: string, elem: number, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, elem, dims));
  }

  /** The graph (e.g. a Loop body, whose inputs/outputs are declared with input()/output()). */
  graph(graphName: string): onnx.IGraphProto {
    return { name: graphName, node: this.nodes, input: this.inputs, output: this.outputs, initializer: this.initializers };
  }

  /** Make `value` available under the graph-output name `name` (an Identity node). */
  alias(value: string, name: string): void {
    this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: this.fresh('n_alias') });
  }

  encode(graphName: string, producer = 'proxlab', opset = EXPORT_OPSET): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: opset >= 21 ? 10 : 8,
      producerName: producer,
      opsetImport: [{ domain: '', version: opset }],
      graph: this.graph(graphName),
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

function valueInfo(name: string, elem: number, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: elem, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}
