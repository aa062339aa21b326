// Byte-level BPE training (Sennrich et al. 2016; byte alphabet of GPT-2, Radford et al. 2019).
// Output: the Hugging Face `tokenizer.json` / `tokenizer_config.json` pair, which
// @huggingface/tokenizers and @huggingface/transformers load; tokenization at run time goes
// through those libraries, this file only learns the merges.
//
// Algorithm (incremental pair counts, as in HF tokenizers' BpeTrainer):
//   1. pre-tokenize every text with the GPT-2 regex and count distinct words;
//   2. spell each word in byte symbols; count adjacent symbol pairs, remembering which words
//      contain each pair;
//   3. repeat: take the most frequent pair (ties: smaller symbol ids), merge it in the words that
//      contain it, and update only those words' pair counts (a max-heap with lazy deletion finds
//      the next best pair), until the vocabulary is full or the best count < minFrequency.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The GPT-2 pre-tokenizer regex, identical to the ByteLevel pre-tokenizer of @huggingface/tokenizers. */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's reversible byte → printable character map (bytes_to_unicode). Index = byte value. */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const out = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    out[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  }
  return out;
}

export const ENDOFTEXT = '<|endoftext|>';
export const PAD = '<|pad|>';

export interface BpeTrainOptions {
  /** Total vocabulary size: 256 bytes + merges + special tokens. */
  vocabSize: number;
  /** Stop merging when the best pair occurs fewer times than this. */
  minFrequency?: number;
  /** Special tokens, appended after the merged tokens (default: <|endoftext|>, <|pad|>). */
  specialTokens?: string[];
}

export interface TrainedBpe {
  /** Token strings by id (byte-level alphabet), special tokens last. */
  tokens: string[];
  merges: [string, string][];
  specialTokens: string[];
  /** Number of distinct pre-tokenized words seen. */
  distinctWords: number;
}

/** Max-heap of (count, pair key): higher count first, then smaller key. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.counts.length;
  }
  private above(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }
  private swap(i: number, j: number): void {
    const c = this.counts[i];
    this.counts[i] = this.counts[j];
    this.counts[j] = c;
    const k = this.keys[i];
    this.keys[i] = this.keys[j];
    this.keys[j] = k;
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): { count: number; key: number } {
    const top = { count: this.counts[0], key: this.keys[0] };
    const lastC = this.counts.pop()!;
    const lastK = this.keys.pop()!;
    if (this.counts.length) {
      this.counts[0] = lastC;
      this.keys[0] = lastK;
      let i = 0;
      const n = this.counts.length;
      while (true) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n && this.above(l, m)) m = l;
        if (r < n && this.above(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

const PAIR_BASE = 1 << 16;
const pairKey = (a: number, b: number) => a * PAIR_BASE + b;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Count pre-tokenized words (special tokens are cut out first, as the tokenizer does). */
export function countWords(texts: Iterable<string>, specialTokens: string[] = []): Map<string, number> {
  const counts = new Map<string, number>();
  const specials = specialTokens.length ? new RegExp(specialTokens.map(escapeRegExp).join('|'), 'g') : null;
  for (const text of texts) {
    const pieces = specials ? text.split(specials) : [text];
    for (const piece of pieces) {
      for (const m of piece.matchAll(GPT2_SPLIT)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
    }
  }
  return counts;
}

export function trainByteLevelBpe(texts: Iterable<string>, opts: BpeTrainOptions): TrainedBpe {
  const specialTokens = opts.specialTokens ?? [ENDOFTEXT, PAD];
  const minFrequency = opts.minFrequency ?? 2;
  if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < 256 + specialTokens.length || opts.vocabSize >= PAIR_BASE) {
    throw new Error(`vocabSize: expected an integer in [${256 + specialTokens.length}, ${PAIR_BASE - 1}], got ${opts.vocabSize}`);
  }
  if (new Set(specialTokens).size !== specialTokens.length) throw new Error('specialTokens: duplicates');
  const targetSymbols = opts.vocabSize - specialTokens.length;

  // 1. words and their counts, spelled in byte symbols (symbol id = byte value).
  const wordCounts = countWords(texts, specialTokens);
  const encoder = new TextEncoder();
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [w, c] of wordCounts) {
    words.push(Array.from(encoder.encode(w)));
    freq.push(c);
  }

  const byteChars = bytesToUnicode();
  const tokens: string[] = byteChars.slice();
  const idOf = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const merges: [string, string][] = [];

  // 2. pair counts and where each pair occurs.
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  for (let w = 0; w < words.length; w++) {
    const s = words[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const k = pairKey(s[i], s[i + 1]);
      pairCount.set(k, (pairCount.get(k) ?? 0) + freq[w]);
      let set = pairWords.get(k);
      if (!set) pairWords.set(k, (set = new Set()));
      set.add(w);
    }
  }
  const heap = new PairHeap();
  for (const [k, c] of pairCount) heap.push(c, k);

  // 3. merge loop.
  const delta = new Map<number, number>();
  while (tokens.length < targetSymbols && heap.size) {
    const top = heap.pop();
    const actual = pairCount.get(top.key) ?? 0;
    if (actual !== top.count) {
      // Stale entry: counts only went down since it was pushed (increases push a fresh entry).
      if (actual > 0 && actual < top.count) heap.push(actual, top.key);
      continue;
    }
    if (actual < minFrequency) break;
    const a = Math.floor(top.key / PAIR_BASE);
    const b = top.key % PAIR_BASE;
    const merged = tokens[a] + tokens[b];
    let c = idOf.get(merged);
    if (c === undefined) {
      c = tokens.length;
      tokens.push(merged);
      idOf.set(merged, c);
    }
    merges.push([tokens[a], tokens[b]]);

    delta.clear();
    const where = pairWords.get(top.key)!;
    for (const w of where) {
      const s = words[w];
      const n = freq[w];
      let hit = false;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) hit = true;
      if (!hit) continue;
      for (let i = 0; i + 1 < s.length; i++) {
        const k = pairKey(s[i], s[i + 1]);
        delta.set(k, (delta.get(k) ?? 0) - n);
      }
      const t: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          t.push(c);
          i++;
        } else t.push(s[i]);
      }
      words[w] = t;
      for (let i = 0; i + 1 < t.length; i++) {
        const k = pairKey(t[i], t[i + 1]);
        delta.set(k, (delta.get(k) ?? 0) + n);
        let set = pairWords.get(k);
        if (!set) pairWords.set(k, (set = new Set()));
        set.add(w);
      }
    }
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const now = (pairCount.get(k) ?? 0) + d;
      if (now <= 0) pairCount.delete(k);
      else pairCount.set(k, now);
      if (d > 0) heap.push(now, k);
    }
    pairCount.delete(top.key);
    pairWords.delete(top.key);
  }

  for (const s of specialTokens) {
    if (idOf.has(s)) throw new Error(`specialTokens: ${JSON.stringify(s)} collides with a learned token`);
    tokens.push(s);
  }
  return { tokens, merges, specialTokens, distinctWords: words.length };
}

export interface TokenizerFileOptions {
  /** Longest sequence the model accepts (tokenizer_config model_max_length). */
  modelMaxLength: number;
  /** Prepend <|endoftext|> as BOS when encoding (TemplateProcessing), like LLaMA tokenizers do. */
  addBosToken?: boolean;
}

/** tokenizer.json content in the Hugging Face format (model BPE, ByteLevel pre-tokenizer/decoder). */
export function tokenizerJson(bpe: TrainedBpe, opts: TokenizerFileOptions): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  bpe.tokens.forEach((t, i) => (vocab[t] = i));
  const firstSpecial = bpe.tokens.length - bpe.specialTokens.length;
  const bos = bpe.specialTokens[0];
  const addBos = opts.addBosToken ?? true;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: bpe.specialTokens.map((content, i) => ({
      id: firstSpecial + i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: addBos
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: bos, type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: bos, type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { [bos]: { id: bos, ids: [firstSpecial], tokens: [bos] } },
        }
      : { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: bpe.merges,
    },
  };
}

/** tokenizer_config.json: special tokens and the decode settings that keep round-trips exact. */
export function tokenizerConfigJson(bpe: TrainedBpe, opts: TokenizerFileOptions): Record<string, unknown> {
  const [eos, pad] = [bpe.specialTokens[0], bpe.specialTokens[1] ?? bpe.specialTokens[0]];
  const firstSpecial = bpe.tokens.length - bpe.specialTokens.length;
  const decoder: Record<string, unknown> = {};
  bpe.specialTokens.forEach((content, i) => {
    decoder[String(firstSpecial + i)] = { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  });
  return {
    tokenizer_class: 'GPT2Tokenizer',
    add_bos_token: opts.addBosToken ?? true,
    add_eos_token: false,
    add_prefix_space: false,
    bos_token: eos,
    eos_token: eos,
    unk_token: eos,
    pad_token: pad,
    padding_side: 'left',
    clean_up_tokenization_spaces: false,
    model_max_length: opts.modelMaxLength,
    added_tokens_decoder: decoder,
  };
}

/** Write tokenizer.json and tokenizer_config.json into `dir` (created if needed). */
export function writeTokenizerFiles(dir: string, bpe: TrainedBpe, opts: TokenizerFileOptions): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(bpe, opts)) + '\n');
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfigJson(bpe, opts), null, 2) + '\n');
}
