// Perplexity of a token stream under an exported model (onnxruntime, our CausalLm): sliding
// windows of `window` tokens with stride `window / 2`, so every scored token (all but the first)
// sees at least half a window of context; per-token and per-word perplexity.
import * as ort from 'onnxruntime-node';
import type { CausalLm } from './causal-lm';
import { type Perplexity, perplexityFromNll } from './baselines/ngram';

export interface WindowPlan {
  start: number;
  /** First stream index scored in this window (targets [scoreFrom, start + window)). */
  scoreFrom: number;
  end: number;
}

export function slidingWindows(n: number, window: number, stride = Math.max(1, Math.floor(window / 2))): WindowPlan[] {
  if (n < 2) return [];
  if (n <= window) return [{ start: 0, scoreFrom: 1, end: n }];
  const plans: WindowPlan[] = [{ start: 0, scoreFrom: 1, end: window }];
  while (plans[plans.length - 1].end < n) {
    const prevEnd = plans[plans.length - 1].end;
    const start = Math.min(plans[plans.length - 1].start + stride, n - window);
    plans.push({ start, scoreFrom: prevEnd, end: start + window });
  }
  return plans;
}

export async function streamPerplexity(
  lm: CausalLm,
  stream: Int32Array,
  words: number,
  opts: { window?: number; batchSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<Perplexity> {
  const window = Math.min(opts.window ?? lm.config.max_position_embeddings, lm.config.max_position_embeddings, stream.length);
  const B = opts.batchSize ?? 8;
  const plans = slidingWindows(stream.length, window);
  const session = await lm.scorerSession();
  let nll = 0;
  let count = 0;
  for (let i = 0; i < plans.length; i += B) {
    const chunk = plans.slice(i, i + B);
    const T = window;
    const ids = new BigInt64Array(chunk.length * T);
    const mask = new BigInt64Array(chunk.length * T).fill(1n);
    const pos = new BigInt64Array(chunk.length * T);
    chunk.forEach((p, b) => {
      for (let j = 0; j < T; j++) {
        ids[b * T + j] = BigInt(stream[p.start + j]);
        pos[b * T + j] = BigInt(j);
      }
    });
    const out = await session.run({
      input_ids: new ort.Tensor('int64', ids, [chunk.length, T]),
      attention_mask: new ort.Tensor('int64', mask, [chunk.length, T]),
      position_ids: new ort.Tensor('int64', pos, [chunk.length, T]),
    });
    const lps = out.token_logprobs.data as Float32Array; // [b, t] = log p(window[t + 1] | window[<= t])
    chunk.forEach((p, b) => {
      for (let s = p.scoreFrom; s < p.end; s++) {
        nll -= lps[b * (T - 1) + (s - p.start - 1)];
        count++;
      }
    });
    opts.onProgress?.(Math.min(i + B, plans.length), plans.length);
  }
  return perplexityFromNll(nll, count, words);
}
