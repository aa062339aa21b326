// Batched sampling with a key/value cache, per-token log-probs, and batched scoring of given
// completions: the two LM primitives RL and evaluation need (DESIGN.md §5).
//
// generate(): left-pad the prompts, one prefill forward over the whole batch, then one forward
// per new token with the cache; each row draws from its own Rng stream (forked from the seed), so
// a row's sample depends on the seed and its position, not on the rest of the batch.
// Filters, in this order: temperature, top-k, top-p (nucleus; Holtzman et al. 2020).
import * as ort from 'onnxruntime-node';
import { Rng } from '../../core/rng';
import type { CausalLm } from './causal-lm';

export interface SampleOptions {
  maxNewTokens?: number;
  /** 0 = greedy (argmax). */
  temperature?: number;
  /** Keep the k most likely tokens (0 = off). */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = off). */
  topP?: number;
  /** Generation stops for a row when it emits one of these (default: the tokenizer's EOS). */
  stopTokens?: number[];
  seed?: number;
}

export interface Generation {
  /** New token ids (the stop token included when one was emitted). */
  tokens: number[];
  /** log p(token | prefix) under the model itself (temperature 1, no filtering). */
  logprobs: number[];
  /** log-prob under the distribution actually sampled from (after temperature/top-k/top-p). */
  samplingLogprobs: number[];
  finishReason: 'stop' | 'length';
}

export function validateSampleOptions(o: SampleOptions): Required<SampleOptions> {
  const r = {
    maxNewTokens: o.maxNewTokens ?? 32,
    temperature: o.temperature ?? 1,
    topK: o.topK ?? 0,
    topP: o.topP ?? 1,
    stopTokens: o.stopTokens ?? [],
    seed: o.seed ?? 0,
  };
  if (!Number.isInteger(r.maxNewTokens) || r.maxNewTokens < 1) throw new Error(`maxNewTokens: expected an integer >= 1, got ${r.maxNewTokens}`);
  if (!(r.temperature >= 0) || !Number.isFinite(r.temperature)) throw new Error(`temperature: expected a number >= 0, got ${r.temperature}`);
  if (!Number.isInteger(r.topK) || r.topK < 0) throw new Error(`topK: expected an integer >= 0, got ${r.topK}`);
  if (!(r.topP > 0 && r.topP <= 1)) throw new Error(`topP: expected a number in (0, 1], got ${r.topP}`);
  if (!Number.isInteger(r.seed)) throw new Error(`seed: expected an integer, got ${r.seed}`);
  return r;
}

/** log-sum-exp of a logits row (stable). */
export function logSumExp(row: Float32Array): number {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > m) m = row[i];
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i] - m);
  return m + Math.log(s);
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Reusable buffers for sampleToken (one per vocabulary size): no allocation per token. */
export class SamplerScratch {
  readonly idx: Int32Array;
  readonly w: Float64Array;
  constructor(readonly vocabSize: number) {
    this.idx = new Int32Array(vocabSize);
    this.w = new Float64Array(vocabSize);
  }
}

const scratchByVocab = new Map<number, SamplerScratch>();
function scratchFor(V: number): SamplerScratch {
  let s = scratchByVocab.get(V);
  if (!s) scratchByVocab.set(V, (s = new SamplerScratch(V)));
  return s;
}

/** Indices of the k largest logits (ties: lower id), sorted best first, into idx[0..k). Min-heap selection. */
function topKIndices(row: Float32Array, k: number, idx: Int32Array): void {
  const worse = (a: number, b: number) => row[a] < row[b] || (row[a] === row[b] && a > b);
  let size = 0;
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && worse(idx[l], idx[m])) m = l;
      if (r < size && worse(idx[r], idx[m])) m = r;
      if (m === i) return;
      const t = idx[i];
      idx[i] = idx[m];
      idx[m] = t;
      i = m;
    }
  };
  for (let i = 0; i < row.length; i++) {
    if (size < k) {
      let j = size++;
      idx[j] = i;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (!worse(idx[j], idx[p])) break;
        const t = idx[j];
        idx[j] = idx[p];
        idx[p] = t;
        j = p;
      }
    } else if (worse(idx[0], i)) {
      idx[0] = i;
      siftDown(0);
    }
  }
  const best = Array.from(idx.subarray(0, k)).sort((a, b) => row[b] - row[a] || a - b);
  idx.set(best);
}

/**
 * Draw one token from logits `row` with temperature, top-k and top-p; returns the token and its
 * log-prob under the filtered distribution. Top-p keeps the most likely tokens whose mass reaches
 * p: after top-k it is a prefix of the sorted candidates; over the full vocabulary it is found by
 * bisection on the probability threshold (O(V) per step instead of a sort).
 */
export function sampleToken(row: Float32Array, o: { temperature: number; topK: number; topP: number }, rng: Rng, scratch = scratchFor(row.length)): { token: number; logprob: number } {
  if (o.temperature === 0) return { token: argmax(row), logprob: 0 };
  const V = row.length;
  const { idx, w } = scratch;
  const invT = 1 / o.temperature;
  let n: number;
  if (o.topK > 0 && o.topK < V) {
    n = o.topK;
    topKIndices(row, n, idx);
  } else {
    n = V;
    for (let i = 0; i < V; i++) idx[i] = i;
  }
  let m = -Infinity;
  for (let j = 0; j < n; j++) if (row[idx[j]] > m) m = row[idx[j]];
  let z = 0;
  for (let j = 0; j < n; j++) z += w[j] = Math.exp((row[idx[j]] - m) * invT);
  if (o.topP < 1) {
    const target = o.topP * z;
    let keep = 0;
    if (n < V) {
      // candidates are sorted: shortest prefix with mass >= p
      let acc = 0;
      while (keep < n) {
        acc += w[keep++];
        if (acc >= target) break;
      }
    } else {
      // Largest threshold t with sum(w >= t) >= p z (the max weight is exactly 1), by bisection;
      // entries below the lower bound can never count again, so they are dropped as it rises.
      let lo = 0;
      let hi = 1;
      let active = n;
      for (let it = 0; it < 40; it++) {
        const mid = (lo + hi) / 2;
        let mass = 0;
        for (let j = 0; j < active; j++) if (w[j] >= mid) mass += w[j];
        if (mass >= target) {
          lo = mid;
          let a = 0;
          for (let j = 0; j < active; j++) {
            if (w[j] >= lo) {
              idx[a] = idx[j];
              w[a++] = w[j];
            }
          }
          active = a;
        } else hi = mid;
      }
      keep = active;
    }
    n = keep;
    z = 0;
    for (let j = 0; j < n; j++) z += w[j];
  }
  let u = rng.uniform() * z;
  let k = 0;
  for (; k < n - 1; k++) {
    u -= w[k];
    if (u < 0) break;
  }
  return { token: idx[k], logprob: Math.log(w[k] / z) };
}

/**
 * Reference sampler: one forward per new token from JavaScript, sampling with sampleToken.
 * Same contract as generate(); kept to cross-check the in-graph loop and for models without one.
 */
/** The [B, T] attention mask with one more attended position per row: [B, T + 1]. */
export function growAttentionMask(mask: BigInt64Array, B: number, T: number): BigInt64Array<ArrayBuffer> {
  const grown = new BigInt64Array(B * (T + 1));
  for (let b = 0; b < B; b++) {
    grown.set(mask.subarray(b * T, (b + 1) * T), b * (T + 1));
    grown[b * (T + 1) + T] = 1n;
  }
  return grown;
}

/**
 * Prefill inputs for a batch of prompts: left padding, masked; positions count real tokens only.
 * Checks that no prompt is empty and that prompt + new tokens fit the model's positions.
 */
function leftPaddedPrefill(lm: CausalLm, prompts: number[][], maxNewTokens: number): { maxLen: number; ids: BigInt64Array<ArrayBuffer>; positions: BigInt64Array<ArrayBuffer>; mask: BigInt64Array<ArrayBuffer> } {
  for (const [i, p] of prompts.entries()) if (p.length === 0) throw new Error(`prompts[${i}]: empty prompt (start it with the BOS token)`);
  const B = prompts.length;
  const maxLen = Math.max(...prompts.map((p) => p.length));
  if (maxLen + maxNewTokens > lm.config.max_position_embeddings) {
    throw new Error(`prompt (${maxLen} tokens) + maxNewTokens (${maxNewTokens}) exceeds the model's ${lm.config.max_position_embeddings} positions`);
  }
  const ids = new BigInt64Array(B * maxLen).fill(BigInt(lm.tokenizer.padId ?? 0));
  const positions = new BigInt64Array(B * maxLen);
  const mask = new BigInt64Array(B * maxLen);
  prompts.forEach((p, b) => {
    const pad = maxLen - p.length;
    for (let j = 0; j < p.length; j++) {
      ids[b * maxLen + pad + j] = BigInt(p[j]);
      positions[b * maxLen + pad + j] = BigInt(j);
      mask[b * maxLen + pad + j] = 1n;
    }
  });
  return { maxLen, ids, positions, mask };
}

export async function generateStepwise(lm: CausalLm, prompts: number[][], options: SampleOptions = {}): Promise<Generation[]> {
  const o = validateSampleOptions(options);
  if (prompts.length === 0) return [];
  const stops = new Set(o.stopTokens.length ? o.stopTokens : lm.tokenizer.eosId !== null ? [lm.tokenizer.eosId] : []);
  const B = prompts.length;
  const V = lm.vocabSize;
  const { maxLen, ids, positions, mask: prefillMask } = leftPaddedPrefill(lm, prompts, o.maxNewTokens);
  let mask = prefillMask;
  const root = new Rng(o.seed);
  const rngs = prompts.map(() => root.fork());
  const nextPos = prompts.map((p) => p.length);
  let out = await lm.forward(ids, B, maxLen, mask, positions, null, 1);
  const results: Generation[] = prompts.map(() => ({ tokens: [], logprobs: [], samplingLogprobs: [], finishReason: 'length' }));
  const done = new Array<boolean>(B).fill(false);
  let T = maxLen;
  for (let step = 0; step < o.maxNewTokens; step++) {
    const next = new BigInt64Array(B);
    for (let b = 0; b < B; b++) {
      if (done[b]) {
        next[b] = BigInt(lm.tokenizer.padId ?? 0);
        continue;
      }
      const L = out.keptPositions;
      const row = out.logits.subarray((b * L + L - 1) * V, (b * L + L) * V);
      const { token, logprob } = sampleToken(row, o, rngs[b]);
      const r = results[b];
      r.tokens.push(token);
      r.logprobs.push(row[token] - logSumExp(row));
      r.samplingLogprobs.push(o.temperature === 0 ? 0 : logprob);
      next[b] = BigInt(token);
      if (stops.has(token)) {
        done[b] = true;
        r.finishReason = 'stop';
      }
    }
    if (done.every(Boolean) || step === o.maxNewTokens - 1) break;
    // One new position per row; finished rows keep running (masked out of nothing, ignored).
    mask = growAttentionMask(mask, B, T);
    T++;
    const pos = BigInt64Array.from(nextPos, (p) => BigInt(p));
    for (let b = 0; b < B; b++) nextPos[b]++;
    out = await lm.forward(next, B, 1, mask, pos, out.present, 1);
  }
  return results;
}

/**
 * Sample continuations of token-id prompts, all rows in one batch: one prefill forward, then the
 * whole decoding loop in one onnxruntime call (onnx/sampler-onnx.ts). Rows draw their uniforms
 * from their own Rng streams (forked from the seed), so a row's sample does not depend on the
 * rest of the batch.
 */
export async function generate(lm: CausalLm, prompts: number[][], options: SampleOptions = {}): Promise<Generation[]> {
  const o = validateSampleOptions(options);
  if (prompts.length === 0) return [];
  const stopList = o.stopTokens.length ? o.stopTokens : lm.tokenizer.eosId !== null ? [lm.tokenizer.eosId] : [-1];
  const B = prompts.length;
  const V = lm.vocabSize;
  const N = o.maxNewTokens;
  const { maxLen, ids, positions, mask } = leftPaddedPrefill(lm, prompts, N);
  const greedy = o.temperature === 0;
  const k = o.topK > 0 ? Math.min(o.topK, V) : V;
  const session = await lm.samplerSession(greedy ? { kind: 'greedy' } : { kind: 'sample', k });
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, [B, maxLen]),
    attention_mask: new ort.Tensor('int64', mask, [B, maxLen]),
    position_ids: new ort.Tensor('int64', positions, [B, maxLen]),
    next_position: new ort.Tensor('int64', BigInt64Array.from(prompts, (p) => BigInt(p.length)), [B, 1]),
    done: new ort.Tensor('bool', new Uint8Array(B), [B]),
    max_steps: new ort.Tensor('int64', BigInt64Array.of(BigInt(N)), []),
    stop_ids: new ort.Tensor('int64', BigInt64Array.from(stopList, (t) => BigInt(t)), [stopList.length]),
  };
  if (!greedy) {
    const root = new Rng(o.seed);
    const rngs = prompts.map(() => root.fork());
    const noise = new Float32Array(N * B * k);
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < N; s++) {
        const off = (s * B + b) * k;
        // uniforms strictly inside (0, 1) in float32, so -log(-log u) is finite
        for (let j = 0; j < k; j++) noise[off + j] = Math.min(Math.max(rngs[b].uniform(), 1e-12), 0.99999994);
      }
    }
    feeds.noise = new ort.Tensor('float32', noise, [N, B, k]);
    feeds.temperature = new ort.Tensor('float32', Float32Array.of(o.temperature), []);
    feeds.top_p = new ort.Tensor('float32', Float32Array.of(o.topP), []);
  }
  const out = await session.run(feeds);
  const steps = out.tokens.dims[0];
  const tokens = out.tokens.data as BigInt64Array;
  const lps = out.logprobs.data as Float32Array;
  const slps = out.sampling_logprobs.data as Float32Array;
  const stops = new Set(stopList);
  return prompts.map((_, b) => {
    const g: Generation = { tokens: [], logprobs: [], samplingLogprobs: [], finishReason: 'length' };
    for (let s = 0; s < steps; s++) {
      const t = Number(tokens[s * B + b]);
      g.tokens.push(t);
      g.logprobs.push(lps[s * B + b]);
      g.samplingLogprobs.push(slps[s * B + b]);
      if (stops.has(t)) {
        g.finishReason = 'stop';
        break;
      }
    }
    return g;
  });
}

export interface ScoreResult {
  /** log p(completion[t] | prompt, completion[<t]) for every completion token. */
  logprobs: number[];
  total: number;
}

/**
 * Log-probs of given completions after given prompts, batched: right padding, one run of the
 * scoring graph per chunk of `batchSize` rows (log-softmax and gather happen in onnxruntime).
 */
export async function score(lm: CausalLm, prompts: number[][], completions: number[][], batchSize = 32): Promise<ScoreResult[]> {
  if (prompts.length !== completions.length) throw new Error(`score: ${prompts.length} prompts but ${completions.length} completions`);
  const session = await lm.scorerSession();
  const results: ScoreResult[] = [];
  for (let start = 0; start < prompts.length; start += batchSize) {
    const rows = prompts.slice(start, start + batchSize).map((p, i) => ({ p, c: completions[start + i] }));
    const B = rows.length;
    const T = Math.max(2, ...rows.map((r) => r.p.length + r.c.length));
    if (T > lm.config.max_position_embeddings) throw new Error(`score: a sequence of ${T} tokens exceeds ${lm.config.max_position_embeddings} positions`);
    const ids = new BigInt64Array(B * T);
    const mask = new BigInt64Array(B * T);
    const pos = new BigInt64Array(B * T);
    rows.forEach((r, b) => {
      if (r.p.length === 0) throw new Error(`score: prompts[${start + b}] is empty (start it with the BOS token)`);
      const seq = [...r.p, ...r.c];
      for (let j = 0; j < T; j++) {
        pos[b * T + j] = BigInt(j);
        if (j < seq.length) {
          ids[b * T + j] = BigInt(seq[j]);
          mask[b * T + j] = 1n;
        }
      }
    });
    const out = await session.run({
      input_ids: new ort.Tensor('int64', ids, [B, T]),
      attention_mask: new ort.Tensor('int64', mask, [B, T]),
      position_ids: new ort.Tensor('int64', pos, [B, T]),
    });
    const lps = out.token_logprobs.data as Float32Array;
    rows.forEach((r, b) => {
      const lp: number[] = [];
      // token_logprobs[b, t] = log p(ids[t + 1] | ids[<= t]); completion token j sits at p.length + j
      for (let j = 0; j < r.c.length; j++) lp.push(lps[b * (T - 1) + r.p.length + j - 1]);
      results.push({ logprobs: lp, total: lp.reduce((a, x) => a + x, 0) });
    });
  }
  return results;
}

/** Score the same completions under several models (e.g. policy and reference) in one call. */
export async function scoreUnder(models: Record<string, CausalLm>, prompts: number[][], completions: number[][], batchSize = 16): Promise<Record<string, ScoreResult[]>> {
  const entries = Object.entries(models);
  const outs = await Promise.all(entries.map(([, m]) => score(m, prompts, completions, batchSize)));
  return Object.fromEntries(entries.map(([k], i) => [k, outs[i]]));
}

/** Text in, text out: prompts are encoded with the tokenizer's specials (BOS), completions decoded without the stop token. */
export async function generateText(lm: CausalLm, prompts: string[], options: SampleOptions = {}): Promise<(Generation & { text: string })[]> {
  const gens = await generate(lm, prompts.map((p) => lm.tokenizer.encodeWithSpecials(p)), options);
  return gens.map((g) => ({ ...g, text: lm.tokenizer.decode(g.finishReason === 'stop' ? g.tokens.slice(0, -1) : g.tokens, true) }));
}
