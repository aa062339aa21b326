// ProSper DSC: discrete sparse coding, y = W s + N(0, σ²I), s_h ∈ {0, ψ_1, .., ψ_K} with learned
// probabilities π_k. Bars test after ProSper's examples/barstests/param-bars-dsc.py: states {0, 1, 2},
// π = (0.8, 0.15, 0.05), W = 10·bars, σ = 2, N = 1000, H′ = 7, γ = 5 (100 EM steps there).
import { z } from 'zod';
import { defineProsperExperiment, type ProsperModelSpec } from './prosper-engine';
import { LinearEtModel, generateLinear, initLinear, type LinearParams } from './prosper-linear';

export const dscSpec: ProsperModelSpec<any, LinearParams> = {
  id: 'prosper-dsc',
  title: 'ProSper DSC (discrete sparse coding, truncated EM)',
  description: 'y = W s + Gaussian noise, s_h from a finite value set with learned prior π_k; W, π, σ learned',
  extraSchema: {
    hPrime: z.number().int().min(1).max(20).default(7).describe('ET: candidate units H′ per data point'),
    gamma: z.number().int().min(1).max(10).default(5).describe('ET: at most γ active units in the truncated posterior'),
    values: z.array(z.number().refine((v) => v !== 0, 'values are the nonzero states')).min(1).max(6).default([1, 2]).describe('Nonzero latent values ψ_k (0 is always a state)'),
    valueProbs: z.array(z.number().gt(0).lt(1)).min(1).max(6).default([0.15, 0.05]).describe('Bars test: probability of each nonzero value (same length as values; sum < 1)'),
    sigma: z.number().positive().max(100).default(2).describe('Bars test: noise standard deviation'),
  },
  generate: (cfg, W, D, H, rng) => {
    if (cfg.valueProbs.length !== cfg.values.length) throw new Error(`valueProbs: expected ${cfg.values.length} probabilities (one per entry of values), got ${cfg.valueProbs.length}`);
    if (cfg.valueProbs.reduce((a: number, b: number) => a + b, 0) >= 1) throw new Error('valueProbs: the probabilities of the nonzero values must sum to less than 1');
    return generateLinear(W, D, H, cfg.samples, cfg.values, cfg.valueProbs, cfg.sigma, rng);
  },
  create: (cfg, Y, N, D, H, rng) => ({
    model: new LinearEtModel({ D, H, values: cfg.values, priorMode: 'per-value', absSelection: false, name: 'dsc' }),
    init: initLinear(Y, N, D, H, cfg.values.length, rng),
  }),
  truthScalars: (cfg) => {
    const out: Record<string, number> = { pi: cfg.valueProbs.reduce((a: number, b: number) => a + b, 0), sigma: cfg.sigma };
    cfg.values.forEach((v: number, i: number) => (out[`pi_${v}`] = cfg.valueProbs[i]));
    return out;
  },
  fast: { emSteps: 40, samples: 500, hPrime: 6, gamma: 4, baselineIters: 100 },
  full: { emSteps: 60, samples: 1000 },
};

export const prosperDscExperiment = defineProsperExperiment(dscSpec);
