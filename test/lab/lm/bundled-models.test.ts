// The shipped models: size, recorded training run, offline loading in transformers.js, and
// agreement between transformers.js and our runtime (logits, greedy tokens).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env, Tensor } from '@huggingface/transformers';
import { CausalLm } from '../../../src/lab/lm/causal-lm';
import { BUNDLED_MODELS, bundledModelDir } from '../../../src/lab/lm/models';
import { generate } from '../../../src/lab/lm/sampler';

env.allowRemoteModels = false;
env.useFSCache = false;
(env as { fetch: unknown }).fetch = () => {
  throw new Error('network disabled in tests');
};

const scratch = mkdtempSync(join(tmpdir(), 'bundled-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const PROMPTS: Record<string, string[]> = {
  'prox-text-small': ['The jury said that', 'In the morning'],
  'prox-code-small': ['function add(a, b) {\n', 'const x = '],
};

for (const name of BUNDLED_MODELS) {
  const dir = bundledModelDir(name);
  test(`${name}: ships ≤ 15 MB, records its run, loads offline in transformers.js and agrees with our runtime`, { skip: !existsSync(join(dir, 'config.json')) && 'not trained yet' }, async () => {
    const bytes = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'].reduce((a, f) => {
      assert.ok(existsSync(join(dir, f)), `${f} missing`);
      return a + statSync(join(dir, f)).size;
    }, 0);
    assert.ok(bytes <= 15 * 1024 * 1024, `${bytes} bytes`);
    const run = JSON.parse(readFileSync(join(dir, 'training_run.json'), 'utf8'));
    assert.ok(run.validation.model.perTokenPerplexity < run.validation.bigram.perTokenPerplexity, 'model beats the bigram baseline');
    assert.ok(run.validation.bigram.perTokenPerplexity < run.validation.unigram.perTokenPerplexity);
    assert.ok(existsSync(join(dir, 'train_log.jsonl')));

    // Fresh copy: transformers.js memoizes file probes per path.
    const copy = join(scratch, name);
    cpSync(dir, copy, { recursive: true });
    const tok = await AutoTokenizer.from_pretrained(copy, { local_files_only: true });
    const model = await AutoModelForCausalLM.from_pretrained(copy, { local_files_only: true });
    const lm = await CausalLm.load(copy, { threads: 1 });
    for (const prompt of PROMPTS[name]) {
      const ids = tok.encode(prompt) as number[];
      assert.deepEqual(ids, lm.tokenizer.encodeWithSpecials(prompt));
      const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
      const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
      const theirs = (await model({ input_ids, attention_mask })).logits.data as Float32Array;
      const ours = await lm.forward(
        BigInt64Array.from(ids.map(BigInt)),
        1,
        ids.length,
        new BigInt64Array(ids.length).fill(1n),
        BigInt64Array.from(ids.map((_, i) => BigInt(i))),
        null,
        0,
      );
      let maxDiff = 0;
      for (let i = 0; i < theirs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(theirs[i] - ours.logits[i]));
      assert.ok(maxDiff < 1e-4, `max logit diff ${maxDiff}`);
      const out = (await model.generate({ input_ids, attention_mask, max_new_tokens: 12, do_sample: false })) as Tensor;
      const theirNew = Array.from(out.data as BigInt64Array, Number).slice(ids.length);
      const [g] = await generate(lm, [ids], { maxNewTokens: 12, temperature: 0 });
      assert.deepEqual(g.tokens, theirNew.slice(0, g.tokens.length), prompt);
    }
    await lm.dispose();
    await model.dispose();
  });
}
