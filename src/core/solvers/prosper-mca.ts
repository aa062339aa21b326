// ProSper MCA: maximal causes analysis, y_d = max_h W_dh s_h + N(0, σ²), s_h ~ Bernoulli(π), W ≥ 0.
// Non-linear superposition: where bars overlap the pixel is the maximum, not the sum. Learned by
// truncated EM with the soft-max W̄_d = (Σ_h s_h W_dh^ρ)^{1/ρ}, ρ = 1/(1 − 1/T_ρ), T_ρ = max(T, 1.05),
// tied to the annealing temperature as in ProSper's mca_et.py; W update (Lücke & Sahani 2008):
// W_dh = Σ_n ⟨A_dh⟩ y_d / Σ_n ⟨A_dh⟩, A_dh = s_h (W_dh / W̄_d)^{ρ−1}.
// Bars test after ProSper's param-bars-mca.py: W = 10·bars, π = 1/size, σ = 2, H′ = 7, γ = 5, T 4 → 1 by 80 %.
import { z } from 'zod';
import type { Rng } from '../rng';
import { defineProsperExperiment, standardInitDictionary, type AnnealState, type EtModel, type ProsperModelSpec } from './prosper-engine';

export interface McaParams {
  W: Float64Array;
  pi: number;
  sigma: number;
}

const W_TOL = 1e-4; // W is kept ≥ W_TOL (ProSper's W_tol): log W must exist

export class McaEtModel implements EtModel<McaParams> {
  readonly name = 'mca';
  readonly values = [1];
  private rho = 1;
  private logW = new Float64Array(0);
  private wRho = new Float64Array(0);
  private logPi = 0;
  private log1mPi = 0;
  private inv2s2 = 0;
  private logNorm = 0;
  private y: Float64Array = new Float64Array(0);
  private wbar = new Float64Array(0);
  private wp = new Float64Array(0);
  private wq = new Float64Array(0);
  private activeSum = 0;
  private sigmaSum = 0;

  constructor(readonly D: number, readonly H: number, private readonly rhoTempBound = 1.05) {}

  prepare(p: McaParams, a: AnnealState): void {
    const tRho = Math.max(a.T, this.rhoTempBound);
    this.rho = 1 / (1 - 1 / tRho);
    this.logW = Float64Array.from(p.W, (w) => Math.log(w));
    this.wRho = Float64Array.from(this.logW, (l) => Math.exp(this.rho * l));
    this.logPi = Math.log(p.pi);
    this.log1mPi = Math.log(1 - p.pi);
    this.inv2s2 = 1 / (2 * p.sigma * p.sigma);
    this.logNorm = -0.5 * this.D * Math.log(2 * Math.PI * p.sigma * p.sigma);
    this.wbar = new Float64Array(this.D);
    this.wsum = new Float64Array(this.D);
  }

  preparePoint(y: Float64Array): void {
    this.y = y;
  }

  logPrior(k: number): number {
    return k * this.logPi + (this.H - k) * this.log1mPi;
  }

  /** W̄_d = (Σ_i W_{d,u_i}^ρ)^{1/ρ} for the state into this.wbar (and the inner sum into this.wsum); returns ‖y − W̄‖². */
  private combine(k: number, u: Int32Array, W: Float64Array): number {
    const { D, H, y } = this;
    const invRho = 1 / this.rho;
    let r = 0;
    for (let d = 0; d < D; d++) {
      let wb = 0;
      if (k === 1) wb = W[d * H + u[0]];
      else if (k > 1) {
        let s = 0;
        for (let i = 0; i < k; i++) s += this.wRho[d * H + u[i]];
        this.wsum[d] = s;
        wb = Math.pow(s, invRho);
      }
      this.wbar[d] = wb;
      r += (y[d] - wb) ** 2;
    }
    return r;
  }

  private wsum = new Float64Array(0);

  logLik(k: number, u: Int32Array, _v: Int32Array, p: McaParams): number {
    return this.logNorm - this.inv2s2 * this.combine(k, u, p.W);
  }

  /** ProSper's MCA selection: units whose atom "explains" y with the least overshoot Σ_d |max(W_dh, y_d) − y_d|. */
  selectionScores(y: Float64Array, p: McaParams, out: Float64Array): void {
    const { D, H } = this;
    out.fill(0);
    for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) out[h] -= Math.abs(Math.max(p.W[d * H + h], y[d]) - y[d]);
  }

  beginStats(): void {
    this.wp = new Float64Array(this.D * this.H);
    this.wq = new Float64Array(this.D * this.H);
    this.activeSum = 0;
    this.sigmaSum = 0;
  }

  accumulate(y: Float64Array, k: number, u: Int32Array, _v: Int32Array, q: number, p: McaParams): void {
    const { D, H } = this;
    this.sigmaSum += q * this.combine(k, u, p.W);
    this.activeSum += q * k;
    for (let i = 0; i < k; i++) {
      const h = u[i];
      for (let d = 0; d < D; d++) {
        // A_dh = (W_dh / W̄_d)^{ρ−1}: the share of pixel d explained by unit h (1 for a single cause)
        // (W/W̄)^{ρ−1} = (W^ρ / W) · (W̄ / W̄^ρ), and W̄^ρ is the inner sum: no exp/log needed
        const A = k === 1 ? 1 : ((this.wRho[d * H + h] / p.W[d * H + h]) * this.wbar[d]) / this.wsum[d];
        this.wp[d * H + h] += q * A * y[d];
        this.wq[d * H + h] += q * A;
      }
    }
  }

  mStep(p: McaParams, nUse: number, t: { A: number; B: number }): McaParams {
    const W = new Float64Array(this.D * this.H);
    for (let i = 0; i < W.length; i++) W[i] = this.wq[i] > 1e-300 ? Math.max(this.wp[i] / this.wq[i], W_TOL) : W_TOL;
    const pi = Math.min(Math.max(((t.A / Math.max(t.B, 1e-300)) * p.pi * this.activeSum) / nUse, 1e-6), 1 - 1e-6);
    return { W, pi, sigma: Math.sqrt(this.sigmaSum / (this.D * nUse)) };
  }

  activeProb(p: McaParams): number {
    return p.pi;
  }

  scalars(p: McaParams): Record<string, number> {
    return { pi: p.pi, sigma: p.sigma };
  }

  dictionary(p: McaParams): Float64Array {
    return p.W;
  }
}

/** y_d = max_h s_h W_dh + σ ε, s_h ~ Bernoulli(π). */
export function generateMca(W: Float64Array, D: number, H: number, N: number, pi: number, sigma: number, rng: Rng): Float64Array {
  const Y = new Float64Array(N * D);
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      if (rng.uniform() >= pi) continue;
      for (let d = 0; d < D; d++) Y[n * D + d] = Math.max(Y[n * D + d], W[d * H + h]);
    }
    for (let d = 0; d < D; d++) Y[n * D + d] += sigma * rng.normal();
  }
  return Y;
}

export const mcaSpec: ProsperModelSpec<any, McaParams> = {
  id: 'prosper-mca',
  title: 'ProSper MCA (maximal causes analysis, truncated EM)',
  description: 'y = max_h W_h s_h + Gaussian noise (non-linear superposition), s binary; W, π, σ learned',
  extraSchema: {
    hPrime: z.number().int().min(1).max(20).default(7).describe('ET: candidate units H′ per data point'),
    gamma: z.number().int().min(1).max(10).default(5).describe('ET: at most γ active units in the truncated posterior'),
    pi: z.number().gt(0).lt(1).default(0.2).describe('Bars test: probability of each bar (ProSper: 1/size)'),
    sigma: z.number().positive().max(100).default(2).describe('Bars test: noise standard deviation'),
  },
  generate: (cfg, W, D, H, rng) => generateMca(W, D, H, cfg.samples, cfg.pi, cfg.sigma, rng),
  create: (_cfg, Y, N, D, H, rng) => {
    const init = standardInitDictionary(Y, N, D, H, rng);
    return { model: new McaEtModel(D, H), init: { W: init.W.map((w) => Math.max(w, W_TOL)), pi: 1 / H, sigma: init.sigma } };
  },
  truthScalars: (cfg) => ({ pi: cfg.pi, sigma: cfg.sigma }),
  fast: { emSteps: 60, samples: 500, hPrime: 6, gamma: 4, tStart: 4, annealEnd: 0.8, baselineIters: 100 },
  full: { emSteps: 60, samples: 1000, hPrime: 6, gamma: 4, tStart: 4, annealEnd: 0.8 },
};

export const prosperMcaExperiment = defineProsperExperiment(mcaSpec);
