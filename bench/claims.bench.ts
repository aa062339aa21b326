// Full-form claim checks (≥ 3 seeds, larger problems) of every registered experiment, one JSON line each.
// Usage: npm run bench -- claims [-- --only id,id --seeds 0,1,2]
import { listExperiments } from '../src/lab/runs/registry';
import { runClaim } from '../src/lab/runs/claims';
import { benchArgs } from './lib';

async function main() {
  const { seeds, only } = benchArgs();
  let failures = 0;
  for (const exp of listExperiments()) {
    if (!exp.claim || (only && !only.includes(exp.id))) continue;
    const r = await runClaim(exp, 'full', seeds);
    if (!r.pass) failures++;
    console.log(JSON.stringify({ bench: 'claim', id: exp.id, form: r.form, seeds, pass: r.pass, seconds: r.seconds, measured: r.measured, summary: r.summary }));
  }
  process.exitCode = failures ? 1 : 0;
}
void main();
