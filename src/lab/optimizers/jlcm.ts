// JLCM: jointly learnable codebooks and mappings (Yvinec, Dapogny, Bailly, ICLR 2024; spec
// optimizers.md §19), post-training weight compression of a causal LM's hidden Linear matrices:
// every weight is stored as an index into a small codebook (K entries ⇒ log₂K bits).
// Baseline: one k-means codebook per tensor (Deep-Compression style). JLCM (our reading of the paper):
//  1. neuron grouping: rows (output neurons) sorted by their weight spread and cut into G groups
//     (a permutation the next layer absorbs; we store the group of each row, log₂G bits per row);
//  2. per-group codebooks initialized by k-means;
//  3. joint learning on calibration batches of the LM loss: codebook values by Adam on
//     ∂L/∂c_{g,k} = Σ_{w ↦ (g,k)} ∂L/∂w (gradients from the core's autodiff on the dequantized model);
//     mappings by a proximal search: a weight moves only to a neighbouring codeword c′ (sorted
//     codebook) when ∂L/∂w·(c′ − c) + (c′ − c)²/(2τ) < 0, so far codewords are never jumped to (the
//     assignment update shrinks with distance, unlike a plain STE gradient).
// Model: no bundled model is checked in here (models/ holds DATA.md only), so the run pretrains
// a byte-level LLaMA-style model on the Brown corpus first (the ROOT experiment's trainer, Muon),
// then compresses it; perplexity per byte on the Brown validation split.
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../../core/experiment';
import { grad } from '../../core/graph/autodiff';
import type { Tensor } from '../../core/graph/graph';
import { encodeNpy } from '../../core/io/npy';
import { ParamStore, causalLmLoss, llamaLogits } from '../../core/nn';
import { compileEval } from '../../core/optim';
import { Rng } from '../../core/rng';
import { loadCorpusBytes, modelConfig, rootSchema, trainLm } from './root';

export const jlcmSchema = z
  .object({
    corpusFile: z.string().default('').describe('UTF-8 text file (last 10 % = validation); empty: the Brown corpus splits'),
    hiddenSize: z.number().int().min(8).max(512).default(64).describe('Width of the model that is pretrained, then compressed'),
    layers: z.number().int().min(1).max(12).default(2).describe('Decoder layers'),
    intermediateSize: z.number().int().min(8).max(2048).default(192).describe('MLP width'),
    pretrainSteps: z.number().int().min(1).max(100000).default(200).describe('Muon pretraining steps before compression'),
    codewords: z.number().int().min(2).max(256).default(4).describe('Codebook size K (log₂K bits per weight)'),
    groups: z.number().int().min(1).max(64).default(4).describe('JLCM neuron groups G per matrix (one codebook each)'),
    iterations: z.number().int().min(0).max(10000).default(60).describe('JLCM joint-learning iterations (one calibration batch each)'),
    codebookLr: z.number().positive().max(1).default(1e-4).describe('Adam learning rate of the codebook values'),
    maxMoveFraction: z.number().min(0).max(1).default(0.002).describe('At most this fraction of a matrix\'s weights change codeword per iteration (largest predicted gains first)'),
    gradientEma: z.number().min(0).max(0.999).default(0.9).describe('EMA factor of the weight gradients used by the mapping update (averages calibration batches)'),
    tau: z.number().positive().max(1e6).default(3).describe('Proximal-mapping step τ: move to a neighbour when g·Δc + Δc²/(2τ) < 0'),
    kmeansIterations: z.number().int().min(1).max(1000).default(30).describe('Lloyd iterations of every k-means'),
    seqLen: z.number().int().min(8).max(512).default(64).describe('Bytes per window'),
    batchSize: z.number().int().min(1).max(64).default(8).describe('Windows per batch'),
    evalBatches: z.number().int().min(1).max(256).default(8).describe('Validation batches for the perplexity'),
  })
  .strict();
export type JlcmConfig = z.infer<typeof jlcmSchema>;

const isCompressed = (name: string, shape: readonly number[]) => shape.length === 2 && !/embed|lm_head/.test(name);

/** 1-D k-means (k-means++ style quantile init, Lloyd). Returns sorted centroids and assignments. */
export function kmeans1d(values: ArrayLike<number>, k: number, iterations: number): { centroids: Float64Array; labels: Int32Array } {
  const n = values.length;
  if (n === 0) throw new Error('kmeans1d: no values');
  const sorted = Float64Array.from(values).sort();
  let c = Float64Array.from({ length: k }, (_, j) => sorted[Math.min(n - 1, Math.floor(((j + 0.5) / k) * n))]);
  const labels = new Int32Array(n);
  for (let it = 0; it < iterations; it++) {
    const sum = new Float64Array(k), cnt = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const l = nearest(c, values[i]);
      labels[i] = l;
      sum[l] += values[i];
      cnt[l]++;
    }
    const next = Float64Array.from(c, (v, j) => (cnt[j] > 0 ? sum[j] / cnt[j] : v));
    const moved = next.some((v, j) => v !== c[j]);
    c = next.sort();
    if (!moved) break;
  }
  for (let i = 0; i < n; i++) labels[i] = nearest(c, values[i]);
  return { centroids: c, labels };
}

/** Index of the nearest entry of a sorted codebook. */
export function nearest(sortedCodebook: ArrayLike<number>, v: number): number {
  let best = 0, bd = Infinity;
  for (let j = 0; j < sortedCodebook.length; j++) {
    const d = Math.abs(v - sortedCodebook[j]);
    if (d < bd) [bd, best] = [d, j];
  }
  return best;
}

/** A compressed matrix: group of each row, one sorted codebook per group, one index per weight. */
export interface CodebookMatrix {
  rows: number;
  cols: number;
  rowGroup: Int32Array;
  codebooks: Float64Array[]; // per group, sorted
  index: Uint8Array | Int32Array;
}

export function dequantize(m: CodebookMatrix, out: Float32Array): Float32Array {
  for (let r = 0; r < m.rows; r++) {
    const cb = m.codebooks[m.rowGroup[r]];
    for (let j = 0; j < m.cols; j++) out[r * m.cols + j] = cb[m.index[r * m.cols + j]];
  }
  return out;
}

/** Per-tensor k-means (G = 1) or grouped k-means (rows sorted by spread, G contiguous groups). */
export function kmeansCompress(w: Float32Array, rows: number, cols: number, k: number, groups: number, iterations: number): CodebookMatrix {
  const rowGroup = new Int32Array(rows);
  if (groups > 1) {
    const spread = Array.from({ length: rows }, (_, r) => {
      let s = 0;
      for (let j = 0; j < cols; j++) s += w[r * cols + j] ** 2;
      return Math.sqrt(s / cols);
    });
    const order = Array.from({ length: rows }, (_, r) => r).sort((a, b) => spread[a] - spread[b]);
    order.forEach((r, pos) => (rowGroup[r] = Math.min(groups - 1, Math.floor((pos * groups) / rows))));
  }
  const index = new Int32Array(rows * cols);
  const codebooks: Float64Array[] = [];
  for (let g = 0; g < groups; g++) {
    const members: number[] = [];
    for (let r = 0; r < rows; r++) if (rowGroup[r] === g) for (let j = 0; j < cols; j++) members.push(r * cols + j);
    if (members.length === 0) {
      codebooks.push(new Float64Array(k));
      continue;
    }
    const km = kmeans1d(members.map((i) => w[i]), k, iterations);
    codebooks.push(km.centroids);
    members.forEach((i, t) => (index[i] = km.labels[t]));
  }
  return { rows, cols, rowGroup, codebooks, index };
}

/** Bits per weight including codebooks (32-bit entries) and row-group ids. */
export function bitsPerWeight(ms: CodebookMatrix[]): number {
  let bits = 0, n = 0;
  for (const m of ms) {
    const k = m.codebooks[0].length;
    n += m.rows * m.cols;
    bits += m.rows * m.cols * Math.log2(k) + m.codebooks.length * k * 32 + (m.codebooks.length > 1 ? m.rows * Math.log2(m.codebooks.length) : 0);
  }
  return bits / n;
}

interface Lm {
  store: ParamStore;
  names: string[];
  lossAndGrads(ids: BigInt64Array): Promise<{ loss: number; grads: Float32Array[] }>;
  loss(ids: BigInt64Array): Promise<number>;
}

async function compileLm(c: JlcmConfig, store: ParamStore): Promise<Lm> {
  const cfg = modelConfig(rootSchema.parse({ hiddenSize: c.hiddenSize, layers: c.layers, intermediateSize: c.intermediateSize, seqLen: c.seqLen }));
  const names = store.names().filter((n) => isCompressed(n, store.get(n).shape));
  const shape = { input_ids: { dtype: 'int64' as const, shape: [c.batchSize, c.seqLen] } };
  const withGrads = await compileEval({
    params: store,
    inputs: shape,
    build: (s, i) => {
      const loss = causalLmLoss(llamaLogits(s, cfg, i.input_ids), i.input_ids);
      const gs = grad(loss, names.map((n) => s.used.get(n)!));
      const out: Record<string, Tensor> = { loss };
      names.forEach((n, j) => (out[`grad.${n}`] = gs[j]));
      return out;
    },
  });
  const plain = await compileEval({ params: store, inputs: shape, build: (s, i) => ({ loss: causalLmLoss(llamaLogits(s, cfg, i.input_ids), i.input_ids) }) });
  return {
    store,
    names,
    async lossAndGrads(ids) {
      const r = await withGrads.run({ input_ids: ids });
      return { loss: Number(r.loss.data[0]), grads: names.map((n) => r[`grad.${n}`].data as Float32Array) };
    },
    loss: async (ids) => Number((await plain.run({ input_ids: ids })).loss.data[0]),
  };
}

/**
 * JLCM joint learning from a grouped k-means start: Adam on codebook values, proximal
 * neighbour moves on the mappings; codebooks re-sorted (indices remapped) after each step.
 */
export async function jointlyLearn(lm: Lm, ms: CodebookMatrix[], batches: () => BigInt64Array, c: JlcmConfig, log?: (it: number, loss: number, moves: number) => void): Promise<void> {
  const adam = ms.map((m) => m.codebooks.map((cb) => ({ m: new Float64Array(cb.length), v: new Float64Array(cb.length) })));
  const gAvg = ms.map((m) => new Float64Array(m.rows * m.cols));
  const apply = () => ms.forEach((m, j) => dequantize(m, lm.store.get(lm.names[j]).data));
  for (let it = 1; it <= c.iterations; it++) {
    apply();
    const { loss, grads } = await lm.lossAndGrads(batches());
    let moves = 0;
    ms.forEach((m, j) => {
      const g = grads[j];
      const K = m.codebooks[0].length;
      // codebook gradient: Σ of the weight gradients mapped to each codeword
      const gc = m.codebooks.map(() => new Float64Array(K));
      for (let r = 0; r < m.rows; r++) for (let q = 0; q < m.cols; q++) gc[m.rowGroup[r]][m.index[r * m.cols + q]] += g[r * m.cols + q];
      // proximal mapping update with the current codebook, on the EMA gradient (bias-corrected),
      // at most maxMoveFraction of the weights per iteration, largest predicted decrease first
      const ga = gAvg[j];
      const corr = 1 / (1 - c.gradientEma ** it);
      for (let i = 0; i < ga.length; i++) ga[i] = c.gradientEma * ga[i] + (1 - c.gradientEma) * g[i];
      const cand: { i: number; to: number; val: number }[] = [];
      for (let r = 0; r < m.rows; r++) {
        const cb = m.codebooks[m.rowGroup[r]];
        for (let q = 0; q < m.cols; q++) {
          const i = r * m.cols + q;
          const k = m.index[i];
          let best = k, bestVal = 0;
          for (const k2 of [k - 1, k + 1]) {
            if (k2 < 0 || k2 >= K) continue;
            const dc = cb[k2] - cb[k];
            const val = ga[i] * corr * dc + (dc * dc) / (2 * c.tau);
            if (val < bestVal) [best, bestVal] = [k2, val];
          }
          if (best !== k) cand.push({ i, to: best, val: bestVal });
        }
      }
      cand.sort((a, b) => a.val - b.val);
      const cap = Math.floor(c.maxMoveFraction * m.rows * m.cols);
      for (const mv of cand.slice(0, cap)) m.index[mv.i] = mv.to;
      moves += Math.min(cap, cand.length);
      // Adam on the codebook values (bias-corrected), then keep each codebook sorted
      m.codebooks.forEach((cb, gi) => {
        const st = adam[j][gi];
        for (let k = 0; k < K; k++) {
          st.m[k] = 0.9 * st.m[k] + 0.1 * gc[gi][k];
          st.v[k] = 0.999 * st.v[k] + 0.001 * gc[gi][k] ** 2;
          const mh = st.m[k] / (1 - 0.9 ** it), vh = st.v[k] / (1 - 0.999 ** it);
          cb[k] -= (c.codebookLr * mh) / (Math.sqrt(vh) + 1e-12);
        }
        const order = Array.from({ length: K }, (_, k) => k).sort((a, b) => cb[a] - cb[b]);
        if (order.some((o, k) => o !== k)) {
          const remap = new Int32Array(K);
          order.forEach((o, k) => (remap[o] = k));
          const sortedCb = order.map((o) => cb[o]);
          const sm = order.map((o) => st.m[o]), sv = order.map((o) => st.v[o]);
          for (let k = 0; k < K; k++) [cb[k], st.m[k], st.v[k]] = [sortedCb[k], sm[k], sv[k]];
          for (let r = 0; r < m.rows; r++) if (m.rowGroup[r] === gi) for (let q = 0; q < m.cols; q++) m.index[r * m.cols + q] = remap[m.index[r * m.cols + q]];
        }
      });
    });
    log?.(it, loss, moves);
  }
  apply();
}

export interface JlcmSummary {
  [k: string]: unknown;
  fp32_ppl: number;
  kmeans_ppl: number;
  kmeans_grouped_ppl: number;
  jlcm_ppl: number;
  kmeans_bpw: number;
  jlcm_bpw: number;
}

export async function runJlcm(c: JlcmConfig, seed: number, ctx?: Pick<RunContext<JlcmConfig>, 'log' | 'progress' | 'artifact' | 'info'>): Promise<JlcmSummary> {
  const t0 = performance.now();
  const rc = rootSchema.parse({ corpusFile: c.corpusFile, hiddenSize: c.hiddenSize, layers: c.layers, intermediateSize: c.intermediateSize, seqLen: c.seqLen, batchSize: c.batchSize, steps: c.pretrainSteps, evalEvery: c.pretrainSteps, spikes: false });
  const data = loadCorpusBytes(c.corpusFile);
  const pre = await trainLm('muon', rc, data, seed, { prefix: 'pretrain', log: ctx ? (t, m) => ctx.log(t, m) : undefined });
  ctx?.progress(1, 5);
  const lm = await compileLm(c, pre.store);
  const { batchSize: B, seqLen: T } = c;
  const fill = (stream: Int32Array, starts: number[]) => {
    const ids = new BigInt64Array(B * T);
    starts.forEach((s, b) => {
      for (let j = 0; j < T; j++) ids[b * T + j] = BigInt(stream[s + j]);
    });
    return ids;
  };
  const nVal = c.evalBatches * B;
  const valBatches = Array.from({ length: c.evalBatches }, (_, k) => fill(data.validation, Array.from({ length: B }, (_, b) => Math.floor(((k * B + b) * (data.validation.length - T - 1)) / Math.max(1, nVal - 1)))));
  const valLoss = async () => {
    let s = 0;
    for (const ids of valBatches) s += await lm.loss(ids);
    return s / valBatches.length;
  };
  const original = new Map(lm.names.map((n) => [n, lm.store.get(n).data.slice()]));
  const restore = () => original.forEach((v, n) => lm.store.get(n).data.set(v));
  const quantizeAll = (groups: number) => lm.names.map((n) => {
    const p = lm.store.get(n);
    return kmeansCompress(original.get(n)!, p.shape[0], p.shape[1], c.codewords, groups, c.kmeansIterations);
  });
  const apply = (ms: CodebookMatrix[]) => ms.forEach((m, j) => dequantize(m, lm.store.get(lm.names[j]).data));
  const fp32 = await valLoss();
  const perTensor = quantizeAll(1);
  apply(perTensor);
  const kmeansLoss = await valLoss();
  ctx?.progress(2, 5);
  const grouped = quantizeAll(c.groups);
  apply(grouped);
  const groupedLoss = await valLoss();
  ctx?.progress(3, 5);
  const calib = new Rng(seed * 1000 + 31); // calibration windows from the train split
  await jointlyLearn(lm, grouped, () => fill(data.train, Array.from({ length: B }, () => calib.int(data.train.length - T - 1))), c, (it, loss, moves) => ctx?.log(it, { 'jlcm/calib_loss': loss, 'jlcm/mapping_moves': moves }));
  const jlcmLoss = await valLoss();
  ctx?.progress(4, 5);
  restore();
  const out: JlcmSummary = {
    fp32_ppl: Math.exp(fp32),
    kmeans_ppl: Math.exp(kmeansLoss),
    kmeans_grouped_ppl: Math.exp(groupedLoss),
    jlcm_ppl: Math.exp(jlcmLoss),
    kmeans_bpw: bitsPerWeight(perTensor),
    jlcm_bpw: bitsPerWeight(grouped),
    compressed_weights: lm.names.reduce((a, n) => a + lm.store.get(n).data.length, 0),
    wall_s: (performance.now() - t0) / 1000,
  };
  if (ctx) {
    ctx.log(c.iterations, { 'fp32/ppl': out.fp32_ppl, 'kmeans/ppl': out.kmeans_ppl, 'kmeans_grouped/ppl': out.kmeans_grouped_ppl, 'jlcm/ppl': out.jlcm_ppl, 'kmeans/bpw': out.kmeans_bpw, 'jlcm/bpw': out.jlcm_bpw, wall_s: out.wall_s as number });
    ctx.artifact('summary.json', out);
    ctx.artifact('jlcm_codebooks.npy', encodeNpy(Float64Array.from(grouped.flatMap((m) => m.codebooks.flatMap((cb) => Array.from(cb)))), [grouped.length, c.groups, c.codewords]));
  }
  ctx?.progress(5, 5);
  return out;
}

function judge(per: JlcmSummary[]): { pass: boolean; measured: Record<string, number | boolean>; summary: string } {
  const mean = (k: keyof JlcmSummary) => per.reduce((a, s) => a + (s[k] as number), 0) / per.length;
  const m: Record<string, number | boolean> = {
    fp32_ppl: mean('fp32_ppl'), kmeans_ppl: mean('kmeans_ppl'), kmeans_grouped_ppl: mean('kmeans_grouped_ppl'), jlcm_ppl: mean('jlcm_ppl'), kmeans_bpw: mean('kmeans_bpw'), jlcm_bpw: mean('jlcm_bpw'),
  };
  const lower = per.every((s) => s.jlcm_ppl < s.kmeans_ppl);
  const bitsClose = per.every((s) => s.jlcm_bpw - s.kmeans_bpw <= 0.1);
  m.jlcm_lower_on_every_seed = lower;
  return { pass: lower && bitsClose, measured: m, summary: `byte perplexity at ${(m.jlcm_bpw as number).toFixed(3)} vs ${(m.kmeans_bpw as number).toFixed(3)} bits/weight: JLCM ${(m.jlcm_ppl as number).toFixed(3)}, per-tensor k-means ${(m.kmeans_ppl as number).toFixed(3)} (grouped k-means ${(m.kmeans_grouped_ppl as number).toFixed(3)}, fp32 ${(m.fp32_ppl as number).toFixed(3)})` };
}

export const JLCM_FULL: Partial<JlcmConfig> = { hiddenSize: 128, layers: 4, intermediateSize: 384, pretrainSteps: 300, iterations: 100 };

export const jlcm = defineExperiment({
  id: 'jlcm',
  title: 'JLCM vs per-tensor k-means codebooks: 2-bit weights of a Brown-corpus LM',
  paper: 'Network Memory Footprint Compression Through Jointly Learnable Codebooks and Mappings',
  kind: 'optimizer',
  tasks: ['brown-lm'],
  schema: jlcmSchema,
  keyMetric: 'jlcm/ppl',
  lowerIsBetter: true,
  async run(ctx) {
    return runJlcm(ctx.config, ctx.seed, ctx);
  },
  claim: {
    statement: 'At (within 0.1 of) equal bits per weight, JLCM (grouped codebooks + jointly learned codebooks and proximal mappings) gives a lower validation perplexity than per-tensor k-means codebooks.',
    async fast({ seed }) {
      return judge([await runJlcm(jlcmSchema.parse({}), seed)]);
    },
    async full({ seeds }) {
      const per: JlcmSummary[] = [];
      for (const s of seeds) per.push(await runJlcm(jlcmSchema.parse(JLCM_FULL), s));
      const r = judge(per);
      per.forEach((p, i) => ['kmeans_ppl', 'jlcm_ppl'].forEach((k) => (r.measured[`seed${seeds[i]}_${k}`] = p[k] as number)));
      return r;
    },
  },
});
