// Optimization by directional attacks on a neural-network surrogate (Bouchet, Vidal 2025),
// spec optimizers.md §13. Problem: max_x f(Φ(x)) s.t. c(Φ(x)) ≤ 0, x in a box, Φ an MLP surrogate.
// - Attack operator (white-box): at the incumbent x, target direction u = ∇_z merit(z) in output
//   space; a few projected sign-gradient (PGD) steps on δ ↦ ⟨u, Φ(x + δ)⟩ with ‖δ‖∞ ≤ r, using
//   J_Φᵀu by backpropagation.
// - cDSM (covering direct search): each iteration a covering point (the candidate in a ball around
//   the incumbent farthest from every evaluated point), then an opportunistic poll along ±e_i scaled
//   by the frame size Δ; success doubles Δ, failure halves it.
// - Hybrid: each iteration first tries an attack of radius Δ; if it does not improve, a cDSM iteration.
// Baselines: cDSM alone, attack alone. Budget: evaluations of Φ (a gradient counts `gradientCost`).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defineExperiment, type RunContext } from '../../core/experiment';
import { encodeNpy } from '../../core/io/npy';
import { Rng } from '../../core/rng';
import { DataFileError, median } from './data';

export interface Mlp {
  /** Layer ℓ: W (out × in, row-major) and b (out). tanh between layers, linear output. */
  layers: { W: Float64Array; b: Float64Array; in: number; out: number }[];
}

export function randomMlp(rng: Rng, sizes: number[], gain = 1.5): Mlp {
  const layers = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [i, o] = [sizes[l], sizes[l + 1]];
    layers.push({ W: rng.fillNormal(new Float64Array(o * i), 0, gain / Math.sqrt(i)), b: rng.fillNormal(new Float64Array(o), 0, 0.5), in: i, out: o });
  }
  return { layers };
}

/** Forward pass; returns the output and the per-layer activations (for backprop). */
export function mlpForward(net: Mlp, x: ArrayLike<number>): { out: Float64Array; acts: Float64Array[] } {
  const acts: Float64Array[] = [Float64Array.from(x)];
  let h = acts[0];
  net.layers.forEach((L, l) => {
    const o = new Float64Array(L.out);
    for (let r = 0; r < L.out; r++) {
      let a = L.b[r];
      for (let c = 0; c < L.in; c++) a += L.W[r * L.in + c] * h[c];
      o[r] = l + 1 < net.layers.length ? Math.tanh(a) : a;
    }
    acts.push(o);
    h = o;
  });
  return { out: h, acts };
}

/** J_Φ(x)ᵀ u by reverse-mode differentiation through the MLP. */
export function mlpVjp(net: Mlp, x: ArrayLike<number>, u: ArrayLike<number>): Float64Array {
  const { acts } = mlpForward(net, x);
  let g = Float64Array.from(u);
  for (let l = net.layers.length - 1; l >= 0; l--) {
    const L = net.layers[l];
    if (l + 1 < net.layers.length) {
      const a = acts[l + 1];
      for (let r = 0; r < L.out; r++) g[r] *= 1 - a[r] * a[r]; // through tanh
    }
    const gi = new Float64Array(L.in);
    for (let r = 0; r < L.out; r++) for (let c = 0; c < L.in; c++) gi[c] += L.W[r * L.in + c] * g[r];
    g = gi;
  }
  return g;
}

/** Reads {"layers":[{"W":[[…]],"b":[…]}, …]} and checks that the layer shapes chain and the output has `outDim` entries. */
export function readMlpFile(path: string, outDim: number): Mlp {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DataFileError(`surrogateFile: cannot read '${path}' as JSON (${(e as Error).message})`, { cause: e });
  }
  const layersRaw = (raw as { layers?: unknown }).layers;
  if (!Array.isArray(layersRaw) || layersRaw.length === 0) throw new DataFileError(`surrogateFile: '${path}' must hold {"layers":[{"W":[[…]],"b":[…]}, …]}`);
  const layers: Mlp['layers'] = [];
  layersRaw.forEach((Lr, l) => {
    const W = (Lr as { W?: unknown }).W;
    const b = (Lr as { b?: unknown }).b;
    if (!Array.isArray(W) || W.length === 0 || !Array.isArray(W[0])) throw new DataFileError(`surrogateFile: layer ${l} of '${path}' needs a 2-D "W"`);
    const out = W.length;
    const inn = (W[0] as unknown[]).length;
    if (!Array.isArray(b) || b.length !== out) throw new DataFileError(`surrogateFile: layer ${l} of '${path}': "b" must have ${out} entries (rows of W)`);
    if (l > 0 && inn !== layers[l - 1].out) throw new DataFileError(`surrogateFile: layer ${l} of '${path}' takes ${inn} inputs but layer ${l - 1} gives ${layers[l - 1].out}`);
    const Wf = new Float64Array(out * inn);
    W.forEach((row, r) => {
      if (!Array.isArray(row) || row.length !== inn) throw new DataFileError(`surrogateFile: layer ${l} of '${path}': row ${r} of W has ${Array.isArray(row) ? row.length : 'no'} entries, expected ${inn}`);
      row.forEach((v, c) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new DataFileError(`surrogateFile: layer ${l} of '${path}': W[${r}][${c}] is not a finite number`);
        Wf[r * inn + c] = v;
      });
    });
    const bf = Float64Array.from(b as number[]);
    if (bf.some((v) => !Number.isFinite(v))) throw new DataFileError(`surrogateFile: layer ${l} of '${path}': "b" has a non-finite entry`);
    layers.push({ W: Wf, b: bf, in: inn, out });
  });
  if (layers.at(-1)!.out !== outDim) throw new DataFileError(`surrogateFile: '${path}' outputs ${layers.at(-1)!.out} values, expected ${outDim} (z₁, z₂)`);
  return { layers };
}

/** Objective f(z) = z₁ − ½z₂² (maximized) and constraint c(z) = z₂ − cap ≤ 0 (spec's toy). */
export interface OutputProblem {
  f(z: Float64Array): number;
  c(z: Float64Array): number;
  /** ∇_z of the merit f(z) − penalty·max(0, c(z))². */
  meritGrad(z: Float64Array, penalty: number): Float64Array;
}

export function toyOutputProblem(cap: number): OutputProblem {
  return {
    f: (z) => z[0] - 0.5 * z[1] * z[1],
    c: (z) => z[1] - cap,
    meritGrad(z, penalty) {
      const v = Math.max(0, z[1] - cap);
      return Float64Array.from([1, -z[1] - 2 * penalty * v]);
    },
  };
}

interface Point {
  x: Float64Array;
  f: number;
  c: number;
}

/** Feasible beats infeasible; among feasible, larger f; among infeasible, smaller violation. */
export function better(a: Point, b: Point | null): boolean {
  if (!b) return true;
  const fa = a.c <= 0;
  const fb = b.c <= 0;
  if (fa !== fb) return fa;
  return fa ? a.f > b.f : a.c < b.c;
}

export interface SearchSetup {
  net: Mlp;
  out: OutputProblem;
  lower: number;
  upper: number;
  budget: number;
  gradientCost: number;
  attackSteps: number;
  penalty: number;
  coverRadius: number;
  frameInit: number;
}

export type Method = 'cdsm' | 'attack' | 'hybrid';

/** Runs one method from x0 under the evaluation budget; returns the best-feasible-f trace (−∞ until feasible) per evaluation. */
export function runSearch(method: Method, s: SearchSetup, x0: Float64Array, rng: Rng): { trace: Float64Array; best: Point } {
  const n = x0.length;
  const trace = new Float64Array(s.budget).fill(-Infinity);
  const cache: Float64Array[] = [];
  let used = 0;
  let best: Point | null = null;
  const clip = (x: Float64Array) => x.map((v) => Math.min(s.upper, Math.max(s.lower, v)));
  const record = () => {
    const v = best && best.c <= 0 ? best.f : -Infinity;
    for (let k = Math.max(0, used - s.gradientCost - 1); k < Math.min(used, s.budget); k++) trace[k] = Math.max(trace[k], v);
  };
  /** One evaluation of Φ; returns the point, or null when the budget is spent. */
  const evaluate = (x: Float64Array): Point | null => {
    if (used >= s.budget) return null;
    const z = mlpForward(s.net, x).out;
    used++;
    cache.push(x);
    const p = { x, f: s.out.f(z), c: s.out.c(z) };
    if (better(p, best)) best = p;
    record();
    return p;
  };
  const vjp = (x: Float64Array, u: Float64Array): Float64Array | null => {
    if (used + s.gradientCost > s.budget) return null;
    used += s.gradientCost;
    record();
    return mlpVjp(s.net, x, u);
  };
  /** PGD with sign steps of size 2.5r/S inside ‖δ‖∞ ≤ r, then one evaluation of the end point. */
  const attack = (x: Float64Array, r: number): Point | null => {
    const delta = new Float64Array(n);
    const alpha = (2.5 * r) / s.attackSteps;
    for (let k = 0; k < s.attackSteps; k++) {
      const xd = clip(x.map((v, i) => v + delta[i]));
      const z = mlpForward(s.net, xd).out; // part of the gradient evaluation
      const u = s.out.meritGrad(z, s.penalty);
      const g = vjp(xd, u);
      if (!g) return null;
      for (let i = 0; i < n; i++) delta[i] = Math.max(-r, Math.min(r, delta[i] + alpha * Math.sign(g[i])));
    }
    return evaluate(clip(x.map((v, i) => v + delta[i])));
  };
  /** Covering step: among random candidates in the box-ball B∞(x, ρ), the one farthest from all cached points. */
  const cover = (x: Float64Array): Point | null => {
    let bestCand: Float64Array | null = null;
    let bestDist = -1;
    for (let k = 0; k < 10; k++) {
      const cand = clip(x.map((v) => v + s.coverRadius * (2 * rng.uniform() - 1)));
      let dmin = Infinity;
      for (const c of cache) {
        let d2 = 0;
        for (let i = 0; i < n; i++) d2 += (c[i] - cand[i]) ** 2;
        if (d2 < dmin) dmin = d2;
      }
      if (dmin > bestDist) {
        bestDist = dmin;
        bestCand = cand;
      }
    }
    return evaluate(bestCand!);
  };
  /** Opportunistic poll along ±e_i (random order) at frame size Δ; true on improvement. */
  const poll = (frame: number): boolean | null => {
    const dirs = rng.shuffle(Array.from({ length: 2 * n }, (_, k) => k));
    for (const k of dirs) {
      const inc: Point = best!;
      const y = Float64Array.from(inc.x);
      y[k >> 1] += (k & 1 ? -1 : 1) * frame;
      const p = evaluate(clip(y));
      if (!p) return null;
      if (p === best) return true;
    }
    return false;
  };
  if (!evaluate(clip(x0))) return { trace, best: best! };
  let frame = s.frameInit;
  let radius = s.frameInit; // attack radius: doubled on success, halved on failure
  const frameMax = s.upper - s.lower;
  while (used < s.budget) {
    const before: Point = best!;
    if (method === 'attack' || method === 'hybrid') {
      const p = attack(before.x, radius);
      if (!p) break;
      if (p === best && best !== before) {
        radius = Math.min(2 * radius, frameMax);
        continue;
      }
      radius = Math.max(radius / 2, 1e-3);
      if (method === 'attack') continue;
    }
    // cDSM iteration: covering step, then poll
    const cp = cover(before.x);
    if (!cp) break;
    if (best !== before) {
      frame = Math.min(2 * frame, frameMax);
      continue;
    }
    const ok = poll(frame);
    if (ok === null) break;
    frame = ok ? Math.min(2 * frame, frameMax) : frame / 2;
  }
  return { trace, best: best! };
}

const schema = z
  .object({
    surrogateFile: z.string().default('').describe('MLP surrogate as JSON {"layers":[{"W":[[…]],"b":[…]},…]} (tanh hidden, linear output with 2 values); empty = random MLP'),
    dim: z.number().int().min(1).max(200).default(10).describe('input dimension of the generated surrogate'),
    hidden: z.number().int().min(1).max(256).default(32).describe('hidden units per layer of the generated surrogate (2 layers)'),
    gain: z.number().positive().default(3).describe('weight scale of the generated surrogate (N(0, gain²/fan_in)); larger = more non-convex'),
    lower: z.number().default(-3).describe('box lower bound for every coordinate'),
    upper: z.number().default(3).describe('box upper bound for every coordinate'),
    cap: z.number().default(1).describe('constraint c(z) = z₂ − cap ≤ 0'),
    budget: z.number().int().min(10).max(100000).default(500).describe('evaluations of Φ per method'),
    gradientCost: z.number().int().min(0).max(10).default(1).describe('evaluations charged for one J_Φᵀu (forward + backward)'),
    attackSteps: z.number().int().min(1).max(50).default(1).describe('sign-gradient (PGD) steps per attack; 1 = FGSM-style (our choice; the paper\'s operator details are unverified)'),
    penalty: z.number().min(0).default(10).describe('quadratic penalty weight on constraint violation in the attack direction'),
    coverRadius: z.number().positive().default(1).describe('radius of the cDSM covering ball around the incumbent'),
    frameInit: z.number().positive().default(1).describe('initial frame size Δ'),
    starts: z.number().int().min(1).max(100).default(10).describe('random starting points (median reported)'),
  })
  .strict();
type Config = z.infer<typeof schema>;

function setupFrom(c: Config, rng: Rng): { setup: SearchSetup; dim: number } {
  if (!(c.upper > c.lower)) throw new Error(`upper: must exceed lower (${c.lower}), got ${c.upper}`);
  const net = c.surrogateFile ? readMlpFile(c.surrogateFile, 2) : randomMlp(rng, [c.dim, c.hidden, c.hidden, 2], c.gain);
  const setup: SearchSetup = { net, out: toyOutputProblem(c.cap), lower: c.lower, upper: c.upper, budget: c.budget, gradientCost: c.gradientCost, attackSteps: c.attackSteps, penalty: c.penalty, coverRadius: c.coverRadius, frameInit: c.frameInit };
  return { setup, dim: net.layers[0].in };
}

export const METHODS: Method[] = ['cdsm', 'attack', 'hybrid'];

/** All methods from the same random starts; returns per-method best feasible f per start and the median traces. */
export function compareMethods(setup: SearchSetup, dim: number, starts: number, rng: Rng, check?: () => void) {
  const finals: Record<Method, number[]> = { cdsm: [], attack: [], hybrid: [] };
  const traces: Record<Method, Float64Array[]> = { cdsm: [], attack: [], hybrid: [] };
  for (let k = 0; k < starts; k++) {
    const x0 = Float64Array.from({ length: dim }, () => setup.lower + (setup.upper - setup.lower) * rng.uniform());
    const seed = rng.nextUint32();
    for (const m of METHODS) {
      check?.();
      const r = runSearch(m, setup, x0, new Rng(seed));
      finals[m].push(r.trace[setup.budget - 1]);
      traces[m].push(r.trace);
    }
  }
  const medianTrace = (m: Method) => Float64Array.from({ length: setup.budget }, (_, e) => median(traces[m].map((t) => t[e])));
  return { finals, medians: Object.fromEntries(METHODS.map((m) => [m, median(finals[m])])) as Record<Method, number>, medianTrace };
}

const finite = (v: number) => (Number.isFinite(v) ? v : -1e9);

async function run(ctx: RunContext<Config>) {
  const c = ctx.config;
  const { setup, dim } = setupFrom(c, ctx.rng.fork());
  const t0 = performance.now();
  let done = 0;
  const res = compareMethods(setup, dim, c.starts, ctx.rng.fork(), () => {
    ctx.throwIfCancelled();
    ctx.progress(done++, c.starts * 3);
  });
  const traces = METHODS.map((m) => res.medianTrace(m));
  const every = Math.max(1, Math.floor(c.budget / 100));
  for (let e = every - 1; e < c.budget; e += every) {
    const row: Record<string, number> = {};
    METHODS.forEach((m, i) => (row[`${m}/best_f`] = traces[i][e]));
    if (e === c.budget - 1 || e + every >= c.budget) row.wall_s = (performance.now() - t0) / 1000;
    ctx.log(e + 1, row);
  }
  ctx.progress(c.starts * 3, c.starts * 3);
  const tab = new Float64Array(3 * c.budget);
  traces.forEach((t, i) => tab.set(t.map(finite), i * c.budget));
  ctx.artifact('median_traces.npy', encodeNpy(tab, [3, c.budget]));
  const summary = {
    budget: c.budget,
    starts: c.starts,
    median_best_f: Object.fromEntries(METHODS.map((m) => [m, finite(res.medians[m])])),
    best_f_per_start: Object.fromEntries(METHODS.map((m) => [m, res.finals[m].map(finite)])),
  };
  ctx.artifact('summary.json', summary);
  return summary;
}

/** Mean over random surrogates of the median (over starts) best feasible f at the budget. */
function claimAggregate(seed: number, surrogates: number, starts: number, budget: number) {
  const c = schema.parse({ starts, budget });
  const rng = new Rng(seed);
  const sums: Record<Method, number> = { cdsm: 0, attack: 0, hybrid: 0 };
  let hybridBest = 0;
  for (let k = 0; k < surrogates; k++) {
    const { setup, dim } = setupFrom(c, rng.fork());
    const m = compareMethods(setup, dim, starts, rng.fork()).medians;
    for (const meth of METHODS) sums[meth] += finite(m[meth]) / surrogates;
    if (m.hybrid > m.cdsm && m.hybrid > m.attack) hybridBest++;
  }
  return { means: sums, hybridBest };
}

export const directionalAttacks = defineExperiment({
  id: 'directional-attacks',
  title: 'cDSM with directional attacks on an MLP surrogate vs cDSM alone and attacks alone',
  paper: 'Optimization by Directional Attacks: Solving Problems with Neural Network Surrogates',
  kind: 'solver',
  tasks: ['random-mlp-surrogate'],
  schema,
  keyMetric: 'hybrid/best_f',
  lowerIsBetter: false,
  run,
  claim: {
    statement: 'At an equal budget of surrogate evaluations, cDSM with attack steps reaches a better feasible objective (median over starts, averaged over random MLP surrogates) than cDSM alone and than attacks alone.',
    async fast({ seed }) {
      const r = claimAggregate(seed, 6, 8, 200);
      const m = r.means;
      return {
        pass: m.hybrid > m.cdsm && m.hybrid > m.attack,
        measured: { hybrid_mean_median_best_f: m.hybrid, cdsm_mean_median_best_f: m.cdsm, attack_mean_median_best_f: m.attack, surrogates_where_hybrid_best: r.hybridBest },
        summary: `best feasible f after 200 evaluations (median of 8 starts, mean over 6 random surrogates): hybrid ${m.hybrid.toFixed(3)}, cDSM ${m.cdsm.toFixed(3)}, attack ${m.attack.toFixed(3)}; hybrid best on ${r.hybridBest}/6 surrogates`,
      };
    },
    async full({ seeds }) {
      const measured: Record<string, number> = {};
      const tot: Record<Method, number> = { cdsm: 0, attack: 0, hybrid: 0 };
      for (const seed of seeds) {
        const r = claimAggregate(seed, 8, 10, 500);
        for (const k of METHODS) {
          measured[`seed${seed}_${k}`] = r.means[k];
          tot[k] += r.means[k] / seeds.length;
        }
      }
      for (const k of METHODS) measured[`mean_${k}`] = tot[k];
      return {
        pass: tot.hybrid > tot.cdsm && tot.hybrid > tot.attack,
        measured,
        summary: `budget 500, 8 surrogates × 10 starts per seed: mean best feasible f hybrid ${tot.hybrid.toFixed(3)}, cDSM ${tot.cdsm.toFixed(3)}, attack ${tot.attack.toFixed(3)}`,
      };
    },
  },
});
