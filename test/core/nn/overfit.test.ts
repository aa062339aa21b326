// A 2-layer GPT memorizes a 256-token random sequence (loss < 0.05) with the one-graph AdamW step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParamStore } from '../../../src/core/nn/params';
import { gpt2Logits } from '../../../src/core/nn/gpt2';
import { causalLmLoss } from '../../../src/core/nn/losses';
import { adamw } from '../../../src/core/optim/adamw';
import { cosineSchedule } from '../../../src/core/optim/schedules';
import { compileTrainStep } from '../../../src/core/optim/train-step';
import { Rng } from '../../../src/core/rng';

test('2-layer GPT memorizes a 256-token sequence to loss < 0.05', async (t) => {
  const T = 256, V = 64, steps = 400;
  const rng = new Rng(7);
  const ids = BigInt64Array.from({ length: T }, () => BigInt(rng.int(V)));
  const cfg = { vocabSize: V, nPositions: T, nEmbd: 64, nLayer: 2, nHead: 4 };
  const params = new ParamStore(new Rng(0));
  const step = await compileTrainStep({
    params,
    batch: { ids: { dtype: 'int64', shape: [1, T] } },
    loss: (s, b) => causalLmLoss(gpt2Logits(s, cfg, b.ids), b.ids),
    optimizer: adamw({ betas: [0.9, 0.99], weightDecay: 0 }),
    maxGradNorm: 1,
  });
  const lr = cosineSchedule(1e-2, steps, 20, 1e-3);
  const first = (await step.run({ ids }, { lr: lr(0) })).loss;
  let loss = first;
  let k = 1;
  for (; k < steps && loss >= 0.05; k++) loss = (await step.run({ ids }, { lr: lr(k) })).loss;
  t.diagnostic(`loss ${first.toFixed(3)} -> ${loss.toFixed(4)} after ${k} steps`);
  assert.ok(first > 3.5, `initial loss ${first} is near ln(64)`);
  assert.ok(loss < 0.05, `final loss ${loss}`);
});
