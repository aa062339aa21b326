// Count-based baselines on token streams: a Laplace-smoothed unigram model and an interpolated
// Kneser-Ney bigram model (Kneser & Ney 1995; Chen & Goodman 1999, eq. for interpolated KN):
//   P(w | v) = max(c(v,w) - d, 0) / c(v)  +  d * N1+(v ·) / c(v) * Pcont(w)
//   Pcont(w) = (N1+(· w) + 1) / (N1+(· ·) + V)        (add-one so unseen tokens keep mass)
// with d = n1 / (n1 + 2 n2) (Ney et al. 1994), n_k = number of bigram types seen k times.

export interface NgramModel {
  name: string;
  /** Natural-log probability of `next` after `prev` (prev is ignored by the unigram). */
  logProb(prev: number, next: number): number;
}

export function trainUnigram(train: Int32Array, vocabSize: number): NgramModel {
  const counts = new Float64Array(vocabSize);
  for (let i = 1; i < train.length; i++) counts[train[i]]++;
  const total = train.length - 1;
  return {
    name: 'unigram (add-one)',
    logProb: (_prev, next) => Math.log((counts[next] + 1) / (total + vocabSize)),
  };
}

export function trainBigramKneserNey(train: Int32Array, vocabSize: number): NgramModel & { discount: number } {
  const pair = new Map<number, number>();
  for (let i = 1; i < train.length; i++) {
    const k = train[i - 1] * vocabSize + train[i];
    pair.set(k, (pair.get(k) ?? 0) + 1);
  }
  const ctxCount = new Float64Array(vocabSize); // c(v ·)
  const followers = new Float64Array(vocabSize); // N1+(v ·)
  const precedes = new Float64Array(vocabSize); // N1+(· w)
  let n1 = 0;
  let n2 = 0;
  for (const [k, c] of pair) {
    const v = Math.floor(k / vocabSize);
    const w = k % vocabSize;
    ctxCount[v] += c;
    followers[v]++;
    precedes[w]++;
    if (c === 1) n1++;
    else if (c === 2) n2++;
  }
  const d = n1 + 2 * n2 > 0 ? n1 / (n1 + 2 * n2) : 0.75;
  const types = pair.size;
  const pCont = (w: number) => (precedes[w] + 1) / (types + vocabSize);
  return {
    name: 'bigram (interpolated Kneser-Ney)',
    discount: d,
    logProb(prev, next) {
      const cv = ctxCount[prev];
      if (cv === 0) return Math.log(pCont(next));
      const c = pair.get(prev * vocabSize + next) ?? 0;
      return Math.log(Math.max(c - d, 0) / cv + ((d * followers[prev]) / cv) * pCont(next));
    },
  };
}

export interface Perplexity {
  /** Mean negative log-likelihood per token (nats). */
  nllPerToken: number;
  tokens: number;
  perTokenPerplexity: number;
  perWordPerplexity: number;
}

export function perplexityFromNll(totalNll: number, tokens: number, words: number): Perplexity {
  return {
    nllPerToken: totalNll / tokens,
    tokens,
    perTokenPerplexity: Math.exp(totalNll / tokens),
    perWordPerplexity: Math.exp(totalNll / words),
  };
}

/** Perplexity of every token of the stream after the first. */
export function ngramPerplexity(m: NgramModel, stream: Int32Array, words: number): Perplexity {
  let nll = 0;
  for (let i = 1; i < stream.length; i++) nll -= m.logProb(stream[i - 1], stream[i]);
  return perplexityFromNll(nll, stream.length - 1, words);
}
