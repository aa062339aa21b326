// The bundled models: what they are trained on and how (npm run train:base).
import { brownTexts, type Split } from './data/brown';
import { codeTexts } from './data/code-corpus';
import type { LlamaDims } from './llama/config';
import type { PretrainHyperparams } from './pretrain';

export interface ModelRecipe {
  name: string;
  description: string;
  corpus: 'brown' | 'code';
  vocabSize: number;
  dims: Omit<LlamaDims, 'vocabSize' | 'bosTokenId' | 'eosTokenId' | 'padTokenId'>;
  train: PretrainHyperparams;
}

const SMALL_DIMS = { hiddenSize: 128, intermediateSize: 384, layers: 4, heads: 4, kvHeads: 4, maxPositions: 256, tieEmbeddings: true };
const SMALL_TRAIN = {
  steps: 1000,
  batchSize: 8,
  seqLen: 256,
  lr: 3e-3,
  minLr: 3e-4,
  warmup: 60,
  weightDecay: 0.1,
  maxGradNorm: 1,
  seed: 0,
  evalEvery: 100,
  evalBatches: 4,
};

export const RECIPES: Record<string, ModelRecipe> = {
  'prox-text-small': {
    name: 'prox-text-small',
    description: 'LLaMA-style decoder (1.4M parameters) trained on the Brown corpus (train split).',
    corpus: 'brown',
    vocabSize: 4096,
    dims: SMALL_DIMS,
    train: SMALL_TRAIN,
  },
  'prox-code-small': {
    name: 'prox-code-small',
    description: 'LLaMA-style decoder (1.4M parameters) trained on JavaScript/TypeScript (see models/DATA.md).',
    corpus: 'code',
    vocabSize: 4096,
    dims: SMALL_DIMS,
    train: SMALL_TRAIN,
  },
};

export function corpusTexts(corpus: ModelRecipe['corpus'], split: Split): string[] {
  return corpus === 'brown' ? brownTexts(split) : codeTexts(split);
}
