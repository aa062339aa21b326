// Full-form claim checks of the bilevel solver group (lv-hba, bilevel-penalty, bo-rep, bsvrb, …),
// ≥ 3 seeds each, one JSON line per experiment. Usage: npm run bench -- solvers-bilevel [-- --seeds 0,1,2 --only id,id]
import { experiments } from '../src/core/solvers/experiments-bilevel';
import { benchArgs, runFullClaims } from './lib';

async function main() {
  const { seeds, only } = benchArgs();
  const failures = await runFullClaims('solvers-bilevel', experiments, { seeds, only });
  process.exitCode = failures ? 1 : 0;
}
void main();
