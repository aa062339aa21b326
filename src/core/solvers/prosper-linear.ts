// ProSper's linear-superposition models with discrete latents, y = W s + N(0, σ² I), learned by
// truncated EM (prosper-engine.ts). One model, three priors:
//   BSC (binary sparse coding)  s_h ∈ {0, 1},      p(s_h = 1) = π
//   TSC (ternary sparse coding) s_h ∈ {−1, 0, 1},  p(s_h = ±1) = π/2
//   DSC (discrete sparse coding) s_h ∈ {0, ψ_1..ψ_K}, p(s_h = ψ_k) = π_k
// They share the log-joint, the selection function and the M-step; each has its own experiment file.
import type { Rng } from '../rng';
import { solveSpd } from '../linalg/cholesky';
import { standardInitDictionary, type AnnealState, type EtModel } from './prosper-engine';

export interface LinearParams {
  /** D×H dictionary (row-major). */
  W: Float64Array;
  /** Prior probability of each nonzero value (same order as `values`). */
  prior: Float64Array;
  sigma: number;
}

export interface LinearModelOptions {
  D: number;
  H: number;
  values: number[];
  /** How the prior over nonzero values is learned: 'shared' = one π split evenly (BSC, TSC); 'per-value' = π_k each (DSC). */
  priorMode: 'shared' | 'per-value';
  /** Selection by |cos| (models symmetric in s → −s) instead of cos. */
  absSelection: boolean;
  name: string;
}

export class LinearEtModel implements EtModel<LinearParams> {
  readonly name: string;
  readonly D: number;
  readonly H: number;
  readonly values: number[];
  private readonly o: LinearModelOptions;
  // per-step scratch
  private G = new Float64Array(0);
  private logPrior0 = 0;
  private logPriorV = new Float64Array(0);
  private inv2s2 = 0;
  private logNorm = 0;
  // per-point scratch
  private b = new Float64Array(0);
  private yy = 0;
  // statistics
  private sy = new Float64Array(0); // H×D: Σ_n ⟨s⟩_n y_nᵀ
  private ss = new Float64Array(0); // H×H: Σ_n ⟨s sᵀ⟩_n
  private es = new Float64Array(0); // ⟨s⟩ of the current point
  private valueCount = new Float64Array(0);
  private sigmaSum = 0;

  constructor(o: LinearModelOptions) {
    this.o = o;
    this.name = o.name;
    this.D = o.D;
    this.H = o.H;
    this.values = o.values;
  }

  prepare(p: LinearParams, _a: AnnealState): void {
    const { D, H } = this;
    this.G = new Float64Array(H * H);
    for (let d = 0; d < D; d++) for (let i = 0; i < H; i++) {
      const w = p.W[d * H + i];
      if (w === 0) continue;
      for (let j = 0; j < H; j++) this.G[i * H + j] += w * p.W[d * H + j];
    }
    let active = 0;
    for (const q of p.prior) active += q;
    this.logPrior0 = Math.log(Math.max(1 - active, 1e-300));
    this.logPriorV = Float64Array.from(p.prior, (q) => Math.log(Math.max(q, 1e-300)));
    this.inv2s2 = 1 / (2 * p.sigma * p.sigma);
    this.logNorm = -0.5 * D * Math.log(2 * Math.PI * p.sigma * p.sigma);
    this.b = new Float64Array(H);
  }

  preparePoint(y: Float64Array, p: LinearParams): void {
    const { D, H } = this;
    this.b.fill(0);
    let yy = 0;
    for (let d = 0; d < D; d++) {
      const yd = y[d];
      yy += yd * yd;
      for (let h = 0; h < H; h++) this.b[h] += p.W[d * H + h] * yd;
    }
    this.yy = yy;
  }

  logPrior(k: number, _u: Int32Array, v: Int32Array): number {
    let lp = (this.H - k) * this.logPrior0;
    for (let i = 0; i < k; i++) lp += this.logPriorV[v[i]];
    return lp;
  }

  /** ‖y − W s‖² = yᵀy − 2 sᵀWᵀy + sᵀWᵀW s, from the precomputed Wᵀy and WᵀW: O(k²) per state. */
  private residual2(k: number, u: Int32Array, v: Int32Array): number {
    const { H, G, b, values } = this;
    let r = this.yy;
    for (let i = 0; i < k; i++) {
      const vi = values[v[i]];
      r -= 2 * vi * b[u[i]];
      for (let j = 0; j < k; j++) r += vi * values[v[j]] * G[u[i] * H + u[j]];
    }
    return Math.max(r, 0);
  }

  logLik(k: number, u: Int32Array, v: Int32Array): number {
    return this.logNorm - this.inv2s2 * this.residual2(k, u, v);
  }

  /** BSC's selection function: cosine similarity between y and each atom (|cos| for TSC). */
  selectionScores(y: Float64Array, p: LinearParams, out: Float64Array): void {
    const { D, H } = this;
    out.fill(0);
    const nw = new Float64Array(H);
    for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) {
      const w = p.W[d * H + h];
      out[h] += w * y[d];
      nw[h] += w * w;
    }
    for (let h = 0; h < H; h++) {
      const c = out[h] / Math.sqrt(Math.max(nw[h], 1e-300));
      out[h] = this.o.absSelection ? Math.abs(c) : c;
    }
  }

  beginStats(_p: LinearParams): void {
    const { D, H } = this;
    this.sy = new Float64Array(H * D);
    this.ss = new Float64Array(H * H);
    this.es = new Float64Array(H);
    this.valueCount = new Float64Array(this.values.length);
    this.sigmaSum = 0;
  }

  accumulate(_y: Float64Array, k: number, u: Int32Array, v: Int32Array, q: number): void {
    const { H, values } = this;
    for (let i = 0; i < k; i++) {
      const vi = values[v[i]];
      this.es[u[i]] += q * vi;
      this.valueCount[v[i]] += q;
      for (let j = 0; j < k; j++) this.ss[u[i] * H + u[j]] += q * vi * values[v[j]];
    }
    this.sigmaSum += q * this.residual2(k, u, v); // ProSper updates σ with the old W
  }

  endPoint(y: Float64Array): void {
    const { D, H } = this;
    for (let h = 0; h < H; h++) {
      const e = this.es[h];
      if (e === 0) continue;
      for (let d = 0; d < D; d++) this.sy[h * D + d] += e * y[d];
    }
    this.es.fill(0);
  }

  mStep(p: LinearParams, nUse: number, t: { A: number; B: number }): LinearParams {
    const { D, H } = this;
    // W: (Σ⟨s sᵀ⟩) Wᵀ = Σ⟨s⟩ yᵀ
    const Wt = solveSpd(this.ss, H, this.sy, D);
    const W = new Float64Array(D * H);
    for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) W[d * H + h] = Wt[h * D + d];
    // π with the ET truncation correction A/B·π (the truncated space under-counts active units)
    const piOld = this.activeProb(p);
    let counted = 0;
    for (const c of this.valueCount) counted += c;
    const piNew = Math.min(Math.max(((t.A / Math.max(t.B, 1e-300)) * piOld * counted) / nUse, 1e-6), 1 - 1e-6);
    const prior = new Float64Array(this.values.length);
    for (let i = 0; i < prior.length; i++) {
      prior[i] = this.o.priorMode === 'shared' ? piNew / prior.length : (piNew * this.valueCount[i]) / Math.max(counted, 1e-300);
    }
    const sigma = Math.sqrt(this.sigmaSum / (D * nUse));
    return { W, prior, sigma };
  }

  activeProb(p: LinearParams): number {
    let s = 0;
    for (const q of p.prior) s += q;
    return s;
  }

  scalars(p: LinearParams): Record<string, number> {
    const out: Record<string, number> = { pi: this.activeProb(p), sigma: p.sigma };
    if (this.o.priorMode === 'per-value') p.prior.forEach((q, i) => (out[`pi_${this.values[i]}`] = q));
    return out;
  }

  dictionary(p: LinearParams): Float64Array {
    return p.W;
  }
}

/** y = W s + σ ε with s_h drawn from {0} ∪ values with the given probabilities of each nonzero value. */
export function generateLinear(W: Float64Array, D: number, H: number, N: number, values: number[], prior: number[], sigma: number, rng: Rng): Float64Array {
  const Y = new Float64Array(N * D);
  const probs = [1 - prior.reduce((a, b) => a + b, 0), ...prior];
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      const c = rng.categorical(probs);
      if (c === 0) continue;
      const val = values[c - 1];
      for (let d = 0; d < D; d++) Y[n * D + d] += val * W[d * H + h];
    }
    for (let d = 0; d < D; d++) Y[n * D + d] += sigma * rng.normal();
  }
  return Y;
}

/** ProSper's standard initialization for the linear models: W around the data mean, π = 1/H, σ = data std. */
export function initLinear(Y: Float64Array, N: number, D: number, H: number, nValues: number, rng: Rng): LinearParams {
  const { W, sigma } = standardInitDictionary(Y, N, D, H, rng);
  return { W, prior: new Float64Array(nValues).fill(1 / H / nValues), sigma };
}
