// Pretraining on the numeric core, and the exported ONNX model against the core's own graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng';
import { llamaLogits } from '../../../src/core/nn';
import { compileEval } from '../../../src/core/optim';
import { CausalLm } from '../../../src/lab/lm/causal-lm';
import { exportHfFolder } from '../../../src/lab/lm/hf-folder';
import { llamaConfig } from '../../../src/lab/lm/llama/config';
import { pretrain, storeFromWeights, toCoreConfig } from '../../../src/lab/lm/pretrain';
import { trainByteLevelBpe, writeTokenizerFiles } from '../../../src/lab/lm/tokenizer/bpe-trainer';
import { generate } from '../../../src/lab/lm/sampler';

const config = llamaConfig({ vocabSize: 260, hiddenSize: 32, intermediateSize: 64, layers: 2, heads: 4, kvHeads: 4, maxPositions: 32, tieEmbeddings: true, eosTokenId: 258, bosTokenId: 258, padTokenId: 259 });

/** A stream with structure a model can learn: repeated counting phrases. */
function patternStream(n: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const out = new Int32Array(n);
  let i = 0;
  while (i < n) {
    const start = 10 + rng.int(20);
    for (let k = 0; k < 8 && i < n; k++) out[i++] = start + k;
    if (i < n) out[i++] = 258;
  }
  return out;
}

test('pretraining lowers validation loss; exported ONNX logits equal the core graph to 1e-4; greedy continues the pattern', async () => {
  const logs: Record<string, number>[] = [];
  const res = await pretrain({
    config,
    train: patternStream(4000, 1),
    validation: patternStream(600, 2),
    steps: 60,
    batchSize: 8,
    seqLen: 32,
    lr: 1e-2,
    minLr: 1e-3,
    warmup: 5,
    weightDecay: 0.01,
    maxGradNorm: 1,
    seed: 0,
    evalEvery: 30,
    evalBatches: 2,
    threads: 1,
    onLog: (r) => logs.push(r),
  });
  const evals = logs.filter((r) => r['eval/loss'] !== undefined).map((r) => r['eval/loss']);
  assert.equal(evals.length, 2);
  assert.ok(logs[0].loss > 5, `initial loss ${logs[0].loss} should be near ln(260) = 5.56`);
  assert.ok(res.finalValLoss < 2.5, `validation loss ${res.finalValLoss}`);

  // Same ids through the core's forward graph and through the exported model.
  const store = storeFromWeights(config, res.weights, 0);
  const core = toCoreConfig(config);
  const T = 12;
  const ids = [258, 12, 13, 14, 15, 16, 17, 18, 19, 258, 20, 21];
  const evalProg = await compileEval({
    params: store,
    inputs: { input_ids: { dtype: 'int64', shape: [1, T] } },
    build: (s, i) => ({ logits: llamaLogits(s, core, i.input_ids) }),
    runtime: { threads: 1 },
  });
  const coreLogits = (await evalProg.run({ input_ids: BigInt64Array.from(ids.map(BigInt)) })).logits.data as Float32Array;
  const root = mkdtempSync(join(tmpdir(), 'pretrain-'));
  try {
    const tokDir = join(root, 'tok');
    writeTokenizerFiles(tokDir, trainByteLevelBpe(['a b c'], { vocabSize: 260 }), { modelMaxLength: 32 });
    exportHfFolder(join(root, 'm'), { config, weights: res.weights, tokenizerDir: tokDir });
    const lm = await CausalLm.load(join(root, 'm'), { threads: 1 });
    const out = await lm.forward(
      BigInt64Array.from(ids.map(BigInt)),
      1,
      T,
      new BigInt64Array(T).fill(1n),
      BigInt64Array.from(ids.map((_, i) => BigInt(i))),
      null,
      0,
    );
    let maxDiff = 0;
    for (let i = 0; i < coreLogits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(coreLogits[i] - out.logits[i]));
    assert.ok(maxDiff < 1e-4, `max |core - export| = ${maxDiff}`);
    // The model learned to count: 20 21 -> 22 23 ...
    const [g] = await generate(lm, [ids], { maxNewTokens: 4, temperature: 0, stopTokens: [999] });
    assert.deepEqual(g.tokens.slice(0, 3), [22, 23, 24]);
    await lm.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
