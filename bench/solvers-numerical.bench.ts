// Full-form claim checks of the numerical solver group (cbo, sor-bandit, sinkhorn-sns, vr-halpern,
// adasketch-newton), ≥ 3 seeds each, one JSON line per experiment; plus single-seed Sinkhorn-Newton-
// Sparse figures at larger n (iteration, O(n²)-pass and wall-time ratios against log-domain
// Sinkhorn measured side by side).
// Usage: npm run bench -- solvers-numerical [-- --seeds 0,1,2 --only id,id --sns-sizes 1000,2000]
import { experiments } from '../src/core/solvers/experiments-numerical';
import { FULL_SNS, sinkhornSnsSchema, snsFigures } from '../src/core/solvers/sinkhorn-sns';
import { benchArgs, runFullClaims } from './lib';

async function main() {
  const { opt, seeds, only } = benchArgs();
  const snsSizes = (opt('sns-sizes') ?? '1000').split(',').filter(Boolean).map(Number);
  let failures = await runFullClaims('solvers-numerical', experiments, { seeds, only });
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
