// Full-form claim checks of the alignment group (dpo, apo, p3o, nash-mp incl. its LM form, nash-md),
// ≥ 3 seeds each, one JSON line per experiment. Usage: npm run bench -- alignment [-- --seeds 0,1,2 --only id,id]
import { experiments } from '../src/lab/align';
import { benchArgs, runFullClaims } from './lib';

async function main() {
  const { seeds, only } = benchArgs();
  const failures = await runFullClaims('alignment', experiments, { seeds, only });
  process.exitCode = failures ? 1 : 0;
}
void main();
