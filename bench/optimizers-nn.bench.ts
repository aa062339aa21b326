// Full-form claim checks of the neural-network optimizer experiments (root, …), ≥ 3 seeds each,
// one JSON line per experiment with the measured figures.
// Usage: npm run bench -- optimizers-nn [-- --seeds 0,1,2 --only root]
import { experiments } from '../src/lab/optimizers';
import { benchArgs, runFullClaims } from './lib';

const OURS = ['root', 'lpn', 'fedspeed', 'jlcm'];

async function main() {
  const { seeds, only } = benchArgs();
  const failures = await runFullClaims('optimizers-nn', experiments.filter((e) => OURS.includes(e.id)), { seeds, only });
  process.exitCode = failures ? 1 : 0;
}
void main();
