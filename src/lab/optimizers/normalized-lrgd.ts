// From Logistic Regression to the Perceptron (Tyurin 2024), spec optimizers.md §16.
// LR+GD x ← x − γ∇f(x) on the mean logistic loss f; its γ → ∞ limit, the batch perceptron
// x ← x + Σ_{y_i a_iᵀx ≤ 0} y_i a_i; and Normalized LR+GD x ← x − (γ/f(x))∇f(x), whose step
// grows as the loss vanishes. Progress metric: iterations until zero training errors.
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../../core/experiment';
import { encodeNpy } from '../../core/io/npy';
import { log1pExp, sigmoid } from '../../core/linalg/logistic';
import { Rng } from '../../core/rng';
import { loadDataset, median, type Dataset } from './data';

/**
 * Separable Gaussian data: a_j ~ N(0, s_j²) with scales s_j log-spaced from 1 down to 1/conditioning,
 * y = sign(w*ᵀa) for a random unit w*, then a ← a + y·margin·w* so that y w*ᵀa ≥ margin.
 */
export function separableBlobs(rng: Rng, n: number, d: number, margin: number, conditioning = 1): Dataset {
  const w = rng.fillNormal(new Float64Array(d));
  const norm = Math.hypot(...w);
  for (let j = 0; j < d; j++) w[j] /= norm;
  const X = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let p = 0;
    for (let j = 0; j < d; j++) {
      const v = rng.normal() * Math.pow(conditioning, -j / Math.max(1, d - 1));
      X[i * d + j] = v;
      p += v * w[j];
    }
    const label = p >= 0 ? 1 : -1;
    y[i] = label;
    for (let j = 0; j < d; j++) X[i * d + j] += label * margin * w[j];
  }
  return { X, y, n, d };
}

/** Mean logistic loss f(x) = (1/n) Σ log(1 + exp(−y_i a_iᵀx)); writes ∇f into `grad`; also counts errors (y aᵀx ≤ 0). */
export function logisticLoss(ds: Dataset, x: Float64Array, grad?: Float64Array): { loss: number; errors: number } {
  const { X, y, n, d } = ds;
  if (grad) grad.fill(0);
  let loss = 0;
  let errors = 0;
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < d; j++) m += X[i * d + j] * x[j];
    m *= y[i];
    if (m <= 0) errors++;
    loss += log1pExp(-m);
    if (grad) {
      const c = (-y[i] * sigmoid(-m)) / n; // d/dm log(1+e^{−m}) = −σ(−m)
      for (let j = 0; j < d; j++) grad[j] += c * X[i * d + j];
    }
  }
  return { loss: loss / n, errors };
}

export type LrgdMethod = { kind: 'lrgd'; gamma: number } | { kind: 'normalized'; gamma: number; normalization: 'loss' | 'gradnorm' } | { kind: 'perceptron' };

export function methodName(m: LrgdMethod): string {
  return m.kind === 'perceptron' ? 'perceptron' : `${m.kind}_g${m.gamma}`;
}

/** One iterate stream of a method; step() advances x by one update. */
export class LrgdRunner {
  readonly x: Float64Array;
  private readonly g: Float64Array;
  loss: number;
  errors: number;
  iterations = 0;
  /** Iteration at which errors first hit 0 (−1 until then). */
  separatedAt = -1;
  lossAtSeparation = NaN;

  constructor(readonly ds: Dataset, readonly method: LrgdMethod) {
    this.x = new Float64Array(ds.d);
    this.g = new Float64Array(ds.d);
    const r = logisticLoss(ds, this.x, this.g);
    this.loss = r.loss;
    this.errors = r.errors;
    this.markSeparation();
  }

  private markSeparation(): void {
    if (this.errors === 0 && this.separatedAt < 0) {
      this.separatedAt = this.iterations;
      this.lossAtSeparation = this.loss;
    }
  }

  step(): void {
    const { x, g, ds, method } = this;
    if (method.kind === 'perceptron') {
      // batch perceptron: add every misclassified (margin ≤ 0) example y_i a_i
      const { X, y, n, d } = ds;
      const upd = new Float64Array(d);
      for (let i = 0; i < n; i++) {
        let m = 0;
        for (let j = 0; j < d; j++) m += X[i * d + j] * x[j];
        if (y[i] * m <= 0) for (let j = 0; j < d; j++) upd[j] += y[i] * X[i * d + j];
      }
      for (let j = 0; j < d; j++) x[j] += upd[j];
    } else {
      let step = method.gamma;
      if (method.kind === 'normalized') {
        if (method.normalization === 'loss') step = method.gamma / Math.max(this.loss, 1e-300);
        else step = method.gamma / Math.max(Math.hypot(...g), 1e-300);
      }
      for (let j = 0; j < x.length; j++) x[j] -= step * g[j];
    }
    this.iterations++;
    const r = logisticLoss(ds, x, this.g);
    this.loss = r.loss;
    this.errors = r.errors;
    this.markSeparation();
  }
}

export interface LrgdResult {
  name: string;
  separatedAt: number;
  lossAtSeparation: number;
  finalLoss: number;
  x: Float64Array;
}

/** Runs all methods in lock-step until each separates the data or maxIters. */
export function runLrgdSuite(ds: Dataset, methods: LrgdMethod[], maxIters: number, onStep?: (t: number, runners: LrgdRunner[]) => void): LrgdResult[] {
  const runners = methods.map((m) => new LrgdRunner(ds, m));
  onStep?.(0, runners);
  for (let t = 1; t <= maxIters; t++) {
    let active = 0;
    for (const r of runners) {
      if (r.separatedAt >= 0) continue;
      r.step();
      active++;
    }
    if (active === 0) break;
    onStep?.(t, runners);
  }
  return runners.map((r) => ({ name: methodName(r.method), separatedAt: r.separatedAt, lossAtSeparation: r.lossAtSeparation, finalLoss: r.loss, x: r.x }));
}

const schema = z
  .object({
    dataX: z.string().default('').describe('X (n×d) as .npy or .json (2-D array, or {"X":[[…]],"y":[…]}); empty = generate separable blobs'),
    dataY: z.string().default('').describe('labels (n) in {0,1} or {−1,+1} as .npy or .json; may be empty when dataX is a {"X","y"} JSON'),
    n: z.number().int().min(10).max(100000).default(500).describe('generated examples'),
    d: z.number().int().min(1).max(1000).default(10).describe('generated dimension (no bias)'),
    margin: z.number().min(0).max(10).default(0.01).describe('generated margin along the true separator'),
    conditioning: z.number().min(1).max(1e6).default(10).describe('generated feature scales go from 1 down to 1/conditioning'),
    gammas: z.array(z.number().positive()).min(1).default([0.1, 1, 10, 100, 10000]).describe('step sizes γ for LR+GD and for Normalized LR+GD'),
    normalization: z
      .enum(['loss', 'gradnorm'])
      .default('loss')
      .describe('Normalized LR+GD step: γ/f(x) (our reading of the paper; unverified) or γ/‖∇f(x)‖'),
    maxIters: z.number().int().min(1).max(1000000).default(20000).describe('iteration cap per method'),
    logEvery: z.number().int().min(1).default(1).describe('log metrics every this many iterations'),
  })
  .strict();
type Config = z.infer<typeof schema>;

function buildMethods(c: Pick<Config, 'gammas' | 'normalization'>): LrgdMethod[] {
  const ms: LrgdMethod[] = [];
  for (const g of c.gammas) ms.push({ kind: 'lrgd', gamma: g });
  for (const g of c.gammas) ms.push({ kind: 'normalized', gamma: g, normalization: c.normalization });
  ms.push({ kind: 'perceptron' });
  return ms;
}

function problem(c: Config, rng: Rng): Dataset {
  if (c.dataX) return loadDataset(c.dataX, c.dataY, { xField: 'dataX', yField: 'dataY', labels: 'binary' });
  return separableBlobs(rng, c.n, c.d, c.margin, c.conditioning);
}

async function run(ctx: RunContext<Config>) {
  const c = ctx.config;
  const ds = problem(c, ctx.rng.fork());
  const methods = buildMethods(c);
  const t0 = performance.now();
  const results = runLrgdSuite(ds, methods, c.maxIters, (t, runners) => {
    ctx.throwIfCancelled();
    if (t % c.logEvery !== 0) return;
    const row: Record<string, number> = { wall_s: (performance.now() - t0) / 1000 };
    for (const r of runners) {
      if (r.separatedAt >= 0 && r.separatedAt < t) continue;
      const name = methodName(r.method);
      row[`${name}/loss`] = r.loss;
      row[`${name}/errors`] = r.errors;
    }
    ctx.log(t, row);
    if (t % 100 === 0) ctx.progress(t, c.maxIters, { metric: 'active', value: runners.filter((r) => r.separatedAt < 0).length });
  });
  ctx.progress(c.maxIters, c.maxIters);
  const iters = Float64Array.from(results, (r) => r.separatedAt);
  const W = new Float64Array(results.length * ds.d);
  results.forEach((r, i) => W.set(r.x, i * ds.d));
  ctx.artifact('iterations_to_separate.npy', encodeNpy(iters));
  ctx.artifact('weights.npy', encodeNpy(W, [results.length, ds.d]));
  const summary = {
    n: ds.n,
    d: ds.d,
    methods: results.map((r) => ({ name: r.name, iterations_to_separate: r.separatedAt, loss_at_separation: r.lossAtSeparation, final_loss: r.finalLoss })),
  };
  ctx.artifact('summary.json', summary);
  return summary;
}

/** Iterations to separate per method name (maxIters + 1 when a method never separated). */
function iterationsToSeparate(ds: Dataset, gammas: number[], maxIters: number): Map<string, LrgdResult> {
  return new Map(runLrgdSuite(ds, buildMethods({ gammas, normalization: 'loss' }), maxIters).map((r) => [r.name, r]));
}
const itersOf = (r: LrgdResult, maxIters: number) => (r.separatedAt < 0 ? maxIters + 1 : r.separatedAt);

const CLAIM_GAMMAS = [0.1, 1, 10];

export const normalizedLrgd = defineExperiment({
  id: 'normalized-lrgd',
  title: 'Normalized LR+GD vs LR+GD with large steps and the batch perceptron',
  paper: 'From Logistic Regression to the Perceptron Algorithm: Exploring Gradient Descent with Large Step Sizes',
  kind: 'optimizer',
  tasks: ['separable-blobs'],
  schema,
  keyMetric: 'normalized_g1/errors',
  lowerIsBetter: true,
  run,
  claim: {
    statement:
      'On linearly separable data, Normalized LR+GD (step γ/f(x)) reaches zero training errors in fewer iterations than LR+GD at the same moderate step size γ ∈ {0.1, 1, 10}; LR+GD with γ → ∞ behaves like the batch perceptron.',
    async fast({ seed }) {
      const maxIters = 10000;
      const ds = separableBlobs(new Rng(seed), 500, 10, 0.01, 10);
      const by = iterationsToSeparate(ds, [...CLAIM_GAMMAS, 10000], maxIters);
      const measured: Record<string, number> = {};
      let pass = true;
      for (const g of CLAIM_GAMMAS) {
        const plain = itersOf(by.get(`lrgd_g${g}`)!, maxIters);
        const norm = itersOf(by.get(`normalized_g${g}`)!, maxIters);
        measured[`lrgd_g${g}`] = plain;
        measured[`normalized_g${g}`] = norm;
        if (!(norm < plain)) pass = false;
      }
      measured.lrgd_g10000 = itersOf(by.get('lrgd_g10000')!, maxIters);
      measured.perceptron = itersOf(by.get('perceptron')!, maxIters);
      return {
        pass,
        measured,
        summary: `iterations to zero errors (n=500, d=10, margin 0.01; ${maxIters + 1} = never): ${CLAIM_GAMMAS.map((g) => `γ=${g}: normalized ${measured[`normalized_g${g}`]} vs LR+GD ${measured[`lrgd_g${g}`]}`).join('; ')}; LR+GD γ=1e4 ${measured.lrgd_g10000}, perceptron ${measured.perceptron}`,
      };
    },
    async full({ seeds }) {
      const maxIters = 50000;
      let wins = 0;
      let cases = 0;
      const measured: Record<string, number> = {};
      for (const d of [2, 10]) {
        const ratios = new Map<number, number[]>(CLAIM_GAMMAS.map((g) => [g, []]));
        for (const seed of seeds) {
          const ds = separableBlobs(new Rng(seed * 7919 + d), 500, d, 0.01, 10);
          const by = iterationsToSeparate(ds, CLAIM_GAMMAS, maxIters);
          for (const g of CLAIM_GAMMAS) {
            const plain = itersOf(by.get(`lrgd_g${g}`)!, maxIters);
            const norm = itersOf(by.get(`normalized_g${g}`)!, maxIters);
            ratios.get(g)!.push(norm / plain);
            cases++;
            if (norm < plain) wins++;
          }
        }
        for (const g of CLAIM_GAMMAS) measured[`median_iter_ratio_d${d}_g${g}`] = median(ratios.get(g)!);
      }
      measured.win_rate = wins / cases;
      return {
        pass: wins / cases >= 0.9,
        measured,
        summary: `Normalized LR+GD separated first in ${wins}/${cases} (d, γ, seed) cases; median iteration ratios normalized/LR+GD: ${Object.entries(measured)
          .filter(([k]) => k.startsWith('median'))
          .map(([k, v]) => `${k.slice(18)}=${v.toFixed(3)}`)
          .join(', ')}`,
      };
    },
  },
});
