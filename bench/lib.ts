// Shared preamble of the full-form claim benchmarks: command-line options and the
// "run each experiment's claim.full, print one JSON line" loop. Not a benchmark itself
// (bench/run.mjs only runs *.bench.ts files).
import type { ClaimResult, Experiment } from '../src/core/experiment';

export interface BenchArgs {
  /** Value after `--name`, or undefined when the option is absent. */
  opt(name: string): string | undefined;
  /** `--seeds a,b,c` (default 0,1,2): at least 3 integers. */
  seeds: number[];
  /** `--only id,id`: run just these experiment ids. */
  only?: string[];
}

export function benchArgs(argv: string[] = process.argv.slice(2)): BenchArgs {
  const opt = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seeds = (opt('seeds') ?? '0,1,2').split(',').map(Number);
  if (seeds.length < 3 || seeds.some((s) => !Number.isInteger(s))) throw new Error(`--seeds needs at least 3 integers, got ${opt('seeds')}`);
  return { opt, seeds, only: opt('only')?.split(',') };
}

export interface FullClaimOptions {
  seeds: number[];
  only?: string[];
  /** Extra fields for an experiment's JSON line (e.g. `{ ratios }`), placed after `seconds`, before `measured`. */
  figures?: (id: string, measured: ClaimResult['measured']) => Record<string, unknown>;
}

/**
 * Runs `claim.full({ seeds })` of each experiment that declares one (and is in `only`, if given),
 * printing `{ bench, id, form: 'full', seeds, pass, seconds, ...figures, measured, summary }` per
 * experiment. Returns the number of failed claims.
 */
export async function runFullClaims(bench: string, experiments: readonly Experiment[], o: FullClaimOptions): Promise<number> {
  const { seeds, only, figures } = o;
  let failures = 0;
  for (const exp of experiments) {
    if (!exp.claim?.full || (only && !only.includes(exp.id))) continue;
    const t0 = performance.now();
    const r = await exp.claim.full({ seeds });
    const seconds = (performance.now() - t0) / 1000;
    if (!r.pass) failures++;
    const extra = figures ? figures(exp.id, r.measured) : {};
    console.log(JSON.stringify({ bench, id: exp.id, form: 'full', seeds, pass: r.pass, seconds, ...extra, measured: r.measured, summary: r.summary }));
  }
  return failures;
}
