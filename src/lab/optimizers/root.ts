// ROOT (robust orthogonalized optimizer) vs Muon vs AdamW as optimizers of a small LLaMA-style
// causal LM pretrained on the Brown corpus (spec optimizers.md §2). All three run on the same
// model init, the same batch sequence, the same schedule shape and the same number of steps; the
// whole step (forward, backward, update incl. Newton–Schulz) is one ONNX graph (src/core/optim).
// Three measurements:
//  1. validation loss at equal steps (root/val_loss, muon/val_loss, adamw/val_loss);
//  2. orthogonalization error ‖NS₅(G) − polar(G)‖/‖polar(G)‖ on held-out random matrices of the
//     model's shapes: ROOT's shape-fitted coefficients vs Muon's fixed triple;
//  3. robustness: the same runs with injected gradient spikes (a fraction of entries × scale on a
//     random subset of steps), root_spiked/val_loss vs muon_spiked/val_loss.
// Tokens are UTF-8 bytes (vocabulary 256), so the run needs no trained tokenizer.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../../core/experiment';
import { encodeNpy } from '../../core/io/npy';
import { ParamStore, causalLmLoss, llamaLogits, type LlamaConfig } from '../../core/nn';
import { adamw, compileEval, compileTrainStep, cosineSchedule, type Optimizer } from '../../core/optim';
import { withGradientSpikes } from '../../core/optim/gradient-spikes';
import { muon } from '../../core/optim/muon';
import { MUON_NS_COEFFICIENTS, meanNsError, nsCoefficientsFor, sampleSingularValues, shapeKey } from '../../core/optim/newton-schulz';
import { root } from '../../core/optim/root';
import { Rng } from '../../core/rng';
import { brownTexts } from '../lm/data/brown';

export const ROOT_METHODS = ['root', 'muon', 'adamw'] as const;
export type RootMethod = (typeof ROOT_METHODS)[number];

export const rootSchema = z
  .object({
    corpusFile: z.string().default('').describe('UTF-8 text file to train on (last 10 % of its bytes = validation); empty: the Brown corpus train/validation split'),
    hiddenSize: z.number().int().min(8).max(512).default(64).describe('Model width (prox-text-small: 128)'),
    layers: z.number().int().min(1).max(12).default(2).describe('Decoder layers (prox-text-small: 4)'),
    heads: z.number().int().min(1).max(16).default(4).describe('Attention heads (must divide hiddenSize)'),
    intermediateSize: z.number().int().min(8).max(2048).default(192).describe('MLP width (prox-text-small: 384)'),
    seqLen: z.number().int().min(8).max(512).default(64).describe('Tokens (bytes) per training window'),
    batchSize: z.number().int().min(1).max(64).default(8).describe('Windows per step'),
    steps: z.number().int().min(2).max(100000).default(120).describe('Optimizer steps per method (equal for all)'),
    warmup: z.number().int().min(0).max(10000).default(10).describe('Linear warm-up steps, then cosine decay to 10 %'),
    lrAdamw: z.number().positive().max(1).default(5e-2).describe('Peak learning rate of AdamW'),
    lrMuon: z.number().positive().max(1).default(2e-2).describe('Peak learning rate of Muon (matrices, RMS-matched scaling 0.2·√max(r,c); its aux AdamW shares it)'),
    lrRoot: z.number().positive().max(1).default(2e-2).describe('Peak learning rate of ROOT (same conventions as Muon)'),
    weightDecay: z.number().min(0).max(1).default(0).describe('Decoupled weight decay (all methods; not on norm weights)'),
    momentum: z.number().min(0).max(0.999).default(0.95).describe('Muon/ROOT momentum μ (sum form M ← μM + G, Nesterov)'),
    quantile: z.number().gt(0).lt(1).default(0.9).describe('ROOT soft-threshold ε = this quantile of |U| (official code: 0.9)'),
    nsSteps: z.number().int().min(1).max(20).default(5).describe('Newton–Schulz steps (Muon and ROOT)'),
    evalEvery: z.number().int().min(1).default(20).describe('Validation every this many steps'),
    evalBatches: z.number().int().min(1).max(64).default(4).describe('Validation batches (fixed windows) per evaluation'),
    spikes: z.boolean().default(true).describe('Also run Muon and ROOT with injected gradient outliers'),
    spikeProbability: z.number().min(0).max(1).default(0.25).describe('Probability that a step carries gradient spikes'),
    spikeFraction: z.number().gt(0).max(0.5).default(0.01).describe('Fraction of gradient entries that spike (spec: 1 %)'),
    spikeScale: z.number().min(1).max(1e4).default(50).describe('Spike multiplier (spec: ×50)'),
    orthoSamples: z.number().int().min(2).max(512).default(16).describe('Held-out random matrices per shape for the orthogonalization error'),
    threads: z.number().int().min(0).max(64).default(0).describe('ORT intra-op threads (0: ORT default)'),
  })
  .strict();
export type RootConfig = z.infer<typeof rootSchema>;

// ---- data ----
let brownCache: { train: Int32Array; validation: Int32Array } | null = null;

const bytesOf = (text: string) => Int32Array.from(Buffer.from(text, 'utf8'));

/** Byte streams of the corpus: a text file (90/10 split) or the Brown corpus splits. */
export function loadCorpusBytes(file: string): { train: Int32Array; validation: Int32Array; source: string } {
  if (!file) {
    brownCache ??= { train: bytesOf(brownTexts('train').join('\n\n')), validation: bytesOf(brownTexts('validation').join('\n\n')) };
    return { ...brownCache, source: 'brown' };
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`corpusFile: cannot read '${file}' (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  const all = bytesOf(text);
  if (all.length < 2000) throw new Error(`corpusFile: '${file}' has ${all.length} bytes, expected at least 2000 (a text corpus)`);
  const cut = Math.floor(all.length * 0.9);
  return { train: all.subarray(0, cut), validation: all.subarray(cut), source: file };
}

export function modelConfig(c: RootConfig): LlamaConfig {
  if (c.hiddenSize % c.heads !== 0) throw new Error(`heads: ${c.heads} must divide hiddenSize ${c.hiddenSize}`);
  return { vocabSize: 256, hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize, numLayers: c.layers, numHeads: c.heads, maxPositionEmbeddings: c.seqLen, tieWordEmbeddings: true };
}

/** Distinct matrix shapes (rows ≤ cols) the matrix optimizers see in this model. */
export function matrixShapes(c: RootConfig): [number, number][] {
  const D = c.hiddenSize, I = c.intermediateSize;
  const keys = new Set([shapeKey(D, D), shapeKey(I, D)]);
  return [...keys].map((k) => k.split('x').map(Number) as [number, number]);
}

function makeOptimizer(method: RootMethod, c: RootConfig): Optimizer {
  const decay = (n: string) => !n.endsWith('norm.weight');
  const aux = { betas: [0.9, 0.95] as [number, number], eps: 1e-8, weightDecay: c.weightDecay, decay };
  if (method === 'adamw') return adamw(aux);
  const common = { momentum: c.momentum, nesterov: true, momentumForm: 'sum' as const, nsSteps: c.nsSteps, weightDecay: c.weightDecay, lrScale: 'moonlight' as const, adamw: aux };
  return method === 'muon' ? muon(common) : root({ ...common, quantile: c.quantile });
}

export interface LmRunResult {
  valLoss: number;
  /** The trained parameters. */
  store: ParamStore;
  curve: { step: number; valLoss: number }[];
  trainLoss: number;
  wallSeconds: number;
}

/** Train one method from the seed's init on the seed's batch sequence; log `${prefix}/…`. */
export async function trainLm(
  method: RootMethod,
  c: RootConfig,
  data: { train: Int32Array; validation: Int32Array },
  seed: number,
  opts: { spikes?: boolean; log?: (step: number, m: Record<string, number>) => void; prefix?: string; signal?: AbortSignal } = {},
): Promise<LmRunResult> {
  const cfg = modelConfig(c);
  const { batchSize: B, seqLen: T } = c;
  for (const [name, s] of [['train', data.train], ['validation', data.validation]] as const) {
    if (s.length <= T + 1) throw new Error(`${name} stream has ${s.length} tokens, fewer than one window of ${T + 1} (seqLen)`);
  }
  const store = new ParamStore(new Rng(seed * 1000 + 1)); // same init for every method
  let opt = makeOptimizer(method, c);
  if (opts.spikes) opt = withGradientSpikes(opt, { probability: c.spikeProbability, fraction: c.spikeFraction, scale: c.spikeScale, seed: seed + 17 });
  const runtime = { threads: c.threads || undefined };
  const step = await compileTrainStep({
    params: store,
    batch: { input_ids: { dtype: 'int64', shape: [B, T] } },
    loss: (s, b) => causalLmLoss(llamaLogits(s, cfg, b.input_ids), b.input_ids),
    optimizer: opt,
    runtime,
  });
  const ev = await compileEval({ params: store, inputs: { input_ids: { dtype: 'int64', shape: [B, T] } }, build: (s, i) => ({ loss: causalLmLoss(llamaLogits(s, cfg, i.input_ids), i.input_ids) }), runtime });
  const nVal = c.evalBatches * B;
  const valStarts = Array.from({ length: nVal }, (_, i) => Math.floor((i * (data.validation.length - T - 1)) / Math.max(1, nVal - 1)));
  const ids = new BigInt64Array(B * T);
  const fill = (stream: Int32Array, start: number, b: number) => {
    for (let j = 0; j < T; j++) ids[b * T + j] = BigInt(stream[start + j]);
  };
  const evaluate = async () => {
    let total = 0;
    for (let k = 0; k < c.evalBatches; k++) {
      for (let b = 0; b < B; b++) fill(data.validation, valStarts[k * B + b], b);
      total += Number((await ev.run({ input_ids: ids })).loss.data[0]);
    }
    return total / c.evalBatches;
  };
  const lrPeak = method === 'adamw' ? c.lrAdamw : method === 'muon' ? c.lrMuon : c.lrRoot;
  const schedule = cosineSchedule(lrPeak, c.steps, c.warmup, lrPeak * 0.1);
  const batchRng = new Rng(seed * 1000 + 2); // same batches for every method
  const prefix = opts.prefix ?? method;
  const curve: { step: number; valLoss: number }[] = [];
  const t0 = performance.now();
  let ema = NaN;
  let valLoss = NaN;
  for (let t = 1; t <= c.steps; t++) {
    if (opts.signal?.aborted) throw new Error('run cancelled');
    for (let b = 0; b < B; b++) fill(data.train, batchRng.int(data.train.length - T), b);
    const r = await step.run({ input_ids: ids }, { lr: schedule(t) });
    if (!Number.isFinite(r.loss)) throw new Error(`${prefix}: training loss is ${r.loss} at step ${t} (diverged; lower the learning rate)`);
    ema = Number.isNaN(ema) ? r.loss : 0.9 * ema + 0.1 * r.loss;
    const row: Record<string, number> = { [`${prefix}/loss`]: r.loss };
    if (t % c.evalEvery === 0 || t === c.steps) {
      valLoss = await evaluate();
      curve.push({ step: t, valLoss });
      row[`${prefix}/val_loss`] = valLoss;
      row[`${prefix}/wall_s`] = (performance.now() - t0) / 1000;
    }
    opts.log?.(t, row);
  }
  return { valLoss, store, curve, trainLoss: ema, wallSeconds: (performance.now() - t0) / 1000 };
}

export interface OrthoRow {
  shape: string;
  muon: number;
  root: number;
}

/** Held-out orthogonalization error per shape: ROOT's table vs Muon's fixed coefficients. */
export function orthogonalizationStudy(shapes: [number, number][], samples: number, steps: number, seed: number): OrthoRow[] {
  const rng = new Rng(seed * 1000 + 3);
  return shapes.map(([m, n]) => {
    const s = sampleSingularValues(rng, m, n, samples);
    return { shape: `${m}x${n}`, muon: meanNsError(s, MUON_NS_COEFFICIENTS, steps), root: meanNsError(s, nsCoefficientsFor(m, n), steps) };
  });
}

export interface RootSummary {
  [k: string]: unknown;
  val_loss: Record<string, number>;
  ortho: OrthoRow[];
  corpus: string;
}

export async function runRoot(c: RootConfig, seed: number, ctx?: Pick<RunContext<RootConfig>, 'log' | 'progress' | 'artifact' | 'signal' | 'info'>): Promise<RootSummary> {
  const data = loadCorpusBytes(c.corpusFile);
  const t0 = performance.now();
  const runs: [string, RootMethod, boolean][] = ROOT_METHODS.map((m) => [m, m, false]);
  if (c.spikes) runs.push(['muon_spiked', 'muon', true], ['root_spiked', 'root', true]);
  const val: Record<string, number> = {};
  const curves: Record<string, { step: number; valLoss: number }[]> = {};
  let done = 0;
  for (const [label, method, spiked] of runs) {
    const r = await trainLm(method, c, data, seed, { spikes: spiked, prefix: label, signal: ctx?.signal, log: (t, m) => ctx?.log(t, m) });
    val[label] = r.valLoss;
    curves[label] = r.curve;
    done++;
    ctx?.progress(done, runs.length + 1, { metric: `${label}/val_loss`, value: r.valLoss });
    ctx?.info(`${label}: validation loss ${r.valLoss.toFixed(4)} after ${c.steps} steps (${r.wallSeconds.toFixed(1)} s)`);
  }
  const shapes = matrixShapes(c);
  const ortho = orthogonalizationStudy(shapes, c.orthoSamples, c.nsSteps, seed);
  ortho.forEach((o, i) => ctx?.log(i, { 'muon/ortho_error': o.muon, 'root/ortho_error': o.root }));
  const wall = (performance.now() - t0) / 1000;
  ctx?.log(c.steps, { wall_s: wall });
  ctx?.progress(runs.length + 1, runs.length + 1);
  if (ctx) {
    const labels = Object.keys(curves);
    const steps = curves[labels[0]].map((p) => p.step);
    const mat = new Float64Array(steps.length * (labels.length + 1));
    steps.forEach((s, i) => {
      mat[i * (labels.length + 1)] = s;
      labels.forEach((l, j) => (mat[i * (labels.length + 1) + j + 1] = curves[l][i].valLoss));
    });
    ctx.artifact('val_curves.npy', encodeNpy(mat, [steps.length, labels.length + 1]));
    ctx.artifact('summary.json', { columns: ['step', ...labels], val_loss: val, ortho, corpus: data.source, wall_s: wall });
  }
  return { val_loss: val, ortho, corpus: data.source, wall_s: wall };
}

/** Fast form: a 2-layer, width-64 byte-level model, 120 steps. */
export const ROOT_FAST: Partial<RootConfig> = {};
/** Full form: prox-text-small-sized (width 128, 4 layers, MLP 384), 300 steps of 8×64 bytes. */
export const ROOT_FULL: Partial<RootConfig> = { hiddenSize: 128, layers: 4, intermediateSize: 384, seqLen: 64, steps: 300, warmup: 20, evalEvery: 50, lrAdamw: 1e-2, lrMuon: 2e-2, lrRoot: 2e-2 };

function judge(per: RootSummary[]): { pass: boolean; measured: Record<string, number | boolean>; summary: string } {
  const mean = (k: string) => per.reduce((a, s) => a + s.val_loss[k], 0) / per.length;
  const m: Record<string, number | boolean> = {};
  for (const k of Object.keys(per[0].val_loss)) m[`${k}_val_loss`] = mean(k);
  const orthoOk = per.every((s) => s.ortho.every((o) => o.root < o.muon));
  per[0].ortho.forEach((o) => {
    m[`ortho_${o.shape}_root`] = o.root;
    m[`ortho_${o.shape}_muon`] = o.muon;
  });
  const order = m.root_val_loss as number <= (m.muon_val_loss as number) && (m.muon_val_loss as number) <= (m.adamw_val_loss as number);
  const robust = m.root_spiked_val_loss === undefined || (m.root_spiked_val_loss as number) < (m.muon_spiked_val_loss as number);
  m.ordering_holds = order;
  m.ortho_lower_on_all_shapes = orthoOk;
  m.robust_under_spikes = robust;
  return {
    pass: order && orthoOk && robust,
    measured: m,
    summary: `val loss ROOT ${(m.root_val_loss as number).toFixed(4)} / Muon ${(m.muon_val_loss as number).toFixed(4)} / AdamW ${(m.adamw_val_loss as number).toFixed(4)}; with spikes ROOT ${Number(m.root_spiked_val_loss).toFixed(4)} vs Muon ${Number(m.muon_spiked_val_loss).toFixed(4)}; ortho error ROOT < Muon on all shapes: ${orthoOk}`,
  };
}

export const rootExperiment = defineExperiment({
  id: 'root',
  title: 'ROOT vs Muon vs AdamW: byte-level LM pretraining on the Brown corpus',
  paper: 'ROOT: Robust Orthogonalized Optimizer for Neural Network Training',
  kind: 'optimizer',
  tasks: ['brown-lm'],
  schema: rootSchema,
  keyMetric: 'root/val_loss',
  lowerIsBetter: true,
  async run(ctx) {
    return runRoot(ctx.config, ctx.seed, ctx);
  },
  claim: {
    statement: "ROOT's validation loss ≤ Muon's ≤ AdamW's at equal steps; ROOT's shape-fitted Newton–Schulz coefficients orthogonalize more accurately than Muon's on every matrix shape of the model; under injected gradient spikes ROOT ends lower than Muon.",
    async fast({ seed }) {
      return judge([await runRoot(rootSchema.parse(ROOT_FAST), seed)]);
    },
    async full({ seeds }) {
      const per: RootSummary[] = [];
      for (const s of seeds) per.push(await runRoot(rootSchema.parse(ROOT_FULL), s));
      const r = judge(per);
      per.forEach((p, i) => Object.entries(p.val_loss).forEach(([k, v]) => (r.measured[`seed${seeds[i]}_${k}_val_loss`] = v)));
      return r;
    },
  },
});
