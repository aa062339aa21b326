// Corpora as token streams: every document is encoded with the tokenizer's specials (BOS =
// <|endoftext|> first) and the documents are concatenated, with one final <|endoftext|>:
//   E doc1 E doc2 E ... docN E
// so <|endoftext|> both ends a document and starts the next (GPT-2 convention).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LoadedTokenizer } from '../tokenizer/load';

export interface TokenStream {
  ids: Int32Array;
  /** Number of documents. */
  documents: number;
  /** Whitespace-separated words in the texts (for per-word perplexity), plus one end-of-text per document. */
  words: number;
}

export function countWordsIn(texts: readonly string[]): number {
  let n = 0;
  for (const t of texts) {
    const m = t.match(/\S+/g);
    n += m ? m.length : 0;
  }
  return n + texts.length;
}

export function encodeStream(tok: LoadedTokenizer, texts: readonly string[]): TokenStream {
  if (tok.eosId === null) throw new Error('tokenizer: no eos_token in tokenizer_config.json');
  const parts: number[][] = [];
  let n = 1;
  for (const t of texts) {
    const ids = tok.encodeWithSpecials(t);
    if (ids[0] !== tok.eosId) ids.unshift(tok.eosId);
    parts.push(ids);
    n += ids.length;
  }
  const out = new Int32Array(n);
  let p = 0;
  for (const ids of parts) {
    out.set(ids, p);
    p += ids.length;
  }
  out[p] = tok.eosId;
  return { ids: out, documents: texts.length, words: countWordsIn(texts) };
}

/** Same as encodeStream, cached on disk under `cachePath` keyed by tokenizer + texts (hash). */
export function cachedStream(tok: LoadedTokenizer, tokenizerJson: string, texts: readonly string[], cachePath: string): TokenStream {
  const h = createHash('sha256').update(tokenizerJson);
  for (const t of texts) h.update(t).update('\u0000');
  const key = h.digest('hex');
  if (existsSync(cachePath)) {
    try {
      const cached = JSON.parse(readFileSync(cachePath, 'utf8')) as { key: string; ids: number[]; documents: number; words: number };
      if (cached.key === key) return { ids: Int32Array.from(cached.ids), documents: cached.documents, words: cached.words };
    } catch {
      // unreadable cache: recompute
    }
  }
  const s = encodeStream(tok, texts);
  mkdirSync(dirname(cachePath), { recursive: true });
  writeFileSync(cachePath, JSON.stringify({ key, documents: s.documents, words: s.words, ids: Array.from(s.ids) }));
  return s;
}
