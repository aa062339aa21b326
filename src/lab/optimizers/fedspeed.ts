// FedSpeed (Sun, Shen, … Tao, ICLR 2023; spec optimizers.md §18): federated learning with a
// prox-correction term and an extra gradient perturbation, against FedAvg, FedProx and FedDyn on
// simulated clients with Dirichlet label-skewed (non-IID) splits, partial participation and many
// local steps. Model: multinomial logistic regression (hand-written gradient: a tiny model).
// Client i in round t starts from x^t with its persistent correction ĝ_i, and for k < K:
//   g₁ = ∇f_i(x_k; batch);  x̆ = x_k + ρ g₁/‖g₁‖;  g₂ = ∇f_i(x̆; batch)          (perturbation)
//   g̃ = (1 − α) g₁ + α g₂                                                    (merged gradient)
//   x_{k+1} = x_k − η [g̃ − ĝ_i + (1/λ)(x_k − x^t)]                           (prox + correction)
// then ĝ_i ← ĝ_i − (1/λ)(x_K − x^t) and it sends x̂_i = x_K − λ ĝ_i; the server averages the x̂_i.
// Metric: rounds until the server model's test accuracy first reaches the target.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../../core/experiment';
import { encodeNpy, parseNpy } from '../../core/io/npy';
import { sampleGamma } from '../../core/linalg/distributions';
import { Rng } from '../../core/rng';

export const FED_METHODS = ['fedspeed', 'fedavg', 'fedprox', 'feddyn'] as const;
export type FedMethod = (typeof FED_METHODS)[number];

export const fedspeedSchema = z
  .object({
    dataFile: z.string().default('').describe('.npy features (n, d); with labelsFile. Empty: a Gaussian mixture'),
    labelsFile: z.string().default('').describe('.npy integer class labels (n,) in 0..C−1, for dataFile'),
    classes: z.number().int().min(2).max(50).default(5).describe('Classes of the generated mixture'),
    features: z.number().int().min(1).max(1000).default(10).describe('Feature dimension of the generated mixture'),
    separation: z.number().positive().max(20).default(0.6).describe('Std of the class means of the generated mixture (noise std 1)'),
    trainPerClient: z.number().int().min(5).max(100000).default(100).describe('Training examples per client'),
    testSize: z.number().int().min(50).max(1000000).default(1000).describe('Held-out examples (IID) for the server accuracy'),
    clients: z.number().int().min(2).max(1000).default(20).describe('Number of clients'),
    dirichlet: z.number().positive().max(100).default(0.1).describe('Dirichlet concentration of the label split (smaller = more non-IID)'),
    participation: z.number().gt(0).max(1).default(0.5).describe('Fraction of clients sampled per round'),
    localSteps: z.number().int().min(1).max(1000).default(20).describe('Local SGD steps K per round'),
    batch: z.number().int().min(1).max(10000).default(25).describe('Local minibatch size (FL-Simulator: 25)'),
    lr: z.number().positive().max(10).default(0.1).describe('Local learning rate η (FL-Simulator: 0.1)'),
    lrDecay: z.number().gt(0).max(1).default(0.998).describe('Per-round decay of η (FL-Simulator: 0.998)'),
    rounds: z.number().int().min(1).max(100000).default(100).describe('Communication rounds per method'),
    lambda: z.number().positive().max(1000).default(10).describe('FedSpeed λ: prox coefficient 1/λ (FedProx μ and FedDyn α use 1/λ too, same strength)'),
    rho: z.number().min(0).max(10).default(0.1).describe('FedSpeed perturbation radius ρ (FL-Simulator: 0.1)'),
    alpha: z.number().min(0).max(1).default(1).describe('FedSpeed merge weight α of the perturbed gradient (simulator form = 1; paper symbol unverified)'),
    weightDecay: z.number().min(0).max(1).default(1e-3).describe('L2 weight decay in every local objective (FL-Simulator: 1e-3)'),
    aggregation: z.enum(['all-clients', 'participants']).default('all-clients').describe("FedSpeed server: mean of participants' x_K plus the mean correction −λĝ over all clients (FL-Simulator code), or the mean of the participants' x̂_i (paper form as read, unverified)"),
    targetFraction: z.number().gt(0).max(1).default(0.97).describe('Target accuracy = this × accuracy of the centralized model'),
  })
  .strict();
export type FedConfig = z.infer<typeof fedspeedSchema>;

export interface FedData {
  X: Float64Array; // n×d train, grouped by client
  y: Int32Array;
  clientRows: number[][];
  Xt: Float64Array;
  yt: Int32Array;
  d: number;
  C: number;
}

function readNpy(path: string, field: string) {
  try {
    return parseNpy(new Uint8Array(readFileSync(path)), path);
  } catch (e) {
    throw new Error(`${field}: ${(e as Error).message}`, { cause: e });
  }
}

/** Dirichlet label split: for each class, proportions over clients ~ Dir(β); rows dealt accordingly. */
export function dirichletSplit(labels: Int32Array, C: number, clients: number, beta: number, rng: Rng): number[][] {
  const out: number[][] = Array.from({ length: clients }, () => []);
  for (let c = 0; c < C; c++) {
    const rows = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === c) rows.push(i);
    rng.shuffle(rows);
    const w = Array.from({ length: clients }, () => sampleGamma(rng, beta));
    const s = w.reduce((a, b) => a + b, 0) || 1;
    let start = 0;
    let acc = 0;
    for (let k = 0; k < clients; k++) {
      acc += w[k] / s;
      const end = k === clients - 1 ? rows.length : Math.round(acc * rows.length);
      out[k].push(...rows.slice(start, end));
      start = end;
    }
  }
  // every client needs data: give empty ones one row from the largest client
  for (const o of out) {
    if (o.length > 0) continue;
    const big = out.reduce((a, b) => (b.length > a.length ? b : a));
    o.push(big.pop()!);
  }
  return out;
}

export function loadFedData(c: FedConfig, rng: Rng): FedData {
  let X: Float64Array, y: Int32Array, d: number, C: number;
  const nTrain = c.trainPerClient * c.clients;
  if (c.dataFile) {
    if (!c.labelsFile) throw new Error('labelsFile: required with dataFile');
    const a = readNpy(c.dataFile, 'dataFile');
    if (a.shape.length !== 2) throw new Error(`dataFile: '${c.dataFile}' has shape (${a.shape.join(', ')}), expected (n, d)`);
    const l = readNpy(c.labelsFile, 'labelsFile');
    if (l.shape.length !== 1 || l.shape[0] !== a.shape[0]) throw new Error(`labelsFile: '${c.labelsFile}' has shape (${l.shape.join(', ')}), expected (${a.shape[0]},) to match dataFile`);
    d = a.shape[1];
    X = Float64Array.from(a.data as ArrayLike<number | bigint>, Number);
    y = Int32Array.from(l.data as ArrayLike<number | bigint>, (v, i) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`labelsFile: entry ${i} is ${n}, expected a class index ≥ 0`);
      return n;
    });
    C = Math.max(...y) + 1;
    const bad = X.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`dataFile: entry ${bad} is ${X[bad]}, expected finite numbers`);
  } else {
    d = c.features;
    C = c.classes;
    const means = Float64Array.from({ length: C * d }, () => c.separation * rng.normal());
    const n = nTrain + c.testSize;
    X = new Float64Array(n * d);
    y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const k = rng.int(C);
      y[i] = k;
      for (let j = 0; j < d; j++) X[i * d + j] = means[k * d + j] + rng.normal();
    }
  }
  const n = y.length;
  const order = Array.from({ length: n }, (_, i) => i);
  rng.shuffle(order);
  const nTest = c.dataFile ? Math.max(1, Math.round(n * 0.2)) : c.testSize;
  const testRows = order.slice(0, nTest), trainRows = order.slice(nTest);
  const pick = (rows: number[]) => {
    const Xs = new Float64Array(rows.length * d);
    rows.forEach((r, i) => Xs.set(X.subarray(r * d, r * d + d), i * d));
    return { Xs, ys: Int32Array.from(rows, (r) => y[r]) };
  };
  const tr = pick(trainRows), te = pick(testRows);
  return { X: tr.Xs, y: tr.ys, clientRows: dirichletSplit(tr.ys, C, c.clients, c.dirichlet, rng), Xt: te.Xs, yt: te.ys, d, C };
}

// ---- model: softmax regression, parameters W (C×d) then b (C) ----
export function paramCount(data: FedData): number {
  return data.C * data.d + data.C;
}

/** Mean cross-entropy over rows (+ wd/2‖w‖²); gradient into g. */
export function lossGrad(w: Float64Array, data: { X: Float64Array; y: Int32Array; d: number; C: number }, rows: ArrayLike<number>, wd: number, g: Float64Array): number {
  const { d, C } = data;
  g.fill(0);
  const z = new Float64Array(C);
  let loss = 0;
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r];
    let mx = -Infinity;
    for (let k = 0; k < C; k++) {
      let s = w[C * d + k];
      for (let j = 0; j < d; j++) s += w[k * d + j] * data.X[i * d + j];
      z[k] = s;
      mx = Math.max(mx, s);
    }
    let se = 0;
    for (let k = 0; k < C; k++) se += Math.exp(z[k] - mx);
    loss += mx + Math.log(se) - z[data.y[i]];
    for (let k = 0; k < C; k++) {
      const p = Math.exp(z[k] - mx) / se - (k === data.y[i] ? 1 : 0);
      for (let j = 0; j < d; j++) g[k * d + j] += p * data.X[i * d + j];
      g[C * d + k] += p;
    }
  }
  const inv = 1 / rows.length;
  let reg = 0;
  for (let t = 0; t < g.length; t++) {
    g[t] = g[t] * inv + wd * w[t];
    reg += w[t] * w[t];
  }
  return loss * inv + 0.5 * wd * reg;
}

export function accuracy(w: Float64Array, data: FedData): number {
  const { d, C } = data;
  let ok = 0;
  const n = data.yt.length;
  for (let i = 0; i < n; i++) {
    let best = -Infinity, arg = 0;
    for (let k = 0; k < C; k++) {
      let s = w[C * d + k];
      for (let j = 0; j < d; j++) s += w[k * d + j] * data.Xt[i * d + j];
      if (s > best) [best, arg] = [s, k];
    }
    if (arg === data.yt[i]) ok++;
  }
  return ok / n;
}

/** Centralized reference: full-batch gradient descent on all training rows. */
export function centralizedAccuracy(data: FedData, wd: number, iters = 400): number {
  const P = paramCount(data);
  const w = new Float64Array(P), g = new Float64Array(P);
  const rows = Array.from({ length: data.y.length }, (_, i) => i);
  for (let t = 0; t < iters; t++) {
    lossGrad(w, data, rows, wd, g);
    for (let i = 0; i < P; i++) w[i] -= 0.5 * g[i];
  }
  return accuracy(w, data);
}

export interface FedRun {
  accuracy: Float64Array;
  roundsToTarget: number; // Infinity when never reached
}

/** Runs one method for c.rounds rounds; client sampling and minibatches share one seed across methods. */
export function runFederated(method: FedMethod, c: FedConfig, data: FedData, target: number, seed: number, log?: (round: number, m: Record<string, number>) => void): FedRun {
  const P = paramCount(data);
  const m = c.clients;
  const coef = 1 / c.lambda; // prox coefficient: FedSpeed 1/λ, FedProx μ, FedDyn α
  const x = new Float64Array(P);
  const corr = Array.from({ length: m }, () => new Float64Array(P)); // FedSpeed ĝ_i / FedDyn ∇_i
  const h = new Float64Array(P); // FedDyn server state
  const rng = new Rng(seed * 1000 + 5);
  const acc = new Float64Array(c.rounds);
  let reached = Infinity;
  const g1 = new Float64Array(P), g2 = new Float64Array(P), pert = new Float64Array(P);
  const nPart = Math.max(1, Math.round(c.participation * m));
  for (let t = 0; t < c.rounds; t++) {
    const eta = c.lr * Math.pow(c.lrDecay, t);
    const order = Array.from({ length: m }, (_, i) => i);
    rng.shuffle(order);
    const part = order.slice(0, nPart);
    const sum = new Float64Array(P);
    for (const i of part) {
      const rows = data.clientRows[i];
      const xi = Float64Array.from(x);
      for (let k = 0; k < c.localSteps; k++) {
        const batch = Array.from({ length: Math.min(c.batch, rows.length) }, () => rows[rng.int(rows.length)]);
        lossGrad(xi, data, batch, c.weightDecay, g1);
        if (method === 'fedspeed' && c.rho > 0 && c.alpha > 0) {
          let nrm = 0;
          for (let p = 0; p < P; p++) nrm += g1[p] * g1[p];
          const s = c.rho / (Math.sqrt(nrm) + 1e-12);
          for (let p = 0; p < P; p++) pert[p] = xi[p] + s * g1[p];
          lossGrad(pert, data, batch, c.weightDecay, g2);
          for (let p = 0; p < P; p++) g1[p] = (1 - c.alpha) * g1[p] + c.alpha * g2[p];
        }
        for (let p = 0; p < P; p++) {
          let dir = g1[p];
          if (method === 'fedprox') dir += coef * (xi[p] - x[p]);
          else if (method === 'feddyn' || method === 'fedspeed') dir += -corr[i][p] + coef * (xi[p] - x[p]);
          xi[p] -= eta * dir;
        }
      }
      if (method === 'fedspeed') {
        for (let p = 0; p < P; p++) {
          corr[i][p] -= coef * (xi[p] - x[p]); // ĝ_i ← ĝ_i − (1/λ)(x_K − x^t)
          sum[p] += c.aggregation === 'participants' ? xi[p] - c.lambda * corr[i][p] : xi[p]; // x̂_i = x_K − λ ĝ_i
        }
      } else if (method === 'feddyn') {
        for (let p = 0; p < P; p++) {
          corr[i][p] -= coef * (xi[p] - x[p]);
          h[p] -= (coef / m) * (xi[p] - x[p]);
          sum[p] += xi[p];
        }
      } else for (let p = 0; p < P; p++) sum[p] += xi[p];
    }
    for (let p = 0; p < P; p++) x[p] = sum[p] / part.length - (method === 'feddyn' ? h[p] / coef : 0);
    if (method === 'fedspeed' && c.aggregation === 'all-clients') {
      // x^{t+1} = mean_S x_K − λ·mean_all ĝ_j (non-participants keep their last correction)
      for (let p = 0; p < P; p++) {
        let gm = 0;
        for (let j = 0; j < m; j++) gm += corr[j][p];
        x[p] -= (c.lambda * gm) / m;
      }
    }
    acc[t] = accuracy(x, data);
    if (!Number.isFinite(acc[t]) || x.some((v) => !Number.isFinite(v))) throw new Error(`${method}: diverged at round ${t + 1} (lower lr or raise lambda)`);
    if (reached === Infinity && acc[t] >= target) reached = t + 1;
    log?.(t + 1, { [`${method}/accuracy`]: acc[t] });
  }
  return { accuracy: acc, roundsToTarget: reached };
}

export async function runFedspeed(c: FedConfig, seed: number, ctx?: Pick<RunContext<FedConfig>, 'log' | 'progress' | 'artifact' | 'info'>): Promise<Record<string, number>> {
  const t0 = performance.now();
  const data = loadFedData(c, new Rng(seed * 1000 + 1));
  const central = centralizedAccuracy(data, c.weightDecay);
  const target = c.targetFraction * central;
  const out: Record<string, number> = { centralized_accuracy: central, target_accuracy: target };
  const curves: Float64Array[] = [];
  FED_METHODS.forEach((mth, j) => {
    const r = runFederated(mth, c, data, target, seed, ctx ? (t, m) => ctx.log(t, m) : undefined);
    out[`${mth}_rounds_to_target`] = r.roundsToTarget;
    out[`${mth}_final_accuracy`] = r.accuracy[r.accuracy.length - 1];
    curves.push(r.accuracy);
    ctx?.log(c.rounds, { [`${mth}/rounds_to_target`]: Number.isFinite(r.roundsToTarget) ? r.roundsToTarget : c.rounds + 1 });
    ctx?.progress(j + 1, FED_METHODS.length);
  });
  out.wall_s = (performance.now() - t0) / 1000;
  if (ctx) {
    ctx.log(c.rounds, { wall_s: out.wall_s });
    const mat = new Float64Array(c.rounds * FED_METHODS.length);
    for (let t = 0; t < c.rounds; t++) FED_METHODS.forEach((_, j) => (mat[t * FED_METHODS.length + j] = curves[j][t]));
    ctx.artifact('accuracy.npy', encodeNpy(mat, [c.rounds, FED_METHODS.length]));
    ctx.artifact('summary.json', { ...out, columns: FED_METHODS, note: 'rounds_to_target = Infinity (null) when never reached' });
  }
  return out;
}

function judge(per: Record<string, number>[], rounds: number): { pass: boolean; measured: Record<string, number | boolean>; summary: string } {
  const med = (k: string) => {
    const v = per.map((p) => (Number.isFinite(p[k]) ? p[k] : rounds + 1)).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)];
  };
  const m: Record<string, number | boolean> = {};
  for (const mth of FED_METHODS) m[`${mth}_rounds_median`] = med(`${mth}_rounds_to_target`);
  m.centralized_accuracy = per[0].centralized_accuracy;
  const fs = m.fedspeed_rounds_median as number;
  const pass = fs <= rounds && fs < (m.fedavg_rounds_median as number) && fs < (m.fedprox_rounds_median as number);
  return { pass, measured: m, summary: `rounds to target (median): FedSpeed ${fs}, FedAvg ${m.fedavg_rounds_median}, FedProx ${m.fedprox_rounds_median}, FedDyn ${m.feddyn_rounds_median} (${rounds + 1} = never)` };
}

export const FED_FULL: Partial<FedConfig> = { clients: 50, participation: 0.2, rounds: 300 };

export const fedspeed = defineExperiment({
  id: 'fedspeed',
  title: 'FedSpeed vs FedAvg / FedProx / FedDyn on Dirichlet non-IID clients',
  paper: 'FedSpeed: Larger Local Interval, Less Communication Round, and Higher Generalization Accuracy',
  kind: 'optimizer',
  tasks: ['gaussian-mixture-softmax'],
  schema: fedspeedSchema,
  keyMetric: 'fedspeed/accuracy',
  lowerIsBetter: false,
  async run(ctx) {
    return runFedspeed(ctx.config, ctx.seed, ctx);
  },
  claim: {
    statement: 'With non-IID clients, partial participation and many local steps, FedSpeed reaches the target test accuracy in fewer communication rounds than FedAvg and FedProx (FedDyn reported beside).',
    async fast({ seed }) {
      const c = fedspeedSchema.parse({});
      return judge([await runFedspeed(c, seed)], c.rounds);
    },
    async full({ seeds }) {
      const c = fedspeedSchema.parse(FED_FULL);
      const per: Record<string, number>[] = [];
      for (const s of seeds) per.push(await runFedspeed(c, s));
      const r = judge(per, c.rounds);
      per.forEach((p, i) => FED_METHODS.forEach((mth) => (r.measured[`seed${seeds[i]}_${mth}_rounds`] = Number.isFinite(p[`${mth}_rounds_to_target`]) ? p[`${mth}_rounds_to_target`] : c.rounds + 1)));
      return r;
    },
  },
});
