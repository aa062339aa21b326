// The base-model pipeline behind `npm run train:base`: for each recipe, train the tokenizer on
// the train split, encode the splits, measure unigram/bigram baselines, pretrain the LLaMA model,
// export it in the HF layout and record the run (training_run.json + train_log.jsonl).
import { execSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ngramPerplexity, trainBigramKneserNey, trainUnigram } from './baselines/ngram';
import { CausalLm } from './causal-lm';
import { cachedStream } from './data/token-stream';
import { streamPerplexity } from './evaluate';
import { exportHfFolder } from './hf-folder';
import { countParams, llamaConfig } from './llama/config';
import { pretrain } from './pretrain';
import { corpusTexts, type ModelRecipe, RECIPES } from './recipes';
import { ENDOFTEXT, PAD, trainByteLevelBpe, writeTokenizerFiles } from './tokenizer/bpe-trainer';
import { loadTokenizer } from './tokenizer/load';

export interface BaseTrainArgs {
  only: string[];
  steps?: number;
  threads?: number;
  out: string;
  cache: string;
}

export function parseBaseTrainArgs(argv: string[]): BaseTrainArgs {
  const a: BaseTrainArgs = { only: [], out: 'models', cache: join('.cache', 'lm') };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const need = () => {
      if (value === undefined || value.startsWith('--')) throw new Error(`${flag}: expected a value`);
      i++;
      return value;
    };
    const int = (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a positive integer, got ${JSON.stringify(v)}`);
      return n;
    };
    if (flag === '--only') {
      const name = need();
      if (!RECIPES[name]) throw new Error(`--only: unknown model ${JSON.stringify(name)} (known: ${Object.keys(RECIPES).join(', ')})`);
      a.only.push(name);
    } else if (flag === '--steps') a.steps = int(need());
    else if (flag === '--threads') a.threads = int(need());
    else if (flag === '--out') a.out = need();
    else if (flag === '--cache') a.cache = need();
    else throw new Error(`${flag}: unknown flag (flags: --only, --steps, --threads, --out, --cache)`);
  }
  return a;
}

function gitCommit(): string {
  try {
    return execSync('git rev-parse HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}

export async function trainOne(recipe: ModelRecipe, args: BaseTrainArgs, say: (m: string) => void = console.log): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  const work = resolve(args.cache, recipe.name);
  mkdirSync(work, { recursive: true });
  const tokDir = join(work, 'tokenizer');
  const train = { ...recipe.train, ...(args.steps ? { steps: args.steps } : {}) };

  // 1. tokenizer on the train split
  const texts = { train: corpusTexts(recipe.corpus, 'train'), validation: corpusTexts(recipe.corpus, 'validation'), test: corpusTexts(recipe.corpus, 'test') };
  let t = Date.now();
  const bpe = trainByteLevelBpe(texts.train, { vocabSize: recipe.vocabSize, specialTokens: [ENDOFTEXT, PAD] });
  writeTokenizerFiles(tokDir, bpe, { modelMaxLength: recipe.dims.maxPositions });
  const tokenizerSeconds = (Date.now() - t) / 1000;
  say(`[${recipe.name}] tokenizer: ${bpe.tokens.length} tokens, ${bpe.merges.length} merges from ${bpe.distinctWords} distinct words in ${tokenizerSeconds.toFixed(1)} s`);

  // 2. token streams (cached)
  const tok = loadTokenizer(tokDir);
  const tokJson = readFileSync(join(tokDir, 'tokenizer.json'), 'utf8');
  t = Date.now();
  const streams = {
    train: cachedStream(tok, tokJson, texts.train, join(work, 'train.tokens.json')),
    validation: cachedStream(tok, tokJson, texts.validation, join(work, 'validation.tokens.json')),
  };
  say(`[${recipe.name}] streams: train ${streams.train.ids.length} tokens / ${streams.train.words} words, validation ${streams.validation.ids.length} / ${streams.validation.words} (${((Date.now() - t) / 1000).toFixed(1)} s)`);

  // 3. baselines on the validation split
  const V = tok.vocabSize;
  const unigram = ngramPerplexity(trainUnigram(streams.train.ids, V), streams.validation.ids, streams.validation.words);
  const bigramModel = trainBigramKneserNey(streams.train.ids, V);
  const bigram = ngramPerplexity(bigramModel, streams.validation.ids, streams.validation.words);
  say(`[${recipe.name}] validation perplexity per token / per word: unigram ${unigram.perTokenPerplexity.toFixed(2)} / ${unigram.perWordPerplexity.toFixed(2)}, bigram ${bigram.perTokenPerplexity.toFixed(2)} / ${bigram.perWordPerplexity.toFixed(2)}`);

  // 4. pretraining
  const config = llamaConfig({ ...recipe.dims, vocabSize: V, bosTokenId: tok.bosId, eosTokenId: tok.eosId, padTokenId: tok.padId });
  const logPath = join(work, 'train_log.jsonl');
  rmSync(logPath, { force: true });
  const ckptDir = join(work, 'checkpoint');
  say(`[${recipe.name}] pretraining ${countParams(config)} parameters for ${train.steps} steps of ${train.batchSize}x${train.seqLen} tokens`);
  const res = await pretrain({
    config,
    train: streams.train.ids,
    validation: streams.validation.ids,
    ...train,
    threads: args.threads,
    onLog: (row) => {
      appendFileSync(logPath, JSON.stringify({ ...row, time: (Date.now() - t0) / 1000 }) + '\n');
      if (row['eval/loss'] !== undefined) say(`[${recipe.name}] step ${row.step}: loss ${row.loss.toFixed(3)}, eval/loss ${row['eval/loss'].toFixed(3)}, ${row['perf/tokens_per_s'].toFixed(0)} tokens/s`);
    },
    onCheckpoint: (_step, w) => {
      exportHfFolder(ckptDir, { config, weights: w, tokenizerDir: tokDir });
    },
  });

  // 5. export + perplexity of the exported model (our runtime) on the validation split
  const out = resolve(args.out, recipe.name);
  const generation = { max_new_tokens: 64, do_sample: true, temperature: 0.8, top_k: 50, top_p: 0.95 };
  exportHfFolder(out, { config, weights: res.weights, tokenizerDir: tokDir, generation });
  const lm = await CausalLm.load(out, { threads: args.threads });
  t = Date.now();
  const model = await streamPerplexity(lm, streams.validation.ids, streams.validation.words, { window: train.seqLen });
  await lm.dispose();
  say(`[${recipe.name}] exported model validation perplexity per token ${model.perTokenPerplexity.toFixed(2)}, per word ${model.perWordPerplexity.toFixed(2)} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  const run = {
    name: recipe.name,
    description: recipe.description,
    git_commit: gitCommit(),
    command: `npm run train:base -- --only ${recipe.name}${args.steps ? ` --steps ${args.steps}` : ''}`,
    corpus: recipe.corpus,
    documents: { train: texts.train.length, validation: texts.validation.length, test: texts.test.length },
    tokenizer: { vocab_size: V, merges: bpe.merges.length, distinct_words: bpe.distinctWords, train_seconds: tokenizerSeconds },
    tokens: { train: streams.train.ids.length, validation: streams.validation.ids.length },
    words: { train: streams.train.words, validation: streams.validation.words },
    parameters: countParams(config),
    training: { ...train, optimizer: 'AdamW(betas 0.9/0.95), cosine schedule with linear warmup', threads: args.threads ?? null },
    tokens_seen: res.tokensSeen,
    wall_seconds: res.wallSeconds,
    validation: {
      note: 'Per-word perplexity = exp(total NLL / (whitespace words + one end-of-text per document)). Model: sliding windows of seq_len with stride seq_len/2.',
      model: model,
      unigram,
      bigram: { ...bigram, discount: bigramModel.discount },
    },
    total_seconds: (Date.now() - t0) / 1000,
    node: process.version,
    finished: new Date().toISOString(),
  };
  writeFileSync(join(out, 'training_run.json'), JSON.stringify(run, null, 2) + '\n');
  writeFileSync(join(out, 'train_log.jsonl'), readFileSync(logPath));
  return run;
}

export async function baseTrain(argv: string[]): Promise<number> {
  const args = parseBaseTrainArgs(argv);
  const names = args.only.length ? args.only : Object.keys(RECIPES);
  for (const n of names) {
    if (!existsSync(resolve(args.out))) mkdirSync(resolve(args.out), { recursive: true });
    await trainOne(RECIPES[n], args);
  }
  return 0;
}
