// `npm run bench -- sample`: tokens/s of our batched KV-cache sampler vs transformers.js
// generate() on the same model folder, prompts, sampling settings (temperature 1, top-k 50) and
// thread count, at batch sizes 1, 8 and 32, measured side by side in this run; the throughput of
// the batched score path; and the perplexity table of the bundled models.
//   npx tsx bench/sample.bench.ts [--model prox-text-small] [--new-tokens 32] [--threads 1,2] [--batches 1,8,32]
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env, Tensor } from '@huggingface/transformers';
import { Rng } from '../src/core/rng';
import { CausalLm } from '../src/lab/lm/causal-lm';
import { exportHfFolder } from '../src/lab/lm/hf-folder';
import { llamaConfig } from '../src/lab/lm/llama/config';
import { initLlamaWeights } from '../src/lab/lm/llama/weights';
import { BUNDLED_MODELS, bundledModelDir, resolveLocalModel } from '../src/lab/lm/models';
import { generate, score } from '../src/lab/lm/sampler';
import { trainByteLevelBpe, writeTokenizerFiles } from '../src/lab/lm/tokenizer/bpe-trainer';
import { brownTexts } from '../src/lab/lm/data/brown';

env.allowRemoteModels = false;
env.useFSCache = false;
(env as { fetch: unknown }).fetch = () => {
  throw new Error('network disabled in benchmarks');
};

const args = process.argv.slice(2);
const flag = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};

export const BROWN_PROMPTS = [
  'The jury said that',
  'In the morning, the children',
  'The president of the company',
  'She looked at him and',
  'It was the first time that',
  'The new law will',
  'After the war, the city',
  'He had never seen',
];

/** A model folder: the bundled one if trained, else a fresh random model of the same shape. */
function benchModel(ref: string, scratch: string): { dir: string; trained: boolean } {
  if (BUNDLED_MODELS.includes(ref) && !existsSync(join(bundledModelDir(ref), 'config.json'))) {
    const tokDir = join(scratch, 'tok');
    writeTokenizerFiles(tokDir, trainByteLevelBpe(brownTexts('train').slice(0, 60), { vocabSize: 4096 }), { modelMaxLength: 256 });
    const c = llamaConfig({ vocabSize: 4096, hiddenSize: 128, intermediateSize: 384, layers: 4, heads: 4, kvHeads: 4, maxPositions: 256, eosTokenId: 4094, bosTokenId: 4094, padTokenId: 4095 });
    const dir = join(scratch, 'model');
    exportHfFolder(dir, { config: c, weights: initLlamaWeights(c, new Rng(0)), tokenizerDir: tokDir });
    return { dir, trained: false };
  }
  return { dir: resolveLocalModel(ref)!, trained: true };
}

async function main() {
  const threadCounts = flag('threads', '1,2').split(',').map(Number);
  const newTokens = Number(flag('new-tokens', '32'));
  const batches = flag('batches', '1,8,32').split(',').map(Number);
  const scratch = mkdtempSync(join(tmpdir(), 'sample-bench-'));
  try {
    const { dir, trained } = benchModel(flag('model', 'prox-text-small'), scratch);
    for (const threads of threadCounts) {
      const ours = await CausalLm.load(dir, { threads });
      const tok = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
      const theirs = await AutoModelForCausalLM.from_pretrained(dir, {
        local_files_only: true,
        session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
      });
      const never = [-1]; // no stop token: every row generates exactly newTokens tokens in both
      for (const B of batches) {
        const texts = Array.from({ length: B }, (_, i) => BROWN_PROMPTS[i % BROWN_PROMPTS.length]);
        const ids = texts.map((t) => ours.tokenizer.encodeWithSpecials(t));
        const enc = tok(texts, { padding: true });
        const runOurs = () => generate(ours, ids, { maxNewTokens: newTokens, temperature: 1, topK: 50, stopTokens: never, seed: 1 });
        const runTheirs = () =>
          theirs.generate({
            input_ids: enc.input_ids as Tensor,
            attention_mask: enc.attention_mask as Tensor,
            max_new_tokens: newTokens,
            min_new_tokens: newTokens,
            do_sample: true,
            top_k: 50,
          });
        await runOurs();
        await runTheirs();
        // Alternate the two, several rounds, and take medians: the machine is shared and noisy.
        const rounds = B === 1 ? 5 : 3;
        const oursTimes: number[] = [];
        const theirTimes: number[] = [];
        for (let r = 0; r < rounds; r++) {
          let t = performance.now();
          await runOurs();
          oursTimes.push((performance.now() - t) / 1000);
          t = performance.now();
          await runTheirs();
          theirTimes.push((performance.now() - t) / 1000);
        }
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        const oursS = median(oursTimes);
        const theirsS = median(theirTimes);
        const oursTps = (B * newTokens) / oursS;
        const theirsTps = (B * newTokens) / theirsS;
        console.log(
          JSON.stringify({
            bench: 'sample',
            model: trained ? flag('model', 'prox-text-small') : 'random-init (bundled model not trained yet)',
            batch: B,
            new_tokens: newTokens,
            threads,
            ours_tokens_per_s: Math.round(oursTps),
            transformersjs_tokens_per_s: Math.round(theirsTps),
            ratio: Number((oursTps / theirsTps).toFixed(2)),
          }),
        );
      }
      // Score path: log-probs of 32 given completions (prompt + 32 tokens each) in one call.
      const prompts = Array.from({ length: 32 }, (_, i) => ours.tokenizer.encodeWithSpecials(BROWN_PROMPTS[i % BROWN_PROMPTS.length]));
      const gens = await generate(ours, prompts, { maxNewTokens: 32, temperature: 1, stopTokens: never, seed: 2 });
      const completions = gens.map((g) => g.tokens);
      await score(ours, prompts, completions);
      const t = performance.now();
      await score(ours, prompts, completions);
      const s = (performance.now() - t) / 1000;
      const scored = prompts.reduce((a, p, i) => a + p.length + completions[i].length, 0);
      console.log(JSON.stringify({ bench: 'score', batch: 32, threads, tokens: scored, tokens_per_s: Math.round(scored / s) }));
      await ours.dispose();
      await theirs.dispose();
    }
    // Perplexity table (validation split) from the recorded training runs.
    for (const name of BUNDLED_MODELS) {
      const p = join(bundledModelDir(name), 'training_run.json');
      if (!existsSync(p)) continue;
      const r = JSON.parse(readFileSync(p, 'utf8'));
      const v = r.validation;
      console.log(
        JSON.stringify({
          bench: 'perplexity',
          model: name,
          split: 'validation',
          per_token: { model: v.model.perTokenPerplexity, bigram: v.bigram.perTokenPerplexity, unigram: v.unigram.perTokenPerplexity },
          per_word: { model: v.model.perWordPerplexity, bigram: v.bigram.perWordPerplexity, unigram: v.unigram.perWordPerplexity },
        }),
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
