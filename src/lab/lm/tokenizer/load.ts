// Loading a tokenizer folder (tokenizer.json + tokenizer_config.json) with @huggingface/tokenizers:
// the run-time tokenizer of the lab, the same code path @huggingface/transformers uses.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

export interface LoadedTokenizer {
  tokenizer: Tokenizer;
  config: Record<string, unknown>;
  vocabSize: number;
  bosId: number | null;
  eosId: number | null;
  padId: number | null;
  /** Token ids without special tokens (no BOS). */
  encode(text: string): number[];
  /** Token ids with the post-processor's special tokens (BOS when add_bos_token). */
  encodeWithSpecials(text: string): number[];
  decode(ids: ArrayLike<number>, skipSpecial?: boolean): string;
}

function readJson(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new Error(`${path}: file not found`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

function tokenName(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

export function loadTokenizer(dir: string): LoadedTokenizer {
  const json = readJson(join(dir, 'tokenizer.json'));
  const cfgPath = join(dir, 'tokenizer_config.json');
  const config = existsSync(cfgPath) ? readJson(cfgPath) : {};
  for (const key of ['model', 'decoder', 'post_processor', 'pre_tokenizer', 'normalizer']) {
    if (!(key in json)) throw new Error(`${join(dir, 'tokenizer.json')}: missing "${key}"`);
  }
  const tokenizer = new Tokenizer(json, config);
  const id = (key: string) => {
    const name = tokenName(config[key]);
    return name === null ? null : (tokenizer.token_to_id(name) ?? null);
  };
  const model = json.model as { vocab?: Record<string, number> };
  let vocabSize = 0;
  for (const v of Object.values(model.vocab ?? {})) vocabSize = Math.max(vocabSize, v + 1);
  for (const t of (json.added_tokens as { id: number }[] | undefined) ?? []) vocabSize = Math.max(vocabSize, t.id + 1);
  return {
    tokenizer,
    config,
    vocabSize,
    bosId: id('bos_token'),
    eosId: id('eos_token'),
    padId: id('pad_token'),
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    encodeWithSpecials: (text) => tokenizer.encode(text, { add_special_tokens: true }).ids,
    decode: (ids, skipSpecial = false) =>
      ids.length === 0
        ? ''
        : tokenizer.decode(Array.from(ids), { skip_special_tokens: skipSpecial, clean_up_tokenization_spaces: false }),
  };
}
