// Training-throughput benchmark of the one-graph training step (forward + backward + AdamW) on a
// GPT-2- or LLaMA-style model with random tokens; the anchor is ORT's own MatMul throughput.
// FLOPs use the same estimate as scripts/torch-ref/train_bench.py so the figures compare:
//   tokens * (6 * N_matmul + 12 * L * T * d), N_matmul = every weight matrix incl. the lm_head.
import { Graph } from '../graph/graph';
import * as O from '../graph/ops';
import { compile } from '../runtime/session';
import { ParamStore } from '../nn/params';
import { type LmSpec, lmLogits } from '../nn/lm';
import { causalLmLoss } from '../nn/losses';
import { adamw } from '../optim/adamw';
import { compileTrainStep } from '../optim/train-step';
import { Rng } from '../rng';

export interface TrainBenchOptions {
  family: 'gpt2' | 'llama';
  dModel: number;
  layers: number;
  heads: number;
  vocab: number;
  ctx: number;
  batch: number;
  threads: number;
  steps: number;
  /** Untimed steps first (default 2). */
  warmup?: number;
  /** Optimizer inside the step graph (default) or as a JS loop outside. */
  placement?: 'graph' | 'js';
  outputMode?: 'adopt' | 'into';
  seed?: number;
}

export interface TrainBenchResult {
  tokens_per_s: number;
  step_s_median: number;
  /** Fastest step (less sensitive to other load on a shared machine). */
  step_s_min: number;
  params: number;
  gflops_per_s: number;
  peak_rss_mb: number;
  flops_per_step: number;
  loss_first: number;
  loss_last: number;
  compile_s: number;
}

/** LLaMA MLP width used by the PyTorch reference: 8d/3 rounded up to a multiple of 8. */
export const llamaIntermediate = (d: number): number => Math.ceil((8 * d) / 3 / 8) * 8;

export function benchModel(o: Pick<TrainBenchOptions, 'family' | 'dModel' | 'layers' | 'heads' | 'vocab' | 'ctx'>): LmSpec {
  if (o.dModel % o.heads !== 0) throw new Error(`bench train: --d-model ${o.dModel} must be divisible by --heads ${o.heads}`);
  return o.family === 'gpt2'
    ? { family: 'gpt2', config: { vocabSize: o.vocab, nPositions: o.ctx, nEmbd: o.dModel, nLayer: o.layers, nHead: o.heads } }
    : {
        family: 'llama',
        config: { vocabSize: o.vocab, hiddenSize: o.dModel, intermediateSize: llamaIntermediate(o.dModel), numLayers: o.layers, numHeads: o.heads, maxPositionEmbeddings: o.ctx },
      };
}

/** Parameters used in a matmul per token (weight matrices + lm_head), as in train_bench.py. */
export function matmulParams(m: LmSpec): number {
  if (m.family === 'gpt2') {
    const d = m.config.nEmbd;
    return m.config.nLayer * (3 * d * d + d * d + 2 * 4 * d * d) + m.config.vocabSize * d;
  }
  const c = m.config;
  const d = c.hiddenSize;
  const kv = ((c.numKvHeads ?? c.numHeads) * d) / c.numHeads;
  return c.numLayers * (d * d + 2 * d * kv + d * d + 3 * d * c.intermediateSize) + c.vocabSize * d;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

export async function trainBench(opts: TrainBenchOptions): Promise<TrainBenchResult> {
  const m = benchModel(opts);
  const { batch: B, ctx: T } = opts;
  const params = new ParamStore(new Rng(opts.seed ?? 0));
  const t0 = performance.now();
  const step = await compileTrainStep({
    params,
    batch: { input_ids: { dtype: 'int64', shape: [B, T] } },
    loss: (s, b) => causalLmLoss(lmLogits(s, m, b.input_ids), b.input_ids),
    optimizer: adamw({ betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.1 }),
    placement: opts.placement ?? 'graph',
    outputMode: opts.outputMode,
    runtime: { threads: opts.threads },
  });
  const compileS = (performance.now() - t0) / 1000;
  const rng = new Rng((opts.seed ?? 0) + 1);
  const ids = BigInt64Array.from({ length: B * T }, () => BigInt(rng.int(opts.vocab)));
  for (let i = 0; i < (opts.warmup ?? 2); i++) await step.run({ input_ids: ids }, { lr: 1e-3 });
  const times: number[] = [];
  let first = NaN, last = NaN;
  for (let i = 0; i < opts.steps; i++) {
    const s0 = performance.now();
    const r = await step.run({ input_ids: ids }, { lr: 1e-3 });
    times.push((performance.now() - s0) / 1000);
    if (i === 0) first = r.loss;
    last = r.loss;
  }
  const med = median(times);
  const tokens = B * T;
  const flops = tokens * (6 * matmulParams(m) + 12 * opts.layers * T * opts.dModel);
  return {
    tokens_per_s: tokens / med,
    step_s_median: med,
    step_s_min: Math.min(...times),
    params: params.count(),
    gflops_per_s: flops / med / 1e9,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    flops_per_step: flops,
    loss_first: first,
    loss_last: last,
    compile_s: compileS,
  };
}

/**
 * Optimizer inside the step graph vs a vectorized JS loop outside, measured in one process with
 * the two steps alternating (so load from other processes hits both alike). Returns step seconds.
 */
export async function placementBench(opts: Omit<TrainBenchOptions, 'placement'>): Promise<{ graph: { min: number; median: number }; js: { min: number; median: number }; same_loss: boolean }> {
  const m = benchModel(opts);
  const { batch: B, ctx: T } = opts;
  const make = (placement: 'graph' | 'js') =>
    compileTrainStep({
      params: new ParamStore(new Rng(opts.seed ?? 0)),
      batch: { input_ids: { dtype: 'int64', shape: [B, T] } },
      loss: (s, b) => causalLmLoss(lmLogits(s, m, b.input_ids), b.input_ids),
      optimizer: adamw({ betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.1 }),
      placement,
      runtime: { threads: opts.threads },
    });
  const steps = { graph: await make('graph'), js: await make('js') };
  const rng = new Rng((opts.seed ?? 0) + 1);
  const ids = BigInt64Array.from({ length: B * T }, () => BigInt(rng.int(opts.vocab)));
  const times: Record<'graph' | 'js', number[]> = { graph: [], js: [] };
  const losses: Record<'graph' | 'js', number> = { graph: NaN, js: NaN };
  for (let i = 0; i < (opts.warmup ?? 1) + opts.steps; i++) {
    for (const k of ['graph', 'js'] as const) {
      const t0 = performance.now();
      losses[k] = (await steps[k].run({ input_ids: ids }, { lr: 1e-3 })).loss;
      if (i >= (opts.warmup ?? 1)) times[k].push((performance.now() - t0) / 1000);
    }
  }
  const stat = (xs: number[]) => ({ min: Math.min(...xs), median: median(xs) });
  return { graph: stat(times.graph), js: stat(times.js), same_loss: Math.abs(losses.graph - losses.js) <= 1e-4 * Math.abs(losses.graph) };
}

/** ORT's own fp32 MatMul throughput [m,k] x [k,n] at a thread count (the anchor figure). */
export async function ortMatmulGflops(o: { m: number; k: number; n: number; threads: number; reps?: number }): Promise<number> {
  const g = new Graph();
  const a = g.input('a', 'float32', [o.m, o.k]);
  const b = g.input('b', 'float32', [o.k, o.n]);
  const p = await compile(g, { c: O.matmul(a, b) }, { threads: o.threads });
  const rng = new Rng(0);
  const A = new Float32Array(o.m * o.k).map(() => rng.normal());
  const Bm = new Float32Array(o.k * o.n).map(() => rng.normal());
  const C = new Float32Array(o.m * o.n);
  await p.run({ a: A, b: Bm }, { c: C });
  const times: number[] = [];
  for (let i = 0; i < (o.reps ?? 7); i++) {
    const t0 = performance.now();
    await p.run({ a: A, b: Bm }, { c: C });
    times.push((performance.now() - t0) / 1000);
  }
  return (2 * o.m * o.k * o.n) / median(times) / 1e9;
}

/**
 * What moving `floats` values in and out of one session.run costs (the training step feeds every
 * parameter and optimizer-state buffer and gets each back updated). Inputs are wrapped without a
 * copy; outputs may be preallocated (ORT writes into them), but onnxruntime-node 1.30 has no IO
 * binding and still hands back a fresh JS copy of every output.
 * Returns ms per run: reading only, writing into preallocated outputs, writing into ORT's own.
 */
export async function ioCostBench(o: { floats: number; threads: number; reps?: number }): Promise<{ read_ms: number; write_into_ms: number; write_alloc_ms: number }> {
  const g = new Graph();
  const x = g.input('x', 'float32', [o.floats]);
  const readOnly = await compile(g, { s: O.sum(x) }, { threads: o.threads });
  const write = await compile(g, { y: O.mul(x, 1) }, { threads: o.threads });
  const xs = new Float32Array(o.floats).fill(1);
  const out = new Float32Array(o.floats);
  const time = async (f: () => Promise<unknown>) => {
    await f();
    const ts: number[] = [];
    for (let i = 0; i < (o.reps ?? 5); i++) {
      const t0 = performance.now();
      await f();
      ts.push(performance.now() - t0);
    }
    return median(ts);
  };
  return {
    read_ms: await time(() => readOnly.run({ x: xs })),
    write_into_ms: await time(() => write.run({ x: xs }, { y: out })),
    write_alloc_ms: await time(() => write.run({ x: xs })),
  };
}
