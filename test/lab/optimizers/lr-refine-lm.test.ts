import { test } from 'node:test';
import assert from 'node:assert/strict';
import { causalLmLoss, llamaLogits, ParamStore } from '../../../src/core/nn';
import { adamw, compileTrainStep } from '../../../src/core/optim';
import { readNpy } from '../../../src/core/io/npy';
import { Rng } from '../../../src/core/rng';
import { lrRefine, namedSchedule } from '../../../src/lab/optimizers/lr-refine';
import { trainLmWithSchedule, withGradNormRecorder, type LmMemberOptions } from '../../../src/lab/optimizers/lr-refine-lm';
import { loadCorpusBytes, modelConfig, rootSchema } from '../../../src/lab/optimizers/root';
import { metricNames, runForTest } from './helpers';

const TINY: LmMemberOptions = { hiddenSize: 16, layers: 1, heads: 2, intermediateSize: 32, seqLen: 16, batchSize: 4, weightDecay: 0.1, maxGradNorm: 0, evalBatches: 2, threads: 1, corpusFile: '' };

test('recorded ℓ2 gradient norm equals the core step\'s global norm (in-graph clipping output); ℓ2 ≤ ℓ1 ≤ √n·ℓ2; both AdamW placements give the same step', async () => {
  const cfg = modelConfig(rootSchema.parse({ hiddenSize: 16, layers: 1, heads: 2, intermediateSize: 32, seqLen: 16 }));
  const B = 2, L = 16;
  const data = loadCorpusBytes('');
  const ids = BigInt64Array.from({ length: B * L }, (_, i) => BigInt(data.train[1000 + i]));
  const opt = () => adamw({ betas: [0.9, 0.95], weightDecay: 0.1 });
  const build = async (store: ParamStore, placement: 'graph' | 'js', o = opt()) =>
    compileTrainStep({ params: store, batch: { input_ids: { dtype: 'int64', shape: [B, L] } }, loss: (s, b) => causalLmLoss(llamaLogits(s, cfg, b.input_ids), b.input_ids), optimizer: o, placement, maxGradNorm: placement === 'graph' ? 1e12 : undefined, runtime: { threads: 1 } });
  const storeG = new ParamStore(new Rng(5));
  const storeJ = new ParamStore(new Rng(5));
  const graphStep = await build(storeG, 'graph');
  const rec = withGradNormRecorder(opt(), 3);
  const jsStep = await build(storeJ, 'js', rec.optimizer);
  for (let t = 0; t < 2; t++) {
    const g = await graphStep.run({ input_ids: ids }, { lr: 0.01 });
    await jsStep.run({ input_ids: ids }, { lr: 0.01 });
    const l2 = Math.sqrt(rec.sq[t]);
    assert.ok(Math.abs(l2 - g.gradNorm!) < 1e-4 * g.gradNorm!, `step ${t}: recorded ${l2} vs core ${g.gradNorm}`);
    assert.ok(rec.l1[t] >= l2 && rec.l1[t] <= Math.sqrt(storeJ.count()) * l2, `ℓ1 ${rec.l1[t]}, ℓ2 ${l2}`);
  }
  assert.equal(rec.l1[2], 0);
  for (const name of storeG.names()) {
    const a = storeG.get(name).data, b = storeJ.get(name).data;
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `${name}[${i}]: ${a[i]} vs ${b[i]}`);
  }
  await assert.rejects(jsStep.run({ input_ids: ids }, { lr: 0.01 }).then(() => jsStep.run({ input_ids: ids }, { lr: 0.01 })), /beyond the 3 steps/);
  assert.throws(() => rec.optimizer.update(null as never, null as never, {}, {}, 'w'), /placement "js"/);
});

test('LM training with a schedule: learns, is deterministic in the seed, lr 0 keeps the init loss ≈ ln 256', async () => {
  const T = 40;
  const a = await trainLmWithSchedule(TINY, namedSchedule('linear', T, 0.01, 4), 3);
  const b = await trainLmWithSchedule(TINY, namedSchedule('linear', T, 0.01, 4), 3);
  assert.equal(a.finalLoss, b.finalLoss);
  assert.deepEqual([...a.gradNormsL1], [...b.gradNormsL1]);
  assert.equal(a.gradNormsL1.length, T);
  for (let t = 0; t < T; t++) assert.ok(a.gradNormsL1[t] > 0 && a.gradNormsL1[t] >= a.gradNorms[t]);
  assert.ok(a.finalLoss < 4, `validation loss ${a.finalLoss} after ${T} steps`);
  const frozen = await trainLmWithSchedule(TINY, new Float64Array(T), 3);
  assert.ok(Math.abs(frozen.finalLoss - Math.log(256)) < 0.05, `untrained loss ${frozen.finalLoss}`);
  let checks = 0;
  await trainLmWithSchedule(TINY, new Float64Array(25), 3, () => checks++);
  assert.equal(checks, 3);
  // with clipping the recorded norms are still those of the raw gradient (same first step)
  const clipped = await trainLmWithSchedule({ ...TINY, maxGradNorm: 1e-3 }, new Float64Array(3).fill(0.01), 3);
  const free = await trainLmWithSchedule(TINY, new Float64Array(3).fill(0.01), 3);
  assert.ok(free.gradNorms[0] > 1e-3, `raw norm ${free.gradNorms[0]} must exceed the clip level for the check to bite`);
  assert.ok(Math.abs(clipped.gradNorms[0] - free.gradNorms[0]) < 1e-4 * free.gradNorms[0] && Math.abs(clipped.gradNormsL1[0] - free.gradNormsL1[0]) < 1e-4 * free.gradNormsL1[0], `clipped run records ${clipped.gradNorms[0]}/${clipped.gradNormsL1[0]}, raw ${free.gradNorms[0]}/${free.gradNormsL1[0]}`);
  await assert.rejects(trainLmWithSchedule({ ...TINY, heads: 3 }, new Float64Array(5), 0), /heads: 3 must divide hiddenSize 16/);
});

test('experiment with the LM member logs every schedule and writes its warm-up schedules', async () => {
  const run = await runForTest(lrRefine, {
    model: 'logistic', optimizer: 'adam', n: 60, d: 3, steps: 20, seeds: 1, adamLrs: [0.02], maxGridExtensions: 0,
    lmHiddenSize: 16, lmLayers: 1, lmHeads: 2, lmIntermediateSize: 32, lmSeqLen: 16, lmBatch: 2, lmSteps: 20, lmLrs: [0.01], lmEvalBatches: 1, lmWarmupFrac: 0.1,
  });
  const names = metricNames(run);
  for (const m of ['logistic-adam', 'gpt-adamw']) for (const s of ['constant', 'cosine', 'linear', 'refined']) assert.ok(names.has(`${m}/${s}/final_loss`), `${m}/${s}`);
  const npy = readNpy(run.artifacts.get('gpt-adamw_schedules.npy')!);
  assert.deepEqual(npy.shape, [5, 20]);
  const tab = Float64Array.from(npy.data as ArrayLike<number>);
  // rows: constant, cosine, linear (2 warm-up steps to 0.01), refined, pilot ℓ1 norms
  assert.ok(Math.abs(tab[40] - 0.005) < 1e-12 && Math.abs(tab[41] - 0.01) < 1e-12 && Math.abs(tab[42] - 0.01) < 1e-12);
  assert.equal(Math.max(...tab.subarray(60, 80)), 0.01);
  assert.ok(tab.subarray(80, 100).every((v) => v > 0));
});
