// ProSper TSC: ternary sparse coding, y = W s + N(0, σ²I), s_h ∈ {−1, 0, 1} with p(s_h = ±1) = π/2.
// Bars test after ProSper's examples/barstests/param-bars-tsc.py: size 5, W = 10·bars, π = 1/size, σ = 2,
// N = 1000, H′ = 7, γ = 5 (300 EM steps there; 60 here by default — the log-likelihood has flattened by then).
// Atoms are identified only up to sign (s → −s, W_h → −W_h), so matching uses |cos|.
import { z } from 'zod';
import { defineProsperExperiment, type ProsperModelSpec } from './prosper-engine';
import { LinearEtModel, generateLinear, initLinear, type LinearParams } from './prosper-linear';

export const tscSpec: ProsperModelSpec<any, LinearParams> = {
  id: 'prosper-tsc',
  title: 'ProSper TSC (ternary sparse coding, truncated EM)',
  description: 'y = W s + Gaussian noise, s ∈ {−1, 0, 1} with symmetric prior; W, π, σ learned',
  extraSchema: {
    hPrime: z.number().int().min(1).max(20).default(7).describe('ET: candidate units H′ per data point'),
    gamma: z.number().int().min(1).max(10).default(5).describe('ET: at most γ active units in the truncated posterior'),
    pi: z.number().gt(0).lt(1).default(0.2).describe('Bars test: probability that a bar is active (sign ± with equal odds)'),
    sigma: z.number().positive().max(100).default(2).describe('Bars test: noise standard deviation'),
  },
  generate: (cfg, W, D, H, rng) => generateLinear(W, D, H, cfg.samples, [-1, 1], [cfg.pi / 2, cfg.pi / 2], cfg.sigma, rng),
  create: (_cfg, Y, N, D, H, rng) => ({
    model: new LinearEtModel({ D, H, values: [-1, 1], priorMode: 'shared', absSelection: true, name: 'tsc' }),
    init: initLinear(Y, N, D, H, 2, rng),
  }),
  signInvariant: true,
  truthScalars: (cfg) => ({ pi: cfg.pi, sigma: cfg.sigma }),
  fast: { emSteps: 40, samples: 500, hPrime: 6, gamma: 4, baselineIters: 100 },
  full: { emSteps: 60, samples: 1000 },
};

export const prosperTscExperiment = defineProsperExperiment(tscSpec);
