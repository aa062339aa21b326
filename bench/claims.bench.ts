// Full-form claim checks (≥ 3 seeds, larger problems) of every registered experiment, one JSON line each.
// Usage: npm run bench -- claims [-- --only id,id --seeds 0,1,2]
import { listExperiments } from '../src/lab/runs/registry';
import { runClaim } from '../src/lab/runs/claims';

async function main() {
  const argv = process.argv.slice(2);
  const opt = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = opt('only')?.split(',');
  const seeds = (opt('seeds') ?? '0,1,2').split(',').map(Number);
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
