import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ngramPerplexity, trainBigramKneserNey, trainUnigram } from '../../../src/lab/lm/baselines/ngram';
import { loadBrown } from '../../../src/lab/lm/data/brown';
import { countWordsIn, encodeStream } from '../../../src/lab/lm/data/token-stream';
import { trainByteLevelBpe, writeTokenizerFiles } from '../../../src/lab/lm/tokenizer/bpe-trainer';
import { loadTokenizer } from '../../../src/lab/lm/tokenizer/load';

test('n-gram models are normalized distributions', () => {
  const V = 6;
  const train = Int32Array.from([0, 1, 2, 1, 2, 3, 1, 2, 4, 0, 1, 1]);
  const uni = trainUnigram(train, V);
  const bi = trainBigramKneserNey(train, V);
  for (const prev of [0, 1, 2, 5]) {
    let su = 0;
    let sb = 0;
    for (let w = 0; w < V; w++) {
      su += Math.exp(uni.logProb(prev, w));
      sb += Math.exp(bi.logProb(prev, w));
    }
    assert.ok(Math.abs(su - 1) < 1e-12, `unigram sums to ${su}`);
    assert.ok(Math.abs(sb - 1) < 1e-12, `bigram after ${prev} sums to ${sb}`);
  }
  // "1 2" is frequent: the bigram model is confident; the unseen token 5 still has mass.
  assert.ok(Math.exp(bi.logProb(1, 2)) > 0.5);
  assert.ok(Number.isFinite(bi.logProb(1, 5)));
});

test('on held-out Brown text the bigram beats the unigram (per token and per word)', () => {
  const docs = loadBrown();
  const train = docs.filter((d) => d.split === 'train').slice(0, 60).map((d) => d.sentences.join('\n'));
  const val = docs.filter((d) => d.split === 'validation').slice(0, 5).map((d) => d.sentences.join('\n'));
  const dir = mkdtempSync(join(tmpdir(), 'ngram-'));
  writeTokenizerFiles(dir, trainByteLevelBpe(train, { vocabSize: 1000 }), { modelMaxLength: 256 });
  const tok = loadTokenizer(dir);
  const tr = encodeStream(tok, train);
  const va = encodeStream(tok, val);
  assert.equal(va.words, countWordsIn(val));
  assert.equal(va.ids[0], tok.eosId);
  assert.equal(va.ids[va.ids.length - 1], tok.eosId);
  const u = ngramPerplexity(trainUnigram(tr.ids, tok.vocabSize), va.ids, va.words);
  const b = ngramPerplexity(trainBigramKneserNey(tr.ids, tok.vocabSize), va.ids, va.words);
  assert.ok(b.perTokenPerplexity < 0.7 * u.perTokenPerplexity, `bigram ${b.perTokenPerplexity} vs unigram ${u.perTokenPerplexity}`);
  assert.ok(b.perWordPerplexity < u.perWordPerplexity);
  // Tokens per word > 1, so per-word perplexity exceeds per-token perplexity.
  assert.ok(u.perWordPerplexity > u.perTokenPerplexity);
});
