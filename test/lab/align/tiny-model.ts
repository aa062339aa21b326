// A tiny random LLaMA with a small Brown BPE tokenizer, exported as an HF folder, for the LM alignment tests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng';
import { loadBrown } from '../../../src/lab/lm/data/brown';
import { exportHfFolder } from '../../../src/lab/lm/hf-folder';
import { llamaConfig } from '../../../src/lab/lm/llama/config';
import { initLlamaWeights } from '../../../src/lab/lm/llama/weights';
import { trainByteLevelBpe, writeTokenizerFiles } from '../../../src/lab/lm/tokenizer/bpe-trainer';

export function makeTinyModel(): string {
  const root = mkdtempSync(join(tmpdir(), 'align-tiny-'));
  const tokDir = join(root, 'tok');
  const bpe = trainByteLevelBpe(
    loadBrown()
      .slice(0, 10)
      .map((d) => d.sentences.join('\n')),
    { vocabSize: 300 },
  );
  writeTokenizerFiles(tokDir, bpe, { modelMaxLength: 64 });
  const config = llamaConfig({ vocabSize: 300, hiddenSize: 32, intermediateSize: 48, layers: 2, heads: 4, kvHeads: 4, maxPositions: 64, tieEmbeddings: true, bosTokenId: 298, eosTokenId: 298, padTokenId: 299 });
  const dir = join(root, 'model');
  exportHfFolder(dir, { config, weights: initLlamaWeights(config, new Rng(3), 0.25), tokenizerDir: tokDir });
  return dir;
}
