// Full-form claim checks of the alignment group (dpo, apo, p3o, nash-mp incl. its LM form, nash-md),
// ≥ 3 seeds each, one JSON line per experiment. Usage: npm run bench -- alignment [-- --seeds 0,1,2 --only id,id]
import { experiments } from '../src/lab/align';

async function main() {
  const argv = process.argv.slice(2);
  const opt = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seeds = (opt('seeds') ?? '0,1,2').split(',').map(Number);
  if (seeds.length < 3 || seeds.some((s) => !Number.isInteger(s))) throw new Error(`--seeds needs at least 3 integers, got ${opt('seeds')}`);
  const only = opt('only')?.split(',');
  let failures = 0;
  for (const exp of experiments) {
    if (!exp.claim?.full || (only && !only.includes(exp.id))) continue;
    const t0 = performance.now();
    const r = await exp.claim.full({ seeds });
    const seconds = (performance.now() - t0) / 1000;
    if (!r.pass) failures++;
    console.log(JSON.stringify({ bench: 'alignment', id: exp.id, form: 'full', seeds, pass: r.pass, seconds, measured: r.measured, summary: r.summary }));
  }
  process.exitCode = failures ? 1 : 0;
}
void main();
