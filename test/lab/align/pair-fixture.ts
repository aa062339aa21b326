// A random P3O rollout pair for the pair-loss finite-difference tests (joint and token-wise): y1 of 3
// tokens, y2 of 4, behaviour log-probs jittered by ±oldJitter/2 around the current ones.
import type { Rng } from '../../../src/core/rng';
import type { RolloutPair } from '../../../src/lab/align/p3o';

export function randomRolloutPair(rng: Rng, oldJitter: number): RolloutPair {
  const seq = (n: number) => Array.from({ length: n }, () => -1 - 2 * rng.uniform());
  const lp: [number[], number[]] = [seq(3), seq(4)];
  const old: [number[], number[]] = [lp[0].map((x) => x + oldJitter * (rng.uniform() - 0.5)), lp[1].map((x) => x + oldJitter * (rng.uniform() - 0.5))];
  return { r: [rng.uniform(), rng.uniform()], lp, ref: [seq(3), seq(4)], old };
}
