// ProSper BSC: binary sparse coding, y = W s + N(0, σ²I), s_h ~ Bernoulli(π), learned by truncated EM.
// Bars test of ProSper's examples/barstests (param-bars-bsc.py + bars-learning.py): size 5, W = 10·bars,
// σ = 2, N = 1000, H′ = 8, γ = 5, 50 EM steps, T 2 → 1 by 70 %, N_cut 0 → 1 by 2/3. The bar probability
// defaults to bars-learning.py's p_bar = 1/size (param-bars-bsc.py sets 2/size, a harder setting: config `pi`).
import { z } from 'zod';
import { defineProsperExperiment, type ProsperModelSpec } from './prosper-engine';
import { LinearEtModel, generateLinear, initLinear, type LinearParams } from './prosper-linear';

export const bscSpec: ProsperModelSpec<any, LinearParams> = {
  id: 'prosper-bsc',
  title: 'ProSper BSC (binary sparse coding, truncated EM)',
  description: 'y = W s + Gaussian noise, s binary with Bernoulli(π) prior; W, π, σ learned',
  extraSchema: {
    hPrime: z.number().int().min(1).max(20).default(8).describe('ET: candidate units H′ per data point'),
    gamma: z.number().int().min(1).max(10).default(5).describe('ET: at most γ active units in the truncated posterior'),
    pi: z.number().gt(0).lt(1).default(0.2).describe('Bars test: probability of each bar (bars-learning.py: 1/size = 0.2; param-bars-bsc.py: 2/size = 0.4, harder)'),
    sigma: z.number().positive().max(100).default(2).describe('Bars test: noise standard deviation'),
  },
  generate: (cfg, W, D, H, rng) => generateLinear(W, D, H, cfg.samples, [1], [cfg.pi], cfg.sigma, rng),
  create: (_cfg, Y, N, D, H, rng) => ({
    model: new LinearEtModel({ D, H, values: [1], priorMode: 'shared', absSelection: false, name: 'bsc' }),
    init: initLinear(Y, N, D, H, 1, rng),
  }),
  truthScalars: (cfg) => ({ pi: cfg.pi, sigma: cfg.sigma }),
  fast: { emSteps: 40, samples: 500, baselineIters: 100 },
  full: { emSteps: 50, samples: 1000 },
};

export const prosperBscExperiment = defineProsperExperiment(bscSpec);
