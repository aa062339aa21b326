// Full-form claim checks of the numerical solver group (cbo, sor-bandit, sinkhorn-sns, vr-halpern,
// adasketch-newton), ≥ 3 seeds each, one JSON line per experiment; plus single-seed Sinkhorn-Newton-
// Sparse figures at larger n (iteration, O(n²)-pass and wall-time ratios against log-domain
// Sinkhorn measured side by side).
// Usage: npm run bench -- solvers-numerical [-- --seeds 0,1,2 --only id,id --sns-sizes 1000,2000]
import { experiments } from '../src/core/solvers/experiments-numerical';
import { FULL_SNS, sinkhornSnsSchema, snsFigures } from '../src/core/solvers/sinkhorn-sns';

async function main() {
  const argv = process.argv.slice(2);
  const opt = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seeds = (opt('seeds') ?? '0,1,2').split(',').map(Number);
  if (seeds.length < 3 || seeds.some((s) => !Number.isInteger(s))) throw new Error(`--seeds needs at least 3 integers, got ${opt('seeds')}`);
  const only = opt('only')?.split(',');
  const snsSizes = (opt('sns-sizes') ?? '1000').split(',').filter(Boolean).map(Number);
  let failures = 0;
  for (const exp of experiments) {
    if (!exp.claim?.full || (only && !only.includes(exp.id))) continue;
    const t0 = performance.now();
    const r = await exp.claim.full({ seeds });
    const seconds = (performance.now() - t0) / 1000;
    if (!r.pass) failures++;
    console.log(JSON.stringify({ bench: 'solvers-numerical', id: exp.id, form: 'full', seeds, pass: r.pass, seconds, measured: r.measured, summary: r.summary }));
  }
  if (!only || only.includes('sinkhorn-sns')) {
    for (const n of snsSizes) {
      if (!Number.isInteger(n) || n < 2) throw new Error(`--sns-sizes needs integers ≥ 2, got ${n}`);
      const t0 = performance.now();
      const f = snsFigures(sinkhornSnsSchema.parse({ ...FULL_SNS, n, m: n }), seeds[0]);
      const pass = f.snsConverged && f.sinkhornConverged && f.ratio >= 10 && f.planL1 <= 1e-6;
      if (!pass) failures++;
      console.log(
        JSON.stringify({
          bench: 'solvers-numerical',
          id: 'sinkhorn-sns',
          form: `n=${n}`,
          seed: seeds[0],
          pass,
          seconds: (performance.now() - t0) / 1000,
          measured: { ...f },
          summary: `n=${n}, η=${FULL_SNS.eta}: Sinkhorn/SNS iterations ${f.ratio.toFixed(1)}× (${f.sinkhornIterations} vs ${f.snsIterations}), O(n²) passes ${f.passRatio.toFixed(1)}×, wall ${f.wallRatio.toFixed(1)}×, plan L1 ${f.planL1.toExponential(2)}`,
        }),
      );
    }
  }
  process.exitCode = failures ? 1 : 0;
}
void main();
