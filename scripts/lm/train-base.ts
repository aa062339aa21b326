// Trains the bundled models reproducibly: tokenizer, n-gram baselines, LLaMA pretraining on the
// numeric core, export to models/<name>/ (HF layout) with the training run recorded.
//   npm run train:base [-- --only prox-text-small] [--steps N] [--threads N] [--out models]
import { baseTrain } from '../../src/lab/lm/train-base';

baseTrain(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
