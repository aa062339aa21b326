// Loads the PyTorch golden fixtures written by scripts/torch-ref/make_fixtures.py.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NpyArray, parseNpy } from '../../../src/core/io/npy';
import { ParamStore } from '../../../src/core/nn/params';
import type { Gpt2Config } from '../../../src/core/nn/gpt2';
import type { LlamaConfig } from '../../../src/core/nn/llama';

// parseNpy is given a plain Uint8Array copy: on a Node Buffer, .slice() is a view of the whole
// file, which would put the header bytes in front of the data.
function readNpy(path: string): NpyArray {
  return parseNpy(new Uint8Array(readFileSync(path)), path);
}

export const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'torch');

export interface TorchCase {
  dir: string;
  config: any;
  params: ParamStore;
  inputIds: BigInt64Array;
  labels: BigInt64Array;
  B: number;
  T: number;
  read(file: string): Float32Array | Float64Array;
}

export function fixtureExists(name: string): boolean {
  return existsSync(join(FIXTURES, name, 'config.json'));
}

export function loadCase(name: string, prefix = 'param.'): TorchCase {
  const dir = join(FIXTURES, name);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const params = new ParamStore();
  for (const p of config.params as { name: string; shape: number[] }[]) {
    const a = readNpy(join(dir, `${prefix}${p.name}.npy`));
    params.set(p.name, p.shape, Float32Array.from(a.data as Float32Array));
  }
  const ids = readNpy(join(dir, 'input_ids.npy'));
  const labels = readNpy(join(dir, 'labels.npy'));
  return {
    dir,
    config,
    params,
    inputIds: ids.data as BigInt64Array,
    labels: labels.data as BigInt64Array,
    B: ids.shape[0],
    T: ids.shape[1],
    read: (file) => readNpy(join(dir, file)).data as Float32Array | Float64Array,
  };
}

export function gpt2ConfigOf(m: any): Gpt2Config {
  return { vocabSize: m.vocab_size, nPositions: m.n_positions, nEmbd: m.n_embd, nLayer: m.n_layer, nHead: m.n_head, layerNormEps: m.layer_norm_epsilon };
}

export function llamaConfigOf(m: any): LlamaConfig {
  return {
    vocabSize: m.vocab_size,
    hiddenSize: m.hidden_size,
    intermediateSize: m.intermediate_size,
    numLayers: m.num_hidden_layers,
    numHeads: m.num_attention_heads,
    numKvHeads: m.num_key_value_heads,
    rmsNormEps: m.rms_norm_eps,
    ropeTheta: m.rope_theta,
    maxPositionEmbeddings: m.max_position_embeddings,
    tieWordEmbeddings: m.tie_word_embeddings,
  };
}

/** ||a - b|| / ||b|| */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}
