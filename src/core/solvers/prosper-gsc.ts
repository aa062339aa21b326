// ProSper GSC: Gaussian sparse coding (spike-and-slab; Sheikh, Shelton & Lücke 2014),
// s_h = b_h z_h, b_h ~ Bernoulli(π), z_h ~ N(μ_h, ψ_h²), y = W s + N(0, σ² I). Truncated EM over the
// binary spikes b; given b (active set K) the slab is integrated out in closed form:
//   p(y | b) = N(y; W_K μ_K, σ² I + W_K Ψ_K W_Kᵀ), posterior z_K | y, b ~ N(κ, Λ),
//   Λ = (Ψ_K⁻¹ + W_KᵀW_K/σ²)⁻¹, κ = Λ (W_Kᵀy/σ² + Ψ_K⁻¹ μ_K),
// evaluated with the Woodbury identity on |K| × |K| systems (|K| ≤ γ). M-step: W = (Σ y⟨s⟩ᵀ)(Σ⟨ssᵀ⟩)⁻¹,
// μ_h = Σ⟨s_h⟩/Σ⟨b_h⟩, ψ_h² = Σ⟨s_h²⟩/Σ⟨b_h⟩ − μ_h², σ² = Σ⟨‖y − W s‖²⟩/(D N), π with the ET correction.
// Bars test after ProSper's param-bars-gsc.py: W = 10·bars, π = 2/H, μ = 1, ψ² = 1, σ² = 1, H′ = 7, γ = 4
// (N = 10 000 there; 2 000 here by default). A single π shared by all units (ProSper allows one per unit).
import { z } from 'zod';
import type { Rng } from '../rng';
import { choleskyInPlace, choleskyLogDet, choleskySolveInPlace, solveSpd } from '../linalg/cholesky';
import { defineProsperExperiment, standardInitDictionary, type AnnealState, type EtModel, type ProsperModelSpec } from './prosper-engine';

export interface GscParams {
  W: Float64Array;
  pi: number;
  mu: Float64Array;
  psi2: Float64Array;
  sigma2: number;
}

export class GscEtModel implements EtModel<GscParams> {
  readonly name = 'gsc';
  readonly values = [1];
  private G = new Float64Array(0);
  private b = new Float64Array(0);
  private yy = 0;
  private logPi = 0;
  private log1mPi = 0;
  // k×k scratch (k ≤ γ)
  private M = new Float64Array(0);
  private t = new Float64Array(0);
  private col = new Float64Array(0);
  // statistics
  private sy = new Float64Array(0);
  private ss = new Float64Array(0);
  private es = new Float64Array(0);
  private sumS = new Float64Array(0);
  private sumB = new Float64Array(0);
  private yySum = 0;
  private activeSum = 0;

  constructor(readonly D: number, readonly H: number) {}

  prepare(p: GscParams, _a: AnnealState): void {
    const { D, H } = this;
    this.G = new Float64Array(H * H);
    for (let d = 0; d < D; d++) for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) this.G[i * H + j] += p.W[d * H + i] * p.W[d * H + j];
    this.b = new Float64Array(H);
    this.logPi = Math.log(p.pi);
    this.log1mPi = Math.log(1 - p.pi);
    this.M = new Float64Array(H * H);
    this.t = new Float64Array(H);
    this.col = new Float64Array(H);
  }

  preparePoint(y: Float64Array, p: GscParams): void {
    const { D, H } = this;
    this.b.fill(0);
    let yy = 0;
    for (let d = 0; d < D; d++) {
      yy += y[d] * y[d];
      for (let h = 0; h < H; h++) this.b[h] += p.W[d * H + h] * y[d];
    }
    this.yy = yy;
  }

  logPrior(k: number): number {
    return k * this.logPi + (this.H - k) * this.log1mPi;
  }

  /** Factor M = Ψ_K⁻¹ + W_KᵀW_K/σ² (k×k, lower Cholesky in this.M) and t = W_Kᵀ(y − W_K μ_K)/σ². Returns ‖y − W_K μ_K‖². */
  private factor(k: number, u: Int32Array, p: GscParams): number {
    const { H, G, b, M, t } = this;
    const s2 = p.sigma2;
    let rr = this.yy;
    for (let i = 0; i < k; i++) {
      const hi = u[i];
      let gmu = 0;
      for (let j = 0; j < k; j++) {
        const gij = G[hi * H + u[j]];
        M[i * k + j] = gij / s2;
        gmu += gij * p.mu[u[j]];
      }
      M[i * k + i] += 1 / p.psi2[hi];
      t[i] = (b[hi] - gmu) / s2;
      rr += -2 * p.mu[hi] * b[hi] + p.mu[hi] * gmu;
    }
    choleskyInPlace(M.subarray(0, k * k), k);
    return Math.max(rr, 0);
  }

  logLik(k: number, u: Int32Array, _v: Int32Array, p: GscParams): number {
    const D = this.D;
    if (k === 0) return -0.5 * (D * Math.log(2 * Math.PI * p.sigma2) + this.yy / p.sigma2);
    const rr = this.factor(k, u, p);
    const L = this.M.subarray(0, k * k);
    // log det(σ²I + W Ψ Wᵀ) = D log σ² + log det Ψ_K + log det M (matrix determinant lemma)
    let logDet = D * Math.log(p.sigma2) + choleskyLogDet(L, k);
    for (let i = 0; i < k; i++) logDet += Math.log(p.psi2[u[i]]);
    // quadratic form by Woodbury: rᵀC⁻¹r = ‖r‖²/σ² − tᵀ M⁻¹ t
    const x = this.col.subarray(0, k);
    x.set(this.t.subarray(0, k));
    choleskySolveInPlace(L, k, x);
    let tx = 0;
    for (let i = 0; i < k; i++) tx += this.t[i] * x[i];
    return -0.5 * (D * Math.log(2 * Math.PI) + logDet + rr / p.sigma2 - tx);
  }

  selectionScores(y: Float64Array, p: GscParams, out: Float64Array): void {
    const { D, H } = this;
    out.fill(0);
    const nw = new Float64Array(H);
    for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) { out[h] += p.W[d * H + h] * y[d]; nw[h] += p.W[d * H + h] ** 2; }
    for (let h = 0; h < H; h++) out[h] = Math.abs(out[h]) / Math.sqrt(Math.max(nw[h], 1e-300));
  }

  beginStats(): void {
    const { D, H } = this;
    this.sy = new Float64Array(H * D);
    this.ss = new Float64Array(H * H);
    this.es = new Float64Array(H);
    this.sumS = new Float64Array(H);
    this.sumB = new Float64Array(H);
    this.yySum = 0;
    this.activeSum = 0;
  }

  accumulate(_y: Float64Array, k: number, u: Int32Array, _v: Int32Array, q: number, p: GscParams): void {
    if (k === 0) return;
    const { H } = this;
    this.factor(k, u, p);
    const L = this.M.subarray(0, k * k);
    // κ = M⁻¹ (W_Kᵀy/σ² + Ψ_K⁻¹μ_K) = μ_K + M⁻¹ t
    const kappa = this.col.subarray(0, k);
    kappa.set(this.t.subarray(0, k));
    choleskySolveInPlace(L, k, kappa);
    for (let i = 0; i < k; i++) kappa[i] += p.mu[u[i]];
    this.activeSum += q * k;
    const e = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      this.es[u[i]] += q * kappa[i];
      this.sumB[u[i]] += q;
    }
    // ⟨s sᵀ⟩ = Λ + κκᵀ on K×K, Λ = M⁻¹ column by column
    for (let j = 0; j < k; j++) {
      e.fill(0);
      e[j] = 1;
      choleskySolveInPlace(L, k, e);
      for (let i = 0; i < k; i++) this.ss[u[i] * H + u[j]] += q * (e[i] + kappa[i] * kappa[j]);
    }
  }

  endPoint(y: Float64Array): void {
    const { D, H } = this;
    let yy = 0;
    for (let d = 0; d < D; d++) yy += y[d] * y[d];
    this.yySum += yy;
    for (let h = 0; h < H; h++) {
      const e = this.es[h];
      if (e === 0) continue;
      this.sumS[h] += e;
      for (let d = 0; d < D; d++) this.sy[h * D + d] += e * y[d];
    }
    this.es.fill(0);
  }

  mStep(p: GscParams, nUse: number, tr: { A: number; B: number }): GscParams {
    const { D, H } = this;
    const Wt = solveSpd(this.ss, H, this.sy, D);
    const W = new Float64Array(D * H);
    for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) W[d * H + h] = Wt[h * D + d];
    const mu = Float64Array.from(p.mu), psi2 = Float64Array.from(p.psi2);
    for (let h = 0; h < H; h++) {
      if (this.sumB[h] < 1e-8) continue;
      mu[h] = this.sumS[h] / this.sumB[h];
      psi2[h] = Math.max(this.ss[h * H + h] / this.sumB[h] - mu[h] * mu[h], 1e-4);
    }
    // σ² = (Σ‖y‖² − 2 Σ yᵀW⟨s⟩ + tr(WᵀW Σ⟨ssᵀ⟩)) / (D N_use), with the new W
    let cross = 0;
    for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) cross += W[d * H + h] * this.sy[h * D + d];
    let quad = 0;
    for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) {
      let g = 0;
      for (let d = 0; d < D; d++) g += W[d * H + i] * W[d * H + j];
      quad += g * this.ss[j * H + i];
    }
    const sigma2 = Math.max((this.yySum - 2 * cross + quad) / (D * nUse), 1e-8);
    const pi = Math.min(Math.max(((tr.A / Math.max(tr.B, 1e-300)) * p.pi * this.activeSum) / nUse, 1e-6), 1 - 1e-6);
    return { W, pi, mu, psi2, sigma2 };
  }

  activeProb(p: GscParams): number {
    return p.pi;
  }

  scalars(p: GscParams): Record<string, number> {
    let mu = 0;
    for (const m of p.mu) mu += m / p.mu.length;
    return { pi: p.pi, sigma: Math.sqrt(p.sigma2), mu_mean: mu };
  }

  /** Effective atoms W_h μ_h (W and μ trade scale: only their product is identified). */
  dictionary(p: GscParams, effective: boolean): Float64Array {
    if (!effective) return p.W;
    const H = this.H;
    return Float64Array.from(p.W, (w, i) => w * p.mu[i % H]);
  }
}

/** y = W (b ∘ z) + σ ε with b ~ Bernoulli(π), z ~ N(μ, ψ²). */
export function generateGsc(W: Float64Array, D: number, H: number, N: number, pi: number, mu: number, psi2: number, sigma2: number, rng: Rng): Float64Array {
  const Y = new Float64Array(N * D);
  const sig = Math.sqrt(sigma2), psi = Math.sqrt(psi2);
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      if (rng.uniform() >= pi) continue;
      const s = mu + psi * rng.normal();
      for (let d = 0; d < D; d++) Y[n * D + d] += s * W[d * H + h];
    }
    for (let d = 0; d < D; d++) Y[n * D + d] += sig * rng.normal();
  }
  return Y;
}

export const gscSpec: ProsperModelSpec<any, GscParams> = {
  id: 'prosper-gsc',
  title: 'ProSper GSC (Gaussian spike-and-slab sparse coding, truncated EM)',
  description: 'y = W (b ∘ z) + Gaussian noise, b binary, z Gaussian slab integrated out; W, π, μ, ψ², σ² learned',
  extraSchema: {
    hPrime: z.number().int().min(1).max(20).default(7).describe('ET: candidate units H′ per data point'),
    gamma: z.number().int().min(1).max(10).default(4).describe('ET: at most γ active units in the truncated posterior'),
    pi: z.number().gt(0).lt(1).default(0.2).describe('Bars test: spike probability (ProSper: 2/H)'),
    slabMean: z.number().min(-100).max(100).default(1).describe('Bars test: slab mean μ'),
    slabVar: z.number().positive().max(100).default(1).describe('Bars test: slab variance ψ²'),
    noiseVar: z.number().positive().max(100).default(1).describe('Bars test: observation noise variance σ²'),
  },
  generate: (cfg, W, D, H, rng) => generateGsc(W, D, H, cfg.samples, cfg.pi, cfg.slabMean, cfg.slabVar, cfg.noiseVar, rng),
  create: (_cfg, Y, N, D, H, rng) => {
    const init = standardInitDictionary(Y, N, D, H, rng);
    return { model: new GscEtModel(D, H), init: { W: init.W, pi: 1 / H, mu: new Float64Array(H).fill(1), psi2: new Float64Array(H).fill(1), sigma2: init.sigma ** 2 } };
  },
  truthScalars: (cfg) => ({ pi: cfg.pi, sigma: Math.sqrt(cfg.noiseVar) }),
  fast: { emSteps: 40, samples: 1000, baselineIters: 100 },
  full: { emSteps: 60, samples: 2000 },
};

export const prosperGscExperiment = defineProsperExperiment(gscSpec);
