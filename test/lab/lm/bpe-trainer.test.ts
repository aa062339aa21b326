import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { Rng } from '../../../src/core/rng';
import { brownTexts, loadBrown } from '../../../src/lab/lm/data/brown';
import { loadCodeCorpus } from '../../../src/lab/lm/data/code-corpus';
import {
  bytesToUnicode,
  countWords,
  ENDOFTEXT,
  GPT2_SPLIT,
  PAD,
  trainByteLevelBpe,
  writeTokenizerFiles,
} from '../../../src/lab/lm/tokenizer/bpe-trainer';
import { loadTokenizer } from '../../../src/lab/lm/tokenizer/load';

env.allowRemoteModels = false;
env.useFSCache = false;
(env as { fetch: unknown }).fetch = () => {
  throw new Error('network disabled in tests');
};

/** Reference trainer: recounts every pair after every merge (slow, obviously right). */
function naiveMerges(texts: string[], numMerges: number, minFrequency: number): string[] {
  const b2u = bytesToUnicode();
  const enc = new TextEncoder();
  const words = [...countWords(texts)].map(([w, c]) => ({ s: Array.from(enc.encode(w), (b) => b2u[b]), c }));
  const ids = new Map<string, number>(b2u.map((t, i) => [t, i]));
  const out: string[] = [];
  for (let m = 0; m < numMerges; m++) {
    const counts = new Map<string, { c: number; a: string; b: string }>();
    for (const w of words)
      for (let i = 0; i + 1 < w.s.length; i++) {
        const k = w.s[i] + '\u0000' + w.s[i + 1];
        const e = counts.get(k) ?? { c: 0, a: w.s[i], b: w.s[i + 1] };
        e.c += w.c;
        counts.set(k, e);
      }
    let best: { c: number; a: string; b: string } | null = null;
    for (const e of counts.values()) {
      if (!best || e.c > best.c || (e.c === best.c && (ids.get(e.a)! < ids.get(best.a)! || (e.a === best.a && ids.get(e.b)! < ids.get(best.b)!)))) best = e;
    }
    if (!best || best.c < minFrequency) break;
    out.push(best.a + ' ' + best.b);
    if (!ids.has(best.a + best.b)) ids.set(best.a + best.b, ids.size);
    for (const w of words) {
      const t: string[] = [];
      for (let i = 0; i < w.s.length; i++) {
        if (i + 1 < w.s.length && w.s[i] === best.a && w.s[i + 1] === best.b) {
          t.push(best.a + best.b);
          i++;
        } else t.push(w.s[i]);
      }
      w.s = t;
    }
  }
  return out;
}

const SAMPLES = [
  'Hello, world! The quick brown fox — jumps over the lazy dog.',
  'Emoji: 😀👍🏽 👨‍👩‍👧 and flags 🇫🇷; CJK: 汉字かなカナ한국어; combining: é (e\u0301), n\u0303, Z\u0351\u0352\u0353.',
  'function add(a, b) {\n\treturn a + b;\n}\r\n\r\nconst x = `tmpl ${1}`;\t\t// tabs\n    indented;\n\n\n',
  '  leading and trailing spaces   ',
  "it's they're we've I'm you'll he'd 'quoted' \"double\"",
  '\u0000\u0001\u007f control chars \uFFFD replacement \u00a0nbsp \u2028 line sep',
  '',
  'numbers 1234567890 3.14159 -0x1F 1e-9',
];

function randomUnicode(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rng.uniform();
    let cp: number;
    if (r < 0.4) cp = 32 + rng.int(95);
    else if (r < 0.5) cp = [9, 10, 13, 32][rng.int(4)];
    else if (r < 0.7) cp = 0xa0 + rng.int(0x2000);
    else if (r < 0.85) cp = 0x4e00 + rng.int(0x5000);
    else cp = 0x1f300 + rng.int(0x400);
    s += String.fromCodePoint(cp);
  }
  return s;
}

const trainTexts = (() => {
  const docs = loadBrown().filter((d) => d.split === 'train').slice(0, 40);
  const code = loadCodeCorpus().filter((d) => d.split === 'train' && d.pkg === 'eslint').slice(0, 15);
  return [...docs.map((d) => d.sentences.join('\n')), ...code.map((d) => d.text)];
})();

test('incremental trainer learns exactly the merges of a naive full-recount trainer', () => {
  const texts = trainTexts.slice(0, 6);
  const bpe = trainByteLevelBpe(texts, { vocabSize: 256 + 150 + 2, minFrequency: 2 });
  const naive = naiveMerges(texts, 150, 2);
  assert.deepEqual(
    bpe.merges.map(([a, b]) => `${a} ${b}`),
    naive,
  );
  assert.equal(bpe.tokens.length, 408);
  assert.deepEqual(bpe.tokens.slice(-2), [ENDOFTEXT, PAD]);
});

test('minFrequency stops merging; bad options are named', () => {
  // Words: "ab" x1, " ab" x2, " cd" x1 -> pairs (a,b)=3, (Ġ,a)=2, then (Ġ,ab)=2; the rest occur once.
  assert.deepEqual(trainByteLevelBpe(['ab ab ab cd'], { vocabSize: 1000, minFrequency: 3 }).merges, [['a', 'b']]);
  assert.deepEqual(trainByteLevelBpe(['ab ab ab cd'], { vocabSize: 1000, minFrequency: 2 }).merges, [
    ['a', 'b'],
    ['Ġ', 'ab'],
  ]);
  assert.throws(() => trainByteLevelBpe(['x'], { vocabSize: 100 }), /vocabSize: expected an integer in \[258, 65535\], got 100/);
  assert.throws(() => trainByteLevelBpe(['x'], { vocabSize: 300, specialTokens: ['<a>', '<a>'] }), /specialTokens: duplicates/);
});

test('pre-tokenizer regex matches @huggingface/tokenizers ByteLevel', () => {
  const s = "it's   a test\n\n  x=1;";
  assert.deepEqual(s.match(GPT2_SPLIT), ['it', "'s", '  ', ' a', ' test', '\n\n ', ' x', '=', '1', ';']);
});

test('tokenizer.json round-trips arbitrary UTF-8 and code, and both HF libraries give the same ids', async () => {
  const t0 = Date.now();
  const bpe = trainByteLevelBpe(trainTexts, { vocabSize: 1024 });
  const trainMs = Date.now() - t0;
  assert.ok(trainMs < 20_000, `training took ${trainMs} ms`);
  const dir = mkdtempSync(join(tmpdir(), 'bpe-'));
  writeTokenizerFiles(dir, bpe, { modelMaxLength: 256 });
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  assert.equal(json.model.type, 'BPE');
  assert.equal(Object.keys(json.model.vocab).length, 1024);

  const ours = loadTokenizer(dir);
  const hf = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  assert.equal(ours.vocabSize, 1024);
  assert.equal(ours.eosId, 1022);
  assert.equal(ours.bosId, 1022);
  assert.equal(ours.padId, 1023);

  const rng = new Rng(7);
  const texts = [...SAMPLES, ...Array.from({ length: 30 }, () => randomUnicode(rng, 1 + rng.int(80))), trainTexts[41].slice(0, 3000)];
  for (const text of texts) {
    const ids = ours.encode(text);
    assert.equal(ours.decode(ids), text, `round trip of ${JSON.stringify(text)}`);
    for (const id of ids) assert.ok(id >= 0 && id < 1022, `id ${id} out of range`);
    const withBos = ours.encodeWithSpecials(text);
    assert.deepEqual(withBos, [1022, ...ids]);
    const hfIds = hf.encode(text) as number[];
    assert.deepEqual(hfIds, withBos, `ids differ for ${JSON.stringify(text)}`);
    assert.equal(hf.decode(hfIds, { skip_special_tokens: true }), text);
  }
  // Merges are used: common words are single tokens; special tokens in text become one id.
  assert.equal(ours.encode(' the').length, 1);
  assert.deepEqual(ours.encode(`a${ENDOFTEXT}b`), [...ours.encode('a'), 1022, ...ours.encode('b')]);
  // Batch padding with <|pad|> on the left.
  const batch = hf(['a b c d', 'x'], { padding: true });
  const mask = Array.from(batch.attention_mask.data as BigInt64Array, Number);
  const ids = Array.from(batch.input_ids.data as BigInt64Array, Number);
  const width = ids.length / 2;
  assert.equal(ids[width], 1023);
  assert.equal(mask[width], 0);
  assert.equal(mask[2 * width - 1], 1);
});

test('Brown train split: 8k vocabulary trains fast and compresses well', () => {
  const texts = brownTexts('train');
  const t0 = Date.now();
  const bpe = trainByteLevelBpe(texts, { vocabSize: 8192 });
  const ms = Date.now() - t0;
  assert.equal(bpe.tokens.length, 8192);
  assert.ok(ms < 30_000, `${ms} ms`);
  assert.ok(bpe.tokens.includes('Ġthe') && bpe.tokens.includes('Ġand'));
});
