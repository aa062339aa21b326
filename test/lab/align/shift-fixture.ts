// Shared fixture of the whole-update δ(x)-invariance tests (P3O joint and token-wise, PPO): a tiny model,
// two sampled continuations for each of 4 prompts, their rollouts with an optional per-prompt reward offset,
// and a way to run an update from the same initial weights and read the flattened result.
import { CausalLm } from '../../../src/lab/lm/causal-lm';
import { copyWeights, encodePrompts, loadAlignModel, PolicyTrainer, sampleCompletions } from '../../../src/lab/align/policy';
import type { PpoRollout } from '../../../src/lab/align/ppo';
import { makeTinyModel } from './tiny-model';

export interface ShiftFixture {
  model: ReturnType<typeof loadAlignModel>;
  trainer: PolicyTrainer;
  /** Rollouts of the 8 continuations, each score plus its prompt's offset delta[i >> 1]. */
  rolls(delta: number[]): PpoRollout[];
  /** A per-prompt offset δ(x) for the 4 prompts. */
  shift: number[];
  /** The initial weights, flattened. */
  start: number[];
  /** Reset to the initial weights, run the update, return the weights flattened. */
  after(update: () => Promise<unknown>): Promise<number[]>;
}

export async function makeShiftFixture(): Promise<ShiftFixture> {
  const dir = makeTinyModel();
  const model = loadAlignModel(dir);
  const lm = await CausalLm.load(dir);
  const prompts = encodePrompts(lm.tokenizer, ['The jury said', 'It was a', 'He went to the', 'Nothing'], 8);
  const ys = await sampleCompletions(
    lm,
    prompts.flatMap((p) => [p, p]),
    { maxNewTokens: 5, temperature: 1, seed: 3 },
  );
  const trainer = await PolicyTrainer.create({ model, tokenizer: lm.tokenizer, batch: 8, ctx: 14, maxGradNorm: 1 });
  await lm.dispose();
  const initial = copyWeights(model.weights);
  const old = await trainer.logProbs(ys);
  const flat = (w: Map<string, Float32Array>) => [...w.values()].flatMap((a) => Array.from(a));
  return {
    model,
    trainer,
    rolls: (delta) => ys.map((y, i) => ({ seq: y, score: [0.3, -0.1, 0.2, 0.25, 0, -0.4, 0.1, 0.5][i] + delta[i >> 1], old: old[i], ref: old[i] })),
    shift: [7.3, -4.1, 0.6, -9.2],
    start: flat(initial),
    async after(update) {
      trainer.setWeights(initial);
      await update();
      return flat(trainer.weights());
    },
  };
}
