// Hugging Face model folders: export (what @huggingface/transformers loads offline) and import
// (weights by name into the lab's parameter store, from onnx/model.onnx initializers or from
// model.safetensors). Layout:
//   config.json  generation_config.json  tokenizer.json  tokenizer_config.json  onnx/model.onnx
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { decodeSafetensors, encodeSafetensors } from '../../core/nn/safetensors';
import { type LlamaConfig, llamaParamSpecs, parseLlamaConfig, type Weights } from './llama/config';
import { buildLlamaOnnx } from './onnx/llama-onnx';
import { ELEM } from './onnx/builder';

export const MODEL_FILE = join('onnx', 'model.onnx');
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;

export interface GenerationDefaults {
  max_new_tokens?: number;
  do_sample?: boolean;
  temperature?: number;
  top_k?: number;
  top_p?: number;
}

export interface ExportOptions {
  config: LlamaConfig;
  weights: Weights;
  /** Folder holding tokenizer.json and tokenizer_config.json to copy. */
  tokenizerDir: string;
  generation?: GenerationDefaults;
  /** Extra JSON files to write beside the model (e.g. training_run.json). */
  extraFiles?: Record<string, unknown>;
}

/** Write a complete HF-layout folder. Returns the size of onnx/model.onnx in bytes. */
export function exportHfFolder(dir: string, opts: ExportOptions): number {
  for (const f of TOKENIZER_FILES) {
    if (!existsSync(join(opts.tokenizerDir, f))) throw new Error(`export: ${join(opts.tokenizerDir, f)} not found`);
  }
  const bytes = buildLlamaOnnx(opts.config, opts.weights);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, MODEL_FILE), bytes);
  const c = opts.config;
  const config = {
    architectures: ['LlamaForCausalLM'],
    ...c,
    attention_bias: false,
    mlp_bias: false,
    rope_scaling: null,
    torch_dtype: 'float32',
    use_cache: true,
    'transformers.js_config': { dtype: 'fp32' },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  const generation = {
    bos_token_id: c.bos_token_id,
    eos_token_id: c.eos_token_id,
    pad_token_id: c.pad_token_id,
    ...opts.generation,
  };
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify(generation, null, 2) + '\n');
  for (const f of TOKENIZER_FILES) copyFileSync(join(opts.tokenizerDir, f), join(dir, f));
  for (const [name, value] of Object.entries(opts.extraFiles ?? {})) {
    writeFileSync(join(dir, name), JSON.stringify(value, null, 2) + '\n');
  }
  return bytes.length;
}

export interface ImportedModel {
  config: LlamaConfig;
  weights: Weights;
  /** Where the weights came from. */
  source: string;
}

export function readConfig(dir: string): LlamaConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new Error(`${path}: not found (is ${dir} a Hugging Face model folder?)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  return parseLlamaConfig(raw, path);
}

/** Load config + weights from a folder; model.safetensors wins over onnx/model.onnx when both exist. */
export function importHfFolder(dir: string): ImportedModel {
  const config = readConfig(dir);
  const st = join(dir, 'model.safetensors');
  if (existsSync(st)) return { config, weights: readSafetensorsWeights(st, config), source: st };
  const onnxPath = join(dir, MODEL_FILE);
  if (existsSync(onnxPath)) return { config, weights: readOnnxWeights(onnxPath, config), source: onnxPath };
  throw new Error(`${dir}: no weights found (expected model.safetensors or ${MODEL_FILE})`);
}

// ---- ONNX initializers

/** float16 bits → float32. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function decodeFloats(bytes: Uint8Array, dtype: 'F32' | 'F16' | 'BF16', n: number, where: string): Float32Array {
  const width = dtype === 'F32' ? 4 : 2;
  if (bytes.byteLength !== n * width) throw new Error(`${where}: ${bytes.byteLength} bytes of data, expected ${n * width} (${n} x ${dtype})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  if (dtype === 'F32') for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  else if (dtype === 'F16') for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  else {
    const u = new Uint32Array(1);
    const f = new Float32Array(u.buffer);
    for (let i = 0; i < n; i++) {
      u[0] = view.getUint16(2 * i, true) << 16;
      out[i] = f[0];
    }
  }
  return out;
}

function expectShape(where: string, name: string, got: number[], want: number[]): void {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new Error(`${where}: tensor ${name} has shape [${got.join(', ')}], expected [${want.join(', ')}]`);
  }
}

function missing(where: string, name: string, want: number[], hint: string): Error {
  return new Error(`${where}: missing tensor ${name} (expected shape [${want.join(', ')}])${hint}`);
}

export function readOnnxWeights(path: string, config: LlamaConfig): Weights {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(readFileSync(path));
  } catch (e) {
    throw new Error(`${path}: not a valid ONNX model (${(e as Error).message})`, { cause: e });
  }
  if (!model.graph) throw new Error(`${path}: not a valid ONNX model (no graph)`);
  const inits = new Map<string, onnx.ITensorProto>();
  for (const t of model.graph.initializer ?? []) inits.set(t.name ?? '', t);
  const anonymous = [...inits.keys()].some((n) => n.startsWith('onnx::MatMul'));
  const hint = anonymous
    ? ' — this export stores linear weights as anonymous transposed MatMul initializers; put the model.safetensors of the same model in the folder'
    : '';
  const weights: Weights = new Map();
  for (const spec of llamaParamSpecs(config)) {
    const t = inits.get(spec.name);
    if (!t) throw missing(path, spec.name, spec.shape, hint);
    const dims = (t.dims ?? []).map(Number);
    expectShape(path, spec.name, dims, spec.shape);
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const dtype = t.dataType === ELEM.float32 ? 'F32' : t.dataType === ELEM.float16 ? 'F16' : t.dataType === ELEM.bfloat16 ? 'BF16' : null;
    if (!dtype) throw new Error(`${path}: tensor ${spec.name} has ONNX data type ${t.dataType}, expected float32, float16 or bfloat16`);
    let bytes: Uint8Array;
    if (t.rawData && t.rawData.length) bytes = t.rawData;
    else if (dtype === 'F32' && t.floatData && t.floatData.length) bytes = new Uint8Array(Float32Array.from(t.floatData).buffer);
    else if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) bytes = readExternal(path, t, spec.name);
    else throw new Error(`${path}: tensor ${spec.name} has no data`);
    weights.set(spec.name, decodeFloats(bytes, dtype, n, `${path}: tensor ${spec.name}`));
  }
  return weights;
}

function readExternal(modelPath: string, t: onnx.ITensorProto, name: string): Uint8Array {
  const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location');
  if (!location) throw new Error(`${modelPath}: tensor ${name} is external but names no location`);
  const file = join(modelPath, '..', location);
  if (!existsSync(file)) throw new Error(`${modelPath}: tensor ${name} lives in ${file}, which is missing`);
  const all = readFileSync(file);
  const offset = Number(kv.get('offset') ?? 0);
  const length = kv.has('length') ? Number(kv.get('length')) : all.length - offset;
  if (offset + length > all.length) throw new Error(`${file}: too short for tensor ${name} (needs ${offset + length} bytes, has ${all.length})`);
  return new Uint8Array(all.buffer, all.byteOffset + offset, length);
}

// ---- safetensors (reader/writer of the numeric core)

export function readSafetensorsWeights(path: string, config: LlamaConfig): Weights {
  let entries: Map<string, { shape: number[]; data: Float32Array }>;
  try {
    entries = new Map(decodeSafetensors(readFileSync(path), path).tensors.map((t) => [t.name, t]));
  } catch (e) {
    throw new Error(`${path}: not a readable safetensors file (${(e as Error).message})`, { cause: e });
  }
  const weights: Weights = new Map();
  for (const spec of llamaParamSpecs(config)) {
    const t = entries.get(spec.name);
    if (!t) throw missing(path, spec.name, spec.shape, '');
    expectShape(path, spec.name, t.shape, spec.shape);
    weights.set(spec.name, t.data);
  }
  return weights;
}

/** Write weights as model.safetensors (F32), e.g. for PyTorch users. */
export function writeSafetensors(path: string, weights: Weights, config: LlamaConfig): void {
  writeFileSync(path, encodeSafetensors(llamaParamSpecs(config).map((s) => ({ name: s.name, shape: s.shape, data: weights.get(s.name)! })), { format: 'pt' }));
}
