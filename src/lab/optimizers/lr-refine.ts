// When, Why and How Much? Adaptive learning-rate scheduling by refinement (Defazio, Cutkosky,
// Mehta, Mishchenko 2023), spec optimizers.md §15.
// Worst-case optimal last-iterate schedule for SGD: linear decay η_t ∝ (1 − t/T). Refinement: from
// the gradient norms g_1..g_T of a previous run, ω_t = g_t⁻², η_t ∝ ω_t · Σ_{s>t} ω_s (η_T = 0),
// normalized to peak at the base LR; constant g gives exactly linear decay. Baselines: constant, cosine.
// Suite: logistic regression and a one-hidden-layer MLP (hand-written backprop), SGD with batch 32.
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../../core/experiment';
import { encodeNpy } from '../../core/io/npy';
import { log1pExp, sigmoid } from '../../core/linalg/logistic';
import { medianFilter } from '../../core/linalg/median-filter';
import { Rng } from '../../core/rng';
import { loadDataset, mean, type Dataset } from './data';
import { noisyLinearData } from './last-iterate-sgd';

export type ScheduleKind = 'constant' | 'cosine' | 'linear' | 'refined';

/** Step sizes η_0..η_{T−1} of a named schedule peaking at `base`. */
export function namedSchedule(kind: Exclude<ScheduleKind, 'refined'>, T: number, base: number): Float64Array {
  const s = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    if (kind === 'constant') s[t] = base;
    else if (kind === 'cosine') s[t] = base * 0.5 * (1 + Math.cos((Math.PI * t) / T));
    else s[t] = base * (1 - t / T);
  }
  return s;
}

/**
 * Refined schedule from observed gradient norms (closed form): optionally median-filter the norms
 * (odd width ≈ medianWidthFrac·T, reflect-padded at the end), ω_t = g_t⁻², η_t ∝ ω_t Σ_{s>t} ω_s,
 * scaled so that max_t η_t = baseLr. With multiplyByNorm, η_t is further multiplied by the smoothed norm ĝ_t
 * (the authors' plotting script for their convex suite does this, `gnorm_mul = True`), which halves the
 * exponent of the norm: η_t ∝ ĝ_t⁻¹ Σ_{s>t} ĝ_s⁻².
 */
export function refineSchedule(gradNorms: ArrayLike<number>, o: { medianWidthFrac: number; baseLr: number; multiplyByNorm?: boolean }): Float64Array {
  const T = gradNorms.length;
  if (T < 2) throw new Error('refineSchedule: need at least 2 gradient norms');
  for (let t = 0; t < T; t++) if (!(gradNorms[t] > 0) || !Number.isFinite(gradNorms[t])) throw new Error(`refineSchedule: gradient norm ${t} is ${gradNorms[t]}, expected a positive finite number`);
  let width = Math.round(o.medianWidthFrac * T);
  if (width % 2 === 0) width += 1;
  const g = width > 1 ? medianFilter(gradNorms, width, 'reflect') : Float64Array.from(gradNorms);
  const w = Float64Array.from(g, (v) => 1 / (v * v));
  const eta = new Float64Array(T);
  let tail = 0; // Σ_{s>t} ω_s
  for (let t = T - 1; t >= 0; t--) {
    eta[t] = w[t] * tail * (o.multiplyByNorm ? g[t] : 1);
    tail += w[t];
  }
  const peak = Math.max(...eta);
  for (let t = 0; t < T; t++) eta[t] = (eta[t] / peak) * o.baseLr;
  return eta;
}

export interface Problem {
  name: string;
  dim: number;
  n: number;
  init(rng: Rng): Float64Array;
  /** Mean loss over rows `idx` (all rows when omitted); gradient into `grad` when given. */
  loss(params: Float64Array, grad?: Float64Array, idx?: ArrayLike<number>): number;
}

/** Binary logistic regression, labels ±1, parameters = weights (a bias column may be in X). */
export function logisticProblem(ds: Dataset): Problem {
  const { X, y, n, d } = ds;
  return {
    name: 'logistic',
    dim: d,
    n,
    init: () => new Float64Array(d),
    loss(w, grad, idx) {
      const m = idx ? idx.length : n;
      if (grad) grad.fill(0);
      let s = 0;
      for (let r = 0; r < m; r++) {
        const i = idx ? idx[r] : r;
        let a = 0;
        for (let j = 0; j < d; j++) a += X[i * d + j] * w[j];
        const mg = y[i] * a;
        s += log1pExp(-mg);
        if (grad) {
          const c = (-y[i] * sigmoid(-mg)) / m;
          for (let j = 0; j < d; j++) grad[j] += c * X[i * d + j];
        }
      }
      return s / m;
    },
  };
}

/** One-hidden-layer tanh MLP with a logistic output: f(x) = vᵀ tanh(W x + b) + c; params [W (h×d), b (h), v (h), c]. */
export function mlpProblem(ds: Dataset, hidden: number): Problem {
  const { X, y, n, d } = ds;
  const h = hidden;
  const dim = h * d + 2 * h + 1;
  const act = new Float64Array(h);
  return {
    name: 'mlp',
    dim,
    n,
    init(rng) {
      const p = new Float64Array(dim);
      for (let q = 0; q < h * d; q++) p[q] = rng.normal() / Math.sqrt(d);
      for (let j = 0; j < h; j++) p[h * d + h + j] = rng.normal() / Math.sqrt(h);
      return p;
    },
    loss(p, grad, idx) {
      const m = idx ? idx.length : n;
      if (grad) grad.fill(0);
      const bOff = h * d;
      const vOff = bOff + h;
      const cOff = vOff + h;
      let s = 0;
      for (let r = 0; r < m; r++) {
        const i = idx ? idx[r] : r;
        let f = p[cOff];
        for (let j = 0; j < h; j++) {
          let a = p[bOff + j];
          for (let k = 0; k < d; k++) a += p[j * d + k] * X[i * d + k];
          act[j] = Math.tanh(a);
          f += p[vOff + j] * act[j];
        }
        const mg = y[i] * f;
        s += log1pExp(-mg);
        if (grad) {
          const df = (-y[i] * sigmoid(-mg)) / m; // ∂loss/∂f
          grad[cOff] += df;
          for (let j = 0; j < h; j++) {
            grad[vOff + j] += df * act[j];
            const da = df * p[vOff + j] * (1 - act[j] * act[j]); // back through tanh
            grad[bOff + j] += da;
            for (let k = 0; k < d; k++) grad[j * d + k] += da * X[i * d + k];
          }
        }
      }
      return s / m;
    },
  };
}

/** Labels from a random teacher MLP (tanh, 8 units) with a fraction flipped. */
export function teacherData(rng: Rng, n: number, d: number, flip: number): Dataset {
  const h = 8;
  const W = rng.fillNormal(new Float64Array(h * d), 0, 1 / Math.sqrt(d));
  const v = rng.fillNormal(new Float64Array(h));
  const X = rng.fillNormal(new Float64Array(n * d));
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let j = 0; j < h; j++) {
      let a = 0;
      for (let k = 0; k < d; k++) a += W[j * d + k] * X[i * d + k];
      f += v[j] * Math.tanh(2 * a);
    }
    y[i] = (f >= 0 ? 1 : -1) * (rng.uniform() < flip ? -1 : 1);
  }
  return { X, y, n, d };
}

/** Minibatch SGD with a given schedule; returns the last-iterate full training loss and the minibatch gradient norms. */
export function sgdWithSchedule(problem: Problem, schedule: Float64Array, batch: number, rng: Rng, check?: () => void): { finalLoss: number; gradNorms: Float64Array; params: Float64Array } {
  const T = schedule.length;
  const x = problem.init(rng);
  const g = new Float64Array(problem.dim);
  const norms = new Float64Array(T);
  const idx = new Int32Array(batch);
  for (let t = 0; t < T; t++) {
    if (check && t % 100 === 0) check();
    for (let b = 0; b < batch; b++) idx[b] = rng.int(problem.n);
    problem.loss(x, g, idx);
    let nn = 0;
    for (let q = 0; q < g.length; q++) nn += g[q] * g[q];
    norms[t] = Math.sqrt(nn);
    const eta = schedule[t];
    for (let q = 0; q < x.length; q++) x[q] -= eta * g[q];
  }
  const finalLoss = problem.loss(x);
  return { finalLoss: Number.isFinite(finalLoss) ? finalLoss : Infinity, gradNorms: norms, params: x };
}

export interface SuiteOptions {
  steps: number;
  batch: number;
  lrs: number[];
  seeds: number;
  medianWidthFrac: number;
  /** Multiply the refined schedule by the smoothed gradient norm (authors' `gnorm_mul`). */
  refineMultiplyByNorm: boolean;
}

export interface ScheduleScore {
  schedule: ScheduleKind;
  bestLr: number;
  /** Mean over seeds of the last-iterate training loss at the best lr. */
  loss: number;
  perLr: number[];
}

export interface ProblemOutcome {
  problem: string;
  scores: ScheduleScore[];
  refined: Float64Array;
  pilotGradNorms: Float64Array;
}

/**
 * For each schedule, the lr grid is swept with `seeds` runs each (the same seeds for every
 * schedule), and the best mean last-iterate loss is kept. The refined schedule's shape comes from
 * the gradient norms of linear-decay pilot runs at linear's best lr (norms averaged over seeds).
 */
export function evaluateProblem(problem: Problem, o: SuiteOptions, seed: number, check?: () => void, onScore?: (s: ScheduleScore) => void): ProblemOutcome {
  const runGrid = (shape: (lr: number) => Float64Array) => {
    const perLr = o.lrs.map((lr) => {
      const losses: number[] = [];
      for (let s = 0; s < o.seeds; s++) losses.push(sgdWithSchedule(problem, shape(lr), o.batch, new Rng(seed * 1000 + s), check).finalLoss);
      return mean(losses);
    });
    const k = perLr.reduce((bi, v, i) => (v < perLr[bi] ? i : bi), 0);
    return { bestLr: o.lrs[k], loss: perLr[k], perLr };
  };
  const scores: ScheduleScore[] = [];
  for (const kind of ['constant', 'cosine', 'linear'] as const) {
    const r = runGrid((lr) => namedSchedule(kind, o.steps, lr));
    scores.push({ schedule: kind, ...r });
    onScore?.(scores.at(-1)!);
  }
  const linearLr = scores[2].bestLr;
  const pilot = new Float64Array(o.steps);
  for (let s = 0; s < o.seeds; s++) {
    // pilot seeds differ from the evaluation seeds: the refined shape must not be fitted to them
    const r = sgdWithSchedule(problem, namedSchedule('linear', o.steps, linearLr), o.batch, new Rng(seed * 1000 + 500 + s), check);
    for (let t = 0; t < o.steps; t++) pilot[t] += r.gradNorms[t] / o.seeds;
  }
  const shape = refineSchedule(pilot, { medianWidthFrac: o.medianWidthFrac, baseLr: 1, multiplyByNorm: o.refineMultiplyByNorm });
  const r = runGrid((lr) => shape.map((v) => v * lr));
  scores.push({ schedule: 'refined', ...r });
  onScore?.(scores.at(-1)!);
  return { problem: problem.name, scores, refined: shape, pilotGradNorms: pilot };
}

const schema = z
  .object({
    dataX: z.string().default('').describe('X (n×d) as .npy or .json for a user problem; empty = the generated suite (logistic + MLP)'),
    dataY: z.string().default('').describe('labels in {0,1} or {−1,+1} as .npy or .json (may be empty for a {"X","y"} JSON)'),
    model: z.enum(['logistic', 'mlp', 'both']).default('both').describe('models trained on the data'),
    n: z.number().int().min(10).max(100000).default(2000).describe('generated examples per problem'),
    d: z.number().int().min(1).max(1000).default(50).describe('generated input dimension'),
    hidden: z.number().int().min(1).max(256).default(32).describe('MLP hidden units'),
    steps: z.number().int().min(10).max(100000).default(1000).describe('SGD steps T'),
    batch: z.number().int().min(1).max(4096).default(32).describe('minibatch size'),
    lrs: z.array(z.number().positive()).min(1).default([0.1, 0.3, 1, 3]).describe('peak learning rates swept for every schedule'),
    seeds: z.number().int().min(1).max(20).default(3).describe('runs per (schedule, lr)'),
    medianWidthFrac: z.number().min(0).max(0.5).default(0.1).describe('median-filter width for the gradient norms, as a fraction of T'),
    refineMultiplyByNorm: z.boolean().default(false).describe('multiply the refined schedule by the smoothed gradient norm (the authors\' plotting script, gnorm_mul); false = the paper\'s closed form'),
  })
  .strict();
type Config = z.infer<typeof schema>;

function suiteProblems(c: Pick<Config, 'dataX' | 'dataY' | 'model' | 'n' | 'd' | 'hidden'>, rng: Rng): Problem[] {
  const ps: Problem[] = [];
  if (c.dataX) {
    const ds = loadDataset(c.dataX, c.dataY, { xField: 'dataX', yField: 'dataY', labels: 'binary' });
    if (c.model !== 'mlp') ps.push(logisticProblem(ds));
    if (c.model !== 'logistic') ps.push(mlpProblem(ds, c.hidden));
    return ps;
  }
  if (c.model !== 'mlp') ps.push(logisticProblem(noisyLinearData(rng.fork(), c.n, c.d, 0.1)));
  if (c.model !== 'logistic') ps.push(mlpProblem(teacherData(rng.fork(), c.n, c.d, 0.05), c.hidden));
  return ps;
}

async function run(ctx: RunContext<Config>) {
  const c = ctx.config;
  const problems = suiteProblems(c, ctx.rng.fork());
  const t0 = performance.now();
  const total = problems.length * 4 * c.lrs.length * c.seeds + problems.length * c.seeds;
  let done = 0;
  const outcomes: ProblemOutcome[] = [];
  for (const p of problems) {
    let k = 0;
    const o = evaluateProblem(p, c, ctx.seed, () => {
      ctx.throwIfCancelled();
      ctx.progress(Math.min(done, total), total);
    }, (s) => {
      done += c.lrs.length * c.seeds;
      ctx.log(++k, { [`${p.name}/${s.schedule}/final_loss`]: s.loss, [`${p.name}/${s.schedule}/best_lr`]: s.bestLr, wall_s: (performance.now() - t0) / 1000 });
    });
    outcomes.push(o);
    // the schedules themselves, for plotting: constant, cosine, linear at their best lr, refined
    const T = c.steps;
    const tab = new Float64Array(5 * T);
    const lr = (kind: ScheduleKind) => o.scores.find((s) => s.schedule === kind)!.bestLr;
    tab.set(namedSchedule('constant', T, lr('constant')), 0);
    tab.set(namedSchedule('cosine', T, lr('cosine')), T);
    tab.set(namedSchedule('linear', T, lr('linear')), 2 * T);
    tab.set(o.refined.map((v) => v * lr('refined')), 3 * T);
    tab.set(o.pilotGradNorms, 4 * T);
    ctx.artifact(`${p.name}_schedules.npy`, encodeNpy(tab, [5, T]));
  }
  ctx.progress(total, total);
  const summary = {
    rows: ['constant', 'cosine', 'linear', 'refined', 'pilot_grad_norms'],
    problems: outcomes.map((o) => ({
      problem: o.problem,
      scores: o.scores.map((s) => ({ schedule: s.schedule, best_lr: s.bestLr, final_loss: s.loss })),
      refined_peak_at: o.refined.indexOf(Math.max(...o.refined)) / c.steps,
    })),
  };
  ctx.artifact('summary.json', summary);
  return summary;
}

function lossOf(o: ProblemOutcome, kind: ScheduleKind): number {
  return o.scores.find((s) => s.schedule === kind)!.loss;
}

async function suiteClaim(seed: number, c: Config) {
  const problems = suiteProblems(c, new Rng(seed));
  const outcomes = problems.map((p) => evaluateProblem(p, c, seed));
  const measured: Record<string, number> = {};
  let linearVsCosine = 0;
  let refinedVsLinear = 0;
  for (const o of outcomes) {
    for (const k of ['constant', 'cosine', 'linear', 'refined'] as const) measured[`${o.problem}_${k}`] = lossOf(o, k);
    // the evidence for why refinement does not help: how far the pilot's gradient norms fall, and where the refined schedule peaks
    const g = o.pilotGradNorms;
    const tenth = Math.max(1, Math.floor(g.length / 10));
    measured[`${o.problem}_pilot_gnorm_first_over_last_tenth`] = mean(Array.from(g.subarray(0, tenth))) / mean(Array.from(g.subarray(g.length - tenth)));
    measured[`${o.problem}_refined_peak_at`] = o.refined.indexOf(Math.max(...o.refined)) / g.length;
    linearVsCosine += Math.log(lossOf(o, 'linear') / lossOf(o, 'cosine')) / outcomes.length;
    refinedVsLinear += Math.log(lossOf(o, 'refined') / lossOf(o, 'linear')) / outcomes.length;
  }
  measured.mean_log_ratio_linear_over_cosine = linearVsCosine;
  measured.mean_log_ratio_refined_over_linear = refinedVsLinear;
  return { measured, linearVsCosine, refinedVsLinear, outcomes };
}

export const lrRefine = defineExperiment({
  id: 'lr-refine',
  title: 'Linear-decay and refined LR schedules vs constant and cosine (SGD, last iterate)',
  paper: 'When, Why and How Much? Adaptive Learning Rate Scheduling by Refinement',
  kind: 'optimizer',
  tasks: ['logistic+mlp-suite'],
  schema,
  keyMetric: 'logistic/refined/final_loss',
  lowerIsBetter: true,
  run,
  claim: {
    statement:
      'Linear decay matches or beats cosine, and refining the schedule from a pilot run\'s gradient norms improves further (each schedule tuned on the same lr grid; last-iterate training loss over logistic regression + a small MLP). Measured beside it: the pilot\'s gradient-norm decay per problem (on our MLP the norms fall ≈ 4× as the loss approaches interpolation, so ω_t = g_t⁻² peaks late, ≈ 0.84T).',
    async fast({ seed }) {
      const c = schema.parse({ n: 1000, d: 20, hidden: 16, steps: 400, lrs: [0.3, 1, 3], seeds: 2 });
      const r = await suiteClaim(seed, c);
      const pass = r.linearVsCosine <= 0.01 && r.refinedVsLinear <= 0;
      return {
        pass,
        measured: r.measured,
        summary: `mean log loss ratio linear/cosine ${r.linearVsCosine.toFixed(4)}, refined/linear ${r.refinedVsLinear.toFixed(4)} (≤ 0 is better; both asserted); ${r.outcomes.map((o) => `${o.problem}: const ${lossOf(o, 'constant').toFixed(4)}, cos ${lossOf(o, 'cosine').toFixed(4)}, lin ${lossOf(o, 'linear').toFixed(4)}, ref ${lossOf(o, 'refined').toFixed(4)}`).join('; ')}`,
      };
    },
    async full({ seeds }) {
      const c = schema.parse({});
      const rs = [];
      for (const seed of seeds) rs.push(await suiteClaim(seed, c));
      const lc = mean(rs.map((r) => r.linearVsCosine));
      const rl = mean(rs.map((r) => r.refinedVsLinear));
      const measured: Record<string, number> = { mean_log_ratio_linear_over_cosine: lc, mean_log_ratio_refined_over_linear: rl };
      rs.forEach((r, i) => {
        for (const [k, v] of Object.entries(r.measured)) measured[`seed${seeds[i]}_${k}`] = v;
      });
      return { pass: lc <= 0.01 && rl <= 0, measured, summary: `over ${seeds.length} seeds (n=2000, d=50, T=1000): mean log ratio linear/cosine ${lc.toFixed(4)} (≤ 0.01 asserted), refined/linear ${rl.toFixed(4)} (≤ 0 asserted)` };
    },
  },
});
