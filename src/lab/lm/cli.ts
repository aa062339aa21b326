// `proxlab lm …`: train-tokenizer, pretrain, sample, eval, export, import.
// Exit codes: 0 success, 1 failure while running, 2 bad usage (the message names the flag).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CausalLm } from './causal-lm';
import { brownTexts, SPLITS, type Split } from './data/brown';
import { codeTexts } from './data/code-corpus';
import { encodeStream } from './data/token-stream';
import { streamPerplexity } from './evaluate';
import { exportHfFolder, importHfFolder, MODEL_FILE } from './hf-folder';
import { countParams } from './llama/config';
import { resolveModel } from './models';

async function modelDir(ref: string): Promise<string> {
  try {
    return await resolveModel(ref);
  } catch (e) {
    throw new UsageError(`--model: ${(e as Error).message}`);
  }
}
import { pretrain } from './pretrain';
import { RECIPES } from './recipes';
import { generateText, validateSampleOptions } from './sampler';
import { ENDOFTEXT, PAD, trainByteLevelBpe, writeTokenizerFiles } from './tokenizer/bpe-trainer';
import { parseBaseTrainArgs, trainOne } from './train-base';

export interface LmOut {
  log(s: string): void;
  err(s: string): void;
}
const stdio: LmOut = { log: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') };

class UsageError extends Error {}

type FlagKind = 'string' | 'int' | 'number' | 'bool' | 'strings';
type FlagSpec = Record<string, { kind: FlagKind; help: string; default?: string | number | boolean }>;
type Flags = Record<string, string | number | boolean | string[] | undefined>;

function parseFlags(argv: string[], spec: FlagSpec): Flags {
  const out: Flags = {};
  for (const [k, s] of Object.entries(spec)) if (s.default !== undefined) out[k] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (flags start with --)`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const s = spec[name];
    if (!s) throw new UsageError(`--${name}: unknown flag (known: ${Object.keys(spec).map((k) => '--' + k).join(', ')})`);
    if (s.kind === 'bool') {
      out[name] = true;
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined) throw new UsageError(`--${name}: expected a value`);
    if (s.kind === 'int') {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new UsageError(`--${name}: expected an integer, got ${JSON.stringify(v)}`);
      out[name] = n;
    } else if (s.kind === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new UsageError(`--${name}: expected a number, got ${JSON.stringify(v)}`);
      out[name] = n;
    } else if (s.kind === 'strings') out[name] = [...((out[name] as string[] | undefined) ?? []), v];
    else out[name] = v;
  }
  return out;
}

function required(f: Flags, name: string): string {
  const v = f[name];
  if (v === undefined || v === '') throw new UsageError(`--${name}: required`);
  return String(v);
}

function positive(f: Flags, name: string): number {
  const v = f[name] as number;
  if (!(v >= 1)) throw new UsageError(`--${name}: expected an integer >= 1, got ${v}`);
  return v;
}

function helpText(usage: string, summary: string, spec: FlagSpec): string {
  const lines = Object.entries(spec).map(([k, s]) => {
    const left = `  --${k}${s.kind === 'bool' ? '' : ` ${s.kind === 'int' || s.kind === 'number' ? 'N' : 'VALUE'}`}`;
    return `${left.padEnd(26)}${s.help}${s.default !== undefined ? ` (default ${s.default})` : ''}`;
  });
  return `Usage: ${usage}\n\n${summary}\n\nOptions:\n${lines.join('\n')}\n  --help                  this help`;
}

/** Texts from a corpus name (its split) or a text file (the whole file is one document). */
function readTexts(corpus: string, split: Split): string[] {
  if (corpus === 'brown') return brownTexts(split);
  if (corpus === 'code') return codeTexts(split);
  const path = resolve(corpus);
  if (!existsSync(path)) throw new UsageError(`--corpus: ${JSON.stringify(corpus)} is neither brown, code nor an existing file`);
  return [readFileSync(path, 'utf8')];
}

function splitFlag(f: Flags): Split {
  const s = String(f.split);
  if (!(SPLITS as readonly string[]).includes(s)) throw new UsageError(`--split: expected one of ${SPLITS.join(', ')}, got ${JSON.stringify(s)}`);
  return s as Split;
}

interface Sub {
  usage: string;
  /** One line for the subcommand list. */
  short: string;
  summary: string;
  spec: FlagSpec;
  run(f: Flags, out: LmOut): Promise<number>;
}

const SUBS: Record<string, Sub> = {
  'train-tokenizer': {
    short: 'train a byte-level BPE tokenizer on a corpus or text file',
    usage: 'proxlab lm train-tokenizer --corpus brown|code|FILE --out DIR [--vocab-size N]',
    summary: 'Train a byte-level BPE tokenizer (GPT-2 byte alphabet, <|endoftext|> and <|pad|>) and write tokenizer.json + tokenizer_config.json.',
    spec: {
      corpus: { kind: 'string', help: 'brown, code, or a UTF-8 text file' },
      out: { kind: 'string', help: 'output folder' },
      'vocab-size': { kind: 'int', help: 'vocabulary size (bytes + merges + specials)', default: 4096 },
      'min-frequency': { kind: 'int', help: 'stop when the best pair is rarer', default: 2 },
      'max-length': { kind: 'int', help: 'model_max_length in tokenizer_config.json', default: 256 },
    },
    async run(f, out) {
      const texts = readTexts(required(f, 'corpus'), 'train');
      const dir = resolve(required(f, 'out'));
      const vocab = f['vocab-size'] as number;
      if (vocab < 258 || vocab > 65535) throw new UsageError(`--vocab-size: expected 258..65535, got ${vocab}`);
      const t = Date.now();
      const bpe = trainByteLevelBpe(texts, { vocabSize: vocab, minFrequency: positive(f, 'min-frequency'), specialTokens: [ENDOFTEXT, PAD] });
      writeTokenizerFiles(dir, bpe, { modelMaxLength: positive(f, 'max-length') });
      out.log(`wrote ${join(dir, 'tokenizer.json')}: ${bpe.tokens.length} tokens, ${bpe.merges.length} merges, ${bpe.distinctWords} distinct words, ${((Date.now() - t) / 1000).toFixed(1)} s`);
      return 0;
    },
  },
  pretrain: {
    short: 'train a bundled model by its recipe, or continue training a model',
    usage: 'proxlab lm pretrain --recipe NAME [--steps N] [--threads N] [--out DIR]\n       proxlab lm pretrain --model REF --corpus brown|code|FILE --out DIR --steps N',
    summary:
      'Train a bundled model from scratch by its recipe (tokenizer, baselines, pretraining, export, training_run.json), or continue training a model (bundled name, folder, Hub id) on a corpus and export the result.',
    spec: {
      recipe: { kind: 'string', help: `bundled recipe: ${Object.keys(RECIPES).join(', ')}` },
      model: { kind: 'string', help: 'model to continue training (instead of --recipe)' },
      corpus: { kind: 'string', help: 'brown, code or a text file (with --model)' },
      out: { kind: 'string', help: 'output folder (recipes: parent folder, default models)' },
      steps: { kind: 'int', help: 'optimizer steps' },
      'batch-size': { kind: 'int', help: 'sequences per step (with --model)', default: 8 },
      'seq-len': { kind: 'int', help: 'tokens per sequence (with --model)', default: 128 },
      lr: { kind: 'number', help: 'peak learning rate (with --model)', default: 1e-3 },
      seed: { kind: 'int', help: 'random seed (with --model)', default: 0 },
      threads: { kind: 'int', help: 'onnxruntime intra-op threads', default: 1 },
    },
    async run(f, out) {
      if (f.recipe !== undefined) {
        const argv = ['--only', String(f.recipe)];
        if (f.steps !== undefined) argv.push('--steps', String(positive(f, 'steps')));
        if (f.threads !== undefined) argv.push('--threads', String(positive(f, 'threads')));
        if (f.out !== undefined) argv.push('--out', String(f.out));
        let args;
        try {
          args = parseBaseTrainArgs(argv);
        } catch (e) {
          throw new UsageError((e as Error).message.replace('--only', '--recipe'));
        }
        await trainOne(RECIPES[String(f.recipe)], args, out.log);
        return 0;
      }
      const ref = required(f, 'model');
      const corpus = required(f, 'corpus');
      const dest = resolve(required(f, 'out'));
      const steps = positive(f, 'steps');
      const dir = await modelDir(ref);
      const { config, weights } = importHfFolder(dir);
      const lm = await CausalLm.load(ensureOnnx(dir));
      const T = Math.min(positive(f, 'seq-len'), config.max_position_embeddings);
      const train = encodeStream(lm.tokenizer, readTexts(corpus, 'train')).ids;
      const validation = corpus === 'brown' || corpus === 'code' ? encodeStream(lm.tokenizer, readTexts(corpus, 'validation')).ids : train;
      await lm.dispose();
      const lr = f.lr as number;
      const res = await pretrain({
        config,
        init: weights,
        train,
        validation,
        steps,
        batchSize: positive(f, 'batch-size'),
        seqLen: T,
        lr,
        minLr: lr / 10,
        warmup: Math.min(50, Math.floor(steps / 10)),
        weightDecay: 0.1,
        maxGradNorm: 1,
        seed: f.seed as number,
        threads: f.threads as number | undefined,
        evalEvery: Math.max(1, Math.floor(steps / 10)),
        evalBatches: 2,
        onLog: (r) => r['eval/loss'] !== undefined && out.log(`step ${r.step}: loss ${r.loss.toFixed(3)} eval/loss ${r['eval/loss'].toFixed(3)}`),
      });
      exportHfFolder(dest, { config, weights: res.weights, tokenizerDir: dir });
      out.log(`wrote ${dest} (${countParams(config)} parameters, validation loss ${res.finalValLoss.toFixed(3)})`);
      return 0;
    },
  },
  sample: {
    short: 'sample continuations (batched, KV cache, seeded)',
    usage: 'proxlab lm sample --model REF --prompt TEXT [--n N] [--max-tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S]',
    summary: 'Sample continuations with the KV-cache sampler (batched: --prompt may repeat, --n samples per prompt).',
    spec: {
      model: { kind: 'string', help: 'bundled name, folder or Hub id', default: 'prox-text-small' },
      prompt: { kind: 'strings', help: 'prompt text (repeatable)' },
      n: { kind: 'int', help: 'samples per prompt', default: 1 },
      'max-tokens': { kind: 'int', help: 'new tokens at most', default: 48 },
      temperature: { kind: 'number', help: '0 = greedy', default: 0.8 },
      'top-k': { kind: 'int', help: '0 = off', default: 50 },
      'top-p': { kind: 'number', help: '1 = off', default: 0.95 },
      stop: { kind: 'strings', help: 'stop string (one token; repeatable; default <|endoftext|>)' },
      seed: { kind: 'int', help: 'random seed', default: 0 },
      threads: { kind: 'int', help: 'onnxruntime intra-op threads', default: 1 },
      json: { kind: 'bool', help: 'JSON lines with tokens and log-probs' },
    },
    async run(f, out) {
      const prompts = (f.prompt as string[] | undefined) ?? [];
      if (!prompts.length) throw new UsageError('--prompt: required');
      const n = positive(f, 'n');
      const opts = {
        maxNewTokens: f['max-tokens'] as number,
        temperature: f.temperature as number,
        topK: f['top-k'] as number,
        topP: f['top-p'] as number,
        seed: f.seed as number,
      };
      try {
        validateSampleOptions(opts);
      } catch (e) {
        const m = (e as Error).message;
        const flag = { maxNewTokens: 'max-tokens', temperature: 'temperature', topK: 'top-k', topP: 'top-p', seed: 'seed' }[m.split(':')[0]] ?? '';
        throw new UsageError(`--${flag}: ${m.split(': ').slice(1).join(': ')}`);
      }
      const lm = await CausalLm.load(ensureOnnx(await modelDir(String(f.model))), { threads: f.threads as number | undefined });
      const stopTokens = ((f.stop as string[] | undefined) ?? []).map((s) => {
        const ids = lm.tokenizer.encode(s);
        if (ids.length !== 1) throw new UsageError(`--stop: ${JSON.stringify(s)} is ${ids.length} tokens, expected exactly one`);
        return ids[0];
      });
      const all = prompts.flatMap((p) => Array.from({ length: n }, () => p));
      const gens = await generateText(lm, all, { ...opts, stopTokens: stopTokens.length ? stopTokens : undefined });
      gens.forEach((g, i) => {
        if (f.json) out.log(JSON.stringify({ prompt: all[i], text: g.text, tokens: g.tokens, logprobs: g.logprobs, finish_reason: g.finishReason }));
        else out.log(`${all[i]}${g.text}\n---`);
      });
      await lm.dispose();
      return 0;
    },
  },
  eval: {
    short: 'perplexity of a text file or corpus split',
    usage: 'proxlab lm eval --model REF (--text FILE | --corpus brown|code [--split validation])',
    summary: 'Perplexity (per token and per word) of a text file or a corpus split, with sliding windows.',
    spec: {
      model: { kind: 'string', help: 'bundled name, folder or Hub id', default: 'prox-text-small' },
      text: { kind: 'string', help: 'UTF-8 text file (one document)' },
      corpus: { kind: 'string', help: 'brown or code' },
      split: { kind: 'string', help: 'train, validation or test', default: 'validation' },
      window: { kind: 'int', help: 'window length (default: the model maximum)' },
      threads: { kind: 'int', help: 'onnxruntime intra-op threads', default: 1 },
      json: { kind: 'bool', help: 'print JSON' },
    },
    async run(f, out) {
      let texts: string[];
      if (f.text !== undefined) {
        const p = resolve(String(f.text));
        if (!existsSync(p)) throw new UsageError(`--text: ${p} not found`);
        texts = [readFileSync(p, 'utf8')];
      } else if (f.corpus === 'brown' || f.corpus === 'code') texts = readTexts(String(f.corpus), splitFlag(f));
      else if (f.corpus !== undefined) throw new UsageError(`--corpus: expected brown or code, got ${JSON.stringify(f.corpus)}`);
      else throw new UsageError('--text: required (or --corpus)');
      const lm = await CausalLm.load(ensureOnnx(await modelDir(String(f.model))), { threads: f.threads as number | undefined });
      const s = encodeStream(lm.tokenizer, texts);
      const window = f.window !== undefined ? positive(f, 'window') : undefined;
      const r = await streamPerplexity(lm, s.ids, s.words, { window });
      await lm.dispose();
      if (f.json) out.log(JSON.stringify(r));
      else out.log(`tokens ${r.tokens}, words ${s.words}: perplexity ${r.perTokenPerplexity.toFixed(3)} per token, ${r.perWordPerplexity.toFixed(3)} per word (NLL ${r.nllPerToken.toFixed(4)} nats/token)`);
      return 0;
    },
  },
  export: {
    short: 'write a model as a Hugging Face folder with onnx/model.onnx',
    usage: 'proxlab lm export --model REF --out DIR',
    summary: 'Write a model (any supported folder, e.g. config.json + model.safetensors) as a complete Hugging Face folder with onnx/model.onnx (KV cache) that @huggingface/transformers loads offline.',
    spec: {
      model: { kind: 'string', help: 'bundled name, folder or Hub id' },
      out: { kind: 'string', help: 'output folder' },
    },
    async run(f, out) {
      const { dest, model, bytes } = await rewriteAsHfFolder(f);
      out.log(`wrote ${dest} (${MODEL_FILE}: ${(bytes / 1e6).toFixed(1)} MB, weights from ${model.source})`);
      return 0;
    },
  },
  import: {
    short: 'import a LLaMA-family folder or Hub id (safetensors or ONNX weights)',
    usage: 'proxlab lm import --model REF --out DIR',
    summary: 'Import a LLaMA-family model (local folder or Hub id, weights from model.safetensors or onnx/model.onnx initializers) into a folder our runtime samples from and trains.',
    spec: {
      model: { kind: 'string', help: 'folder or Hub id (e.g. HuggingFaceTB/SmolLM2-135M)' },
      out: { kind: 'string', help: 'output folder' },
    },
    async run(f, out) {
      const { dest, model } = await rewriteAsHfFolder(f);
      out.log(`imported ${countParams(model.config)} parameters from ${model.source} into ${dest}`);
      return 0;
    },
  },
};

/** --model (any supported folder or Hub id) written to --out as a complete HF folder with onnx/model.onnx. */
async function rewriteAsHfFolder(f: Flags): Promise<{ dest: string; model: ReturnType<typeof importHfFolder>; bytes: number }> {
  const dir = await modelDir(required(f, 'model'));
  const dest = resolve(required(f, 'out'));
  const model = importHfFolder(dir);
  const bytes = exportHfFolder(dest, { config: model.config, weights: model.weights, tokenizerDir: dir, generation: readGeneration(dir) });
  return { dest, model, bytes };
}

function readGeneration(dir: string): Record<string, number | boolean> | undefined {
  const p = join(dir, 'generation_config.json');
  if (!existsSync(p)) return undefined;
  const g = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  const keep: Record<string, number | boolean> = {};
  for (const k of ['max_new_tokens', 'do_sample', 'temperature', 'top_k', 'top_p']) if (typeof g[k] === 'number' || typeof g[k] === 'boolean') keep[k] = g[k] as number | boolean;
  return keep;
}

function ensureOnnx(dir: string): string {
  if (!existsSync(join(dir, MODEL_FILE))) throw new Error(`${dir}: no ${MODEL_FILE}; convert it first with: proxlab lm import --model ${dir} --out <folder>`);
  return dir;
}

const MAIN_HELP = `Usage: proxlab lm <subcommand> [options]

Subcommands:
${Object.entries(SUBS)
  .map(([k, s]) => `  ${k.padEnd(17)}${s.short}`)
  .join('\n')}

Models: ${Object.keys(RECIPES).join(', ')} (bundled), a folder, or a Hub id when online.
Run proxlab lm <subcommand> --help for its options.`;

export async function lmCommand(argv: string[], out: LmOut = stdio): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    out.log(MAIN_HELP);
    return sub ? 0 : 2;
  }
  const s = SUBS[sub];
  if (!s) {
    out.err(`proxlab lm: unknown subcommand ${JSON.stringify(sub)} (known: ${Object.keys(SUBS).join(', ')})`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out.log(helpText(s.usage, s.summary, s.spec));
    return 0;
  }
  try {
    const flags = parseFlags(rest, s.spec);
    return await s.run(flags, out);
  } catch (e) {
    if (e instanceof UsageError) {
      out.err(`proxlab lm ${sub}: ${e.message}`);
      return 2;
    }
    out.err(`proxlab lm ${sub}: ${(e as Error).message}`);
    return 1;
  }
}
