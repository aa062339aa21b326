// Full-form claim checks of the neural-network optimizer experiments (root, …), ≥ 3 seeds each,
// one JSON line per experiment with the measured figures.
// Usage: npm run bench -- optimizers-nn [-- --seeds 0,1,2 --only root]
import { experiments } from '../src/lab/optimizers';

const OURS = ['root', 'lpn', 'fedspeed', 'jlcm'];

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
    if (!OURS.includes(exp.id) || !exp.claim?.full || (only && !only.includes(exp.id))) continue;
    const t0 = performance.now();
    const r = await exp.claim.full({ seeds });
    const seconds = (performance.now() - t0) / 1000;
    if (!r.pass) failures++;
    console.log(JSON.stringify({ bench: 'optimizers-nn', id: exp.id, form: 'full', seeds, pass: r.pass, seconds, measured: r.measured, summary: r.summary }));
  }
  process.exitCode = failures ? 1 : 0;
}
void main();
