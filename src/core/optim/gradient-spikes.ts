// Injected gradient outliers (optimizers.md §2 toy (b): "sparse gradient spikes, 1 % of entries ×50"),
// as a wrapper around any optimizer so it works inside the training-step graph. On a spiking step
// (probability p, decided from (seed, step)), a fixed random subset of entries (fraction f, one of
// `masks` precomputed subsets per parameter, chosen per step) is multiplied by `scale`:
//   g' = g ⊙ (1 + (scale − 1) Σ_j on_j · mask_j),   on_j ∈ {0, 1} fed per step.
import type { Tensor } from '../graph/graph';
import * as O from '../graph/ops';
import { Rng } from '../rng';
import type { Optimizer } from './optimizer';

export interface GradientSpikeOptions {
  /** Probability that a step carries spikes. */
  probability: number;
  /** Fraction of the entries of each parameter that spike. */
  fraction: number;
  /** Multiplier of the spiking entries. */
  scale: number;
  seed: number;
  /** Number of distinct spike patterns per parameter (default 4). */
  masks?: number;
}

function hashName(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** The spike patterns of one parameter (deterministic in seed and name). */
export function spikeMasks(name: string, size: number, o: GradientSpikeOptions): Float32Array[] {
  const rng = new Rng((o.seed * 1000003 + hashName(name)) >>> 0);
  return Array.from({ length: o.masks ?? 4 }, () => Float32Array.from({ length: size }, () => (rng.uniform() < o.fraction ? 1 : 0)));
}

/** Which pattern spikes at step t (−1: none). */
export function spikeAt(t: number, o: GradientSpikeOptions): number {
  const rng = new Rng((o.seed * 7919 + t * 104729) >>> 0);
  return rng.uniform() < o.probability ? rng.int(o.masks ?? 4) : -1;
}

export function withGradientSpikes(inner: Optimizer, o: GradientSpikeOptions): Optimizer {
  const k = o.masks ?? 4;
  const cache = new Map<string, Float32Array[]>();
  const masksOf = (name: string, size: number) => {
    let m = cache.get(name);
    if (!m) cache.set(name, (m = spikeMasks(name, size, o)));
    return m;
  };
  return {
    name: inner.name,
    stateNames: inner.stateNames,
    scalars(t, lr) {
      const which = spikeAt(t, o);
      const on: Record<string, number> = {};
      for (let j = 0; j < k; j++) on[`spike_${j}`] = j === which ? 1 : 0;
      return { ...inner.scalars(t, lr), ...on };
    },
    update(p, g, st, sc, name) {
      const masks = masksOf(name, g.size);
      let sel: Tensor | null = null;
      masks.forEach((m, j) => {
        const term = O.mul(g.graph.constant(m, g.shape), sc[`spike_${j}`]);
        sel = sel ? O.add(sel, term) : term;
      });
      const factor = O.add(O.mul(sel!, o.scale - 1), 1);
      return inner.update(p, O.mul(g, factor), st, sc, name);
    },
    updateInPlace(p, g, st, sc, name) {
      const masks = masksOf(name, g.length);
      const g2 = Float32Array.from(g);
      masks.forEach((m, j) => {
        if (sc[`spike_${j}`] !== 1) return;
        for (let i = 0; i < g2.length; i++) if (m[i]) g2[i] *= o.scale;
      });
      inner.updateInPlace(p, g2, st, sc, name);
    },
  };
}
