// ONNX emission through the onnx-proto package (protobufjs bindings of onnx.proto).
// Only the nodes needed for the requested outputs are emitted; attributes whose names start
// with '_' are private to this library (e.g. the stop-gradient mark) and are not written.
import { createHash } from 'node:crypto';
import { onnx } from 'onnx-proto';
import { type Attr, type DType, Graph, GraphError, Tensor } from './graph';

export const OPSET = 20;
const ELEM: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };

export interface EmitResult {
  bytes: Uint8Array;
  /** sha256 of the model bytes: identifies graph + static shapes. */
  hash: string;
  /** Graph inputs the outputs depend on, in declaration order. */
  inputs: Tensor[];
  outputNames: string[];
  nodeCount: number;
}

function attrProto(name: string, a: Attr): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int': return { name, type: T.INT, i: a.value };
    case 'float': return { name, type: T.FLOAT, f: a.value };
    case 'ints': return { name, type: T.INTS, ints: a.value };
    case 'floats': return { name, type: T.FLOATS, floats: a.value };
    case 'string': return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}

function valueInfo(name: string, t: Tensor): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ELEM[t.dtype], shape: { dim: t.shape.map((d) => ({ dimValue: d })) } } },
  };
}

function tensorProto(name: string, t: Tensor): onnx.ITensorProto {
  const v = t.value!;
  return {
    name,
    dataType: ELEM[t.dtype],
    dims: [...t.shape],
    rawData: new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
  };
}

/** Emit the sub-graph that computes `outputs` as an ONNX model. */
export function emitOnnx(graph: Graph, outputs: Record<string, Tensor>, opts: { name?: string } = {}): EmitResult {
  const outEntries = Object.entries(outputs);
  if (outEntries.length === 0) throw new GraphError('emitOnnx: no outputs requested');
  for (const [name, t] of outEntries) {
    if (t.graph !== graph) throw new GraphError(`emitOnnx: output '${name}' belongs to another graph`);
  }
  // 1. liveness: nodes and leaves reachable backwards from the outputs
  const liveNodes = new Set<number>();
  const liveLeaves = new Map<number, Tensor>();
  const stack: Tensor[] = outEntries.map(([, t]) => t);
  const seen = new Set<number>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    if (t.node) {
      if (!liveNodes.has(t.node.id)) {
        liveNodes.add(t.node.id);
        stack.push(...t.node.inputs);
      }
    } else liveLeaves.set(t.id, t);
  }
  // 2. value names: graph inputs keep theirs; op outputs named by a requested output take that name
  const names = new Map<number, string>();
  const inputNames = new Set(graph.inputs.map((t) => t.name!));
  const outputNames: string[] = [];
  const identities: onnx.INodeProto[] = [];
  for (const t of graph.inputs) names.set(t.id, t.name!);
  for (const [name, t] of outEntries) {
    if (inputNames.has(name)) throw new GraphError(`emitOnnx: output name '${name}' is also an input name`);
    if (outputNames.includes(name)) throw new GraphError(`emitOnnx: duplicate output name '${name}'`);
    outputNames.push(name);
    if (t.kind === 'op' && !names.has(t.id)) names.set(t.id, name);
    else identities.push({ opType: 'Identity', input: [], output: [name], name: `out_${name}` });
  }
  function nameOf(t: Tensor): string {
    let n = names.get(t.id);
    if (!n) {
      n = t.kind === 'const' ? `c${t.id}` : `t${t.id}`;
      names.set(t.id, n);
    }
    return n;
  }
  // an output that is a leaf or an already-named tensor is copied out by an Identity
  for (const idn of identities) idn.input = [nameOf(outputs[idn.output![0]])];
  const nodes: onnx.INodeProto[] = [];
  for (const node of graph.nodes) {
    if (!liveNodes.has(node.id)) continue;
    const attrs = Object.entries(node.attrs)
      .filter(([k]) => !k.startsWith('_'))
      .map(([k, a]) => attrProto(k, a));
    nodes.push({
      opType: node.op,
      domain: node.domain,
      name: `n${node.id}_${node.op}`,
      input: node.inputs.map(nameOf),
      output: node.outputs.map(nameOf),
      attribute: attrs,
    });
  }
  nodes.push(...identities);
  const usedInputs = graph.inputs.filter((t) => liveLeaves.has(t.id));
  const consts = [...liveLeaves.values()].filter((t) => t.kind === 'const');
  const model: onnx.IModelProto = {
    irVersion: 9, // opset 20 needs IR version 9
    producerName: 'proxlab',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: opts.name ?? 'proxlab',
      node: nodes,
      input: usedInputs.map((t) => valueInfo(t.name!, t)),
      output: outEntries.map(([name, t]) => valueInfo(name, t)),
      initializer: consts.map((t) => tensorProto(nameOf(t), t)),
    },
  };
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  const hash = createHash('sha256').update(bytes).digest('hex');
  return { bytes, hash, inputs: usedInputs, outputNames, nodeCount: nodes.length };
}
