// onnxruntime sessions for emitted graphs: execution-provider choice (cuda -> cpu fallback with a
// clear message), a session cache keyed by model hash + device + threads, and typed-array feeds.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { type ConstData, type DType, Graph, Tensor } from '../graph/graph';
import { emitOnnx } from '../graph/onnx';

export type Device = 'cpu' | 'cuda';

export interface RuntimeOptions {
  /** Requested execution provider (default 'cpu'); 'cuda' falls back to CPU when unavailable. */
  device?: Device;
  /** Intra-op threads (default: ORT's choice = physical cores). */
  threads?: number;
  /** Where notices such as the CUDA fallback go (default console.warn). */
  onMessage?: (msg: string) => void;
  /** ORT graph optimization level (default 'all'). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Write the optimized model here (for profiling / inspection). */
  optimizedModelPath?: string;
  /**
   * ORT's memory-pattern planning (default off: with the arena on it roughly doubled the peak RSS
   * of a training step, 1276 -> 815 MB on GPT-2 d256 L4 B16 T128, at no measurable speed gain).
   */
  memPattern?: boolean;
  /**
   * Let idle intra-op threads spin-wait (ORT's own default). Off by default here: on a loaded
   * 2-vCPU machine a 2-thread GPT-2 step took 3.3 s without spinning vs 5.2 s with it (median of 5,
   * alternating), and the editor shares these cores.
   */
  spinning?: boolean;
  /** Write an ORT profile (chrome trace JSON) with this file prefix. */
  profilePrefix?: string;
}

export class RuntimeError extends Error {}

const ORT_DTYPE: Record<DType, ort.Tensor.Type> = { float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', bool: 'bool' };

/** Directory holding the native onnxruntime libraries of the installed package. */
function ortBinDir(): string {
  const req = createRequire(__filename);
  const pkg = dirname(req.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Whether the CUDA execution provider's libraries are installed next to onnxruntime-node. */
export function cudaProviderInstalled(): boolean {
  return existsSync(join(ortBinDir(), 'libonnxruntime_providers_cuda.so')) || existsSync(join(ortBinDir(), 'onnxruntime_providers_cuda.dll'));
}

/** 'auto' picks cuda when its provider is installed, else cpu; explicit choices pass through. */
export function resolveDevice(requested: Device | 'auto' = 'cpu'): Device {
  if (requested === 'auto') return cudaProviderInstalled() ? 'cuda' : 'cpu';
  return requested;
}

const CUDA_HINT = 'install it with `npm run setup:cuda` (needs CUDA 12 + cuDNN 9 on the machine)';

interface CachedSession {
  session: ort.InferenceSession;
  device: Device;
}
const cache = new Map<string, Promise<CachedSession>>();

async function createSession(bytes: Uint8Array, opts: RuntimeOptions): Promise<CachedSession> {
  const say = opts.onMessage ?? ((m: string) => console.warn(m));
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: opts.optimization ?? 'all',
    executionMode: 'sequential',
    enableCpuMemArena: true,
    enableMemPattern: opts.memPattern ?? false,
    ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
    ...(opts.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
    ...(opts.optimizedModelPath ? { optimizedModelFilePath: opts.optimizedModelPath } : {}),
    ...(opts.profilePrefix ? { enableProfiling: true, profileFilePrefix: opts.profilePrefix } : {}),
  };
  if ((opts.device ?? 'cpu') === 'cuda') {
    if (!cudaProviderInstalled()) {
      say(`proxlab: device 'cuda' requested, but the onnxruntime CUDA execution provider is not installed; ${CUDA_HINT}. Falling back to CPU.`);
    } else {
      try {
        const session = await ort.InferenceSession.create(bytes, { ...base, executionProviders: ['cuda', 'cpu'] });
        return { session, device: 'cuda' };
      } catch (e) {
        say(`proxlab: device 'cuda' requested, but the CUDA execution provider failed to start (${firstLine(e)}); ${CUDA_HINT}. Falling back to CPU.`);
      }
    }
  }
  const session = await ort.InferenceSession.create(bytes, { ...base, executionProviders: ['cpu'] });
  return { session, device: 'cpu' };
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}

export interface InputSpec {
  name: string;
  dtype: DType;
  shape: readonly number[];
}

export type Feed = ConstData | ort.Tensor;

/** A compiled graph: one ORT session, typed feeds, optional preallocated outputs. */
export class Program {
  private readonly inputByName: Map<string, InputSpec>;
  private readonly outputByName: Map<string, InputSpec>;

  constructor(
    readonly session: ort.InferenceSession,
    readonly device: Device,
    readonly hash: string,
    readonly inputs: InputSpec[],
    readonly outputs: InputSpec[],
  ) {
    this.inputByName = new Map(inputs.map((s) => [s.name, s]));
    this.outputByName = new Map(outputs.map((s) => [s.name, s]));
  }

  /** Wrap a typed array as an ORT tensor of the declared input/output spec (no copy). */
  private wrap(spec: InputSpec, v: Feed, what: string): ort.Tensor {
    if (!ArrayBuffer.isView(v)) return v;
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (v.length !== n) throw new RuntimeError(`${what} '${spec.name}': expected ${n} values for shape [${spec.shape.join(',')}], got ${v.length}`);
    const want = ORT_DTYPE[spec.dtype];
    const ok =
      (want === 'float32' && v instanceof Float32Array) ||
      (want === 'float64' && v instanceof Float64Array) ||
      (want === 'int64' && v instanceof BigInt64Array) ||
      (want === 'int32' && v instanceof Int32Array) ||
      (want === 'bool' && v instanceof Uint8Array);
    if (!ok) throw new RuntimeError(`${what} '${spec.name}': expected ${spec.dtype} data, got ${v.constructor.name}`);
    return new ort.Tensor(want, v as never, [...spec.shape]);
  }

  /**
   * Run once. Feeds not used by the graph are ignored; every used input must be present.
   * `into` names outputs to write into caller-owned buffers (ORT fills them in place, no copy).
   */
  async run(feeds: Record<string, Feed>, into: Record<string, Feed> = {}, only?: readonly string[]): Promise<Record<string, ort.Tensor>> {
    const f: Record<string, ort.Tensor> = {};
    for (const spec of this.inputs) {
      const v = feeds[spec.name];
      if (v === undefined) throw new RuntimeError(`missing input '${spec.name}' (${spec.dtype} [${spec.shape.join(',')}])`);
      f[spec.name] = this.wrap(spec, v, 'input');
    }
    const names = only ?? this.outputs.map((o) => o.name);
    const fetches: Record<string, ort.Tensor | null> = {};
    for (const name of names) {
      const spec = this.outputByName.get(name);
      if (!spec) throw new RuntimeError(`unknown output '${name}' (outputs: ${[...this.outputByName.keys()].join(', ')})`);
      const buf = into[name];
      fetches[name] = buf === undefined ? null : this.wrap(spec, buf, 'output');
    }
    return this.session.run(f, fetches as never);
  }

  inputSpec(name: string): InputSpec | undefined {
    return this.inputByName.get(name);
  }
}

/** Emit `outputs` of `graph` as ONNX and open (or reuse) a session for it. */
export async function compile(graph: Graph, outputs: Record<string, Tensor>, opts: RuntimeOptions = {}): Promise<Program> {
  const em = emitOnnx(graph, outputs);
  const key = `${em.hash}|${opts.device ?? 'cpu'}|${opts.threads ?? 0}|${opts.optimization ?? 'all'}|${opts.profilePrefix ?? ''}|${opts.memPattern ? 1 : 0}|${opts.spinning ? 1 : 0}`;
  let entry = cache.get(key);
  if (!entry) {
    entry = createSession(em.bytes, opts);
    cache.set(key, entry);
    entry.catch(() => cache.delete(key));
  }
  const { session, device } = await entry;
  const inputs = em.inputs.map((t) => ({ name: t.name!, dtype: t.dtype, shape: t.shape }));
  const outs = Object.entries(outputs).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
  return new Program(session, device, em.hash, inputs, outs);
}

/** Number of cached sessions (for tests and diagnostics). */
export function sessionCacheSize(): number {
  return cache.size;
}

/** Release every cached session. */
export async function clearSessionCache(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  for (const p of all) {
    try {
      (await p).session.release();
    } catch {
      // a session that failed to open has nothing to release
    }
  }
}
