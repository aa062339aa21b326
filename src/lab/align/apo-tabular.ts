// APO in the tabular setting where the paper's statement is exact (spec alignment.md §1.2–1.3; He, Yuan, Gu,
// "Accelerated Preference Optimization", arXiv 2410.06293). Per prompt x: K responses, true reward
// r*(x,y) ~ N(0,1), π_ref = softmax of N(0,1) logits. Iteration t (reference = the current policy π_t):
//   D_t: N pairs y, y′ ~ π_t(·|x), labelled by Bradley–Terry, P(y ≻ y′) = σ(r*(y) − r*(y′))
//   π̂_{t+1} = argmin_π −E_{D_t} log σ(β[log π(y+)/π_t(y+) − log π(y−)/π_t(y−)])   (§3.1: DPO against π_t)
//             fitted by Adam on tabular logits started at log π_t (fresh moments every iteration)
//   log π_{t+1} = log π̂_{t+1} + α(log π̂_{t+1} − log π̂_t) − log Z′_t                (Eq. 3.6/3.7, π̂_0 = π_ref)
// The output after t iterations is π̂_t (pre-extrapolation, as in Catalyst); α = 0 is iterative DPO.
// With exact rewards the closed form (Thm 4.1) is π̂_{t+1} ∝ π_ref·exp(Σ_{i≤t} (1 − α^{t+1−i})/(1−α)·r/β):
// each reward estimate ends up counted 1/(1−α) times. Metrics are exact expectations under π̂_t.
import { logSumExp } from '../../core/linalg/logsumexp';
import { log1pExp, sigmoid } from '../../core/linalg/logistic';
import { Rng } from '../../core/rng';

export interface TabularPreferenceProblem {
  prompts: number;
  responses: number;
  /** r*(x, ·) per prompt. */
  reward: Float64Array[];
  /** log π_ref(· | x) per prompt (normalized). */
  refLogProbs: Float64Array[];
}

/** r* ~ N(0,1) and π_ref = softmax(N(0,1) logits), per prompt (spec §1.3). */
export function makeTabularPreferenceProblem(rng: Rng, prompts: number, responses: number): TabularPreferenceProblem {
  const reward: Float64Array[] = [];
  const refLogProbs: Float64Array[] = [];
  for (let x = 0; x < prompts; x++) {
    reward.push(rng.fillNormal(new Float64Array(responses)));
    refLogProbs.push(normalizeLogProbs(rng.fillNormal(new Float64Array(responses))));
  }
  return { prompts, responses, reward, refLogProbs };
}

/** log softmax: logits shifted so that Σ exp = 1. */
export function normalizeLogProbs(logits: Float64Array): Float64Array {
  const lse = logSumExp(logits);
  return logits.map((v) => v - lse);
}

/** Eq. 3.6/3.7 in log space: log π_{t+1} = (1+α) log π̂_{t+1} − α log π̂_t, renormalized (log Z′_t). */
export function extrapolateLogProbs(hat: Float64Array, hatPrev: Float64Array, alpha: number): Float64Array {
  return normalizeLogProbs(hat.map((v, y) => (1 + alpha) * v - alpha * hatPrev[y]));
}

/** Preference counts of one prompt: wins[i·K + j] = number of sampled pairs in which i ≻ j. */
export type WinCounts = Float64Array;

/** N pairs y, y′ ~ π(·|x) (independent draws), labelled by Bradley–Terry on r*. */
export function samplePreferencePairs(rng: Rng, logProbs: Float64Array, reward: Float64Array, pairs: number): WinCounts {
  const k = logProbs.length;
  const cdf = new Float64Array(k);
  let acc = 0;
  for (let y = 0; y < k; y++) cdf[y] = acc += Math.exp(logProbs[y]);
  const draw = () => {
    const u = rng.uniform() * acc;
    let lo = 0;
    let hi = k - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const wins = new Float64Array(k * k);
  for (let n = 0; n < pairs; n++) {
    const y = draw();
    const y2 = draw();
    const yWins = rng.uniform() < sigmoid(reward[y] - reward[y2]);
    if (yWins) wins[y * k + y2]++;
    else wins[y2 * k + y]++;
  }
  return wins;
}

/** Expected preference counts N·π(y)π(y′)σ(r*(y) − r*(y′)): the noiseless (population) data of a round. */
export function expectedPreferenceCounts(logProbs: Float64Array, reward: Float64Array, pairs: number): WinCounts {
  const k = logProbs.length;
  const wins = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) wins[i * k + j] = pairs * Math.exp(logProbs[i] + logProbs[j]) * sigmoid(reward[i] - reward[j]);
  return wins;
}

export interface DpoFitOptions {
  beta: number;
  steps: number;
  lr: number;
}

export interface DpoFitMetrics {
  loss: number;
  'rewards/chosen': number;
  'rewards/rejected': number;
  'rewards/margins': number;
  'rewards/accuracies': number;
}

/**
 * π̂ = argmin of the DPO loss against the reference `refLogProbs` (= log π_t) on one prompt's pairs:
 *   L(θ) = −(1/N) Σ_{i,j} wins_ij · log σ(β h_ij),   h_ij = (θ_i − ref_i) − (θ_j − ref_j)
 * (softmax normalizers cancel in h). Full-batch Adam (β₁ 0.9, β₂ 0.999, ε 1e-8, fresh moments) on the
 * logits θ, started at θ = log π_t; float64 so the fit can be compared with the closed form exactly.
 * Responses in no pair get no gradient: their log-ratio to π_t stays 0 (up to the normalizer).
 */
export function fitTabularDpo(refLogProbs: Float64Array, wins: WinCounts, o: DpoFitOptions): { logProbs: Float64Array; metrics: DpoFitMetrics } {
  const k = refLogProbs.length;
  // The observed ordered pairs (winner, loser, count), i ≠ j: a pair of equal responses has h = 0 and no gradient.
  const win: number[] = [];
  const lose: number[] = [];
  const count: number[] = [];
  let n = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const c = wins[i * k + j];
      n += c;
      if (c > 0 && i !== j) {
        win.push(i);
        lose.push(j);
        count.push(c);
      }
    }
  }
  const delta = new Float64Array(k); // θ − log π_t
  const m = new Float64Array(k);
  const v = new Float64Array(k);
  const g = new Float64Array(k);
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  for (let s = 1; s <= o.steps && n > 0; s++) {
    g.fill(0);
    for (let p = 0; p < win.length; p++) {
      // ∂/∂δ_win of −log σ(βh) = −β σ(−βh); the loser gets the opposite sign.
      const w = (o.beta * count[p] * sigmoid(-o.beta * (delta[win[p]] - delta[lose[p]]))) / n;
      g[win[p]] -= w;
      g[lose[p]] += w;
    }
    const stepSize = o.lr / (1 - b1 ** s);
    const bc2 = Math.sqrt(1 - b2 ** s);
    for (let y = 0; y < k; y++) {
      m[y] = b1 * m[y] + (1 - b1) * g[y];
      v[y] = b2 * v[y] + (1 - b2) * g[y] * g[y];
      delta[y] -= (stepSize * m[y]) / (Math.sqrt(v[y]) / bc2 + eps);
    }
  }
  const logProbs = normalizeLogProbs(refLogProbs.map((r, y) => r + delta[y]));
  // TRL's DPO metrics over the pairs (implicit reward β·log π̂/π_t; pairs of equal responses count with margin 0).
  const met = { loss: 0, ch: 0, rj: 0, acc: 0 };
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const c = wins[i * k + j];
      if (!c) continue;
      const rc = o.beta * (logProbs[i] - refLogProbs[i]);
      const rr = o.beta * (logProbs[j] - refLogProbs[j]);
      met.loss += c * log1pExp(rr - rc);
      met.ch += c * rc;
      met.rj += c * rr;
      met.acc += rc > rr ? c : 0;
    }
  }
  const d = Math.max(n, 1);
  return { logProbs, metrics: { loss: met.loss / d, 'rewards/chosen': met.ch / d, 'rewards/rejected': met.rj / d, 'rewards/margins': (met.ch - met.rj) / d, 'rewards/accuracies': met.acc / d } };
}

/** Sub-optimality gap E_{π*}[r*] − E_{π̂}[r*] and TV(π̂, π*) with π* = argmax r* (deterministic), one prompt. */
export function gapAndTv(logProbs: Float64Array, reward: Float64Array): { gap: number; tv: number } {
  let best = 0;
  for (let y = 1; y < reward.length; y++) if (reward[y] > reward[best]) best = y;
  let expected = 0;
  for (let y = 0; y < reward.length; y++) expected += Math.exp(logProbs[y]) * reward[y];
  return { gap: reward[best] - expected, tv: 1 - Math.exp(logProbs[best]) };
}

/** KL(p‖q) from log-probabilities. */
export function klFromLogProbs(p: Float64Array, q: Float64Array): number {
  let s = 0;
  for (let y = 0; y < p.length; y++) s += Math.exp(p[y]) * (p[y] - q[y]);
  return Math.max(s, 0);
}

export interface TabularArmOptions extends DpoFitOptions {
  alpha: number;
  pairs: number;
  iterations: number;
  /** 'sampled': N Bradley–Terry pairs per prompt; 'expected': their expected counts (noiseless). */
  data?: 'sampled' | 'expected';
}

export interface TabularIterationLog extends DpoFitMetrics {
  gap: number;
  tv: number;
  /** KL(π̂_t ‖ π_ref) and KL(π̂_t ‖ π_{t−1}) (the proximal step's size), means over prompts. */
  'objective/kl': number;
  'objective/kl_to_round_reference': number;
  /** ‖log π̂_t − log π̂_{t−1}‖₂ (the momentum direction), mean over prompts. */
  extrapolation_norm: number;
}

export interface TabularArmResult {
  /** Index t = 0..T: π̂_t (index 0 = π_ref); means over prompts. */
  gap: number[];
  tv: number[];
  /** log π̂_T per prompt (the output). */
  output: Float64Array[];
}

/**
 * One arm: T iterations of DPO against π_t with extrapolation α (spec §1.2 pseudo-code, log-space form).
 * `rng` draws the pairs; arms given generators with the same seed share their random numbers.
 */
export function runTabularApo(problem: TabularPreferenceProblem, o: TabularArmOptions, rng: Rng, onIteration?: (t: number, m: TabularIterationLog) => void): TabularArmResult {
  const P = problem.prompts;
  let hatPrev: Float64Array[] = problem.refLogProbs.map((l) => Float64Array.from(l)); // π̂_0 = π_ref
  let policy: Float64Array[] = problem.refLogProbs.map((l) => Float64Array.from(l)); //  π_0 = π_ref (sampler and reference)
  const mean = (f: (x: number) => number) => {
    let s = 0;
    for (let x = 0; x < P; x++) s += f(x);
    return s / P;
  };
  const curves = (hat: Float64Array[]) => {
    const gt = hat.map((l, x) => gapAndTv(l, problem.reward[x]));
    return { gap: mean((x) => gt[x].gap), tv: mean((x) => gt[x].tv) };
  };
  const start = curves(hatPrev);
  const res: TabularArmResult = { gap: [start.gap], tv: [start.tv], output: hatPrev };
  for (let t = 1; t <= o.iterations; t++) {
    const hat: Float64Array[] = [];
    const fits: DpoFitMetrics[] = [];
    for (let x = 0; x < P; x++) {
      const wins = o.data === 'expected' ? expectedPreferenceCounts(policy[x], problem.reward[x], o.pairs) : samplePreferencePairs(rng, policy[x], problem.reward[x], o.pairs); // D_t ~ π_t
      const fit = fitTabularDpo(policy[x], wins, o); // π̂_t: DPO against π_{t−1}
      hat.push(fit.logProbs);
      fits.push(fit.metrics);
    }
    const c = curves(hat);
    res.gap.push(c.gap);
    res.tv.push(c.tv);
    const fitMean = Object.fromEntries(Object.keys(fits[0]).map((key) => [key, mean((x) => fits[x][key as keyof DpoFitMetrics])])) as unknown as DpoFitMetrics;
    onIteration?.(t, {
      ...fitMean,
      gap: c.gap,
      tv: c.tv,
      'objective/kl': mean((x) => klFromLogProbs(hat[x], problem.refLogProbs[x])),
      'objective/kl_to_round_reference': mean((x) => klFromLogProbs(hat[x], policy[x])),
      extrapolation_norm: mean((x) => Math.hypot(...hat[x].map((v, y) => v - hatPrev[x][y]))),
    });
    policy = hat.map((h, x) => (o.alpha > 0 ? extrapolateLogProbs(h, hatPrev[x], o.alpha) : h)); // Eq. 3.6/3.7
    hatPrev = hat;
    res.output = hat;
  }
  return res;
}

/** First iteration t ≥ 1 with curve[t] ≤ target (lower is better); Infinity if never. */
export function iterationsToReach(curve: number[], target: number): number {
  for (let t = 1; t < curve.length; t++) if (curve[t] <= target) return t;
  return Infinity;
}

/**
 * Effective number of exact reward steps behind π̂_t (Thm 4.1): π̂_t ∝ π_ref·exp(w_t·r/β) with
 * w_t = Σ_{k=1..t} (1 − α^k)/(1 − α)  (= t for α = 0; → t/(1−α) for large t).
 */
export function closedFormRewardWeight(t: number, alpha: number): number {
  let w = 0;
  for (let k = 1; k <= t; k++) w += alpha === 1 ? k : (1 - alpha ** k) / (1 - alpha);
  return w;
}

export interface TabularComparisonOptions extends DpoFitOptions {
  prompts: number;
  responses: number;
  pairs: number;
  iterations: number;
  data: 'sampled' | 'expected';
  /** α of the APO arm (named 'apo') and further α values of the sweep (named 'apo_alpha_<α>'). */
  alpha: number;
  sweep: number[];
}

export interface TabularArmSummary {
  arm: string;
  alpha: number;
  gap: number[];
  tv: number[];
  /** Iterations to reach iterative DPO's final gap (same rule for every arm, iterative DPO included). */
  iterationsToDpoFinal: number;
  /** Iterations to reach gap < 0.1 (spec §1.3). */
  iterationsToGap01: number;
  /** The same counts with exact rewards (Thm 4.1 closed form): first t with w_t(α) ≥ T. */
  theoryIterationsToDpoFinal: number;
}

/** Arm names: α = 0 is iterative DPO, the configured α is 'apo', sweep values 'apo_alpha_<α>'. */
export function tabularArms(alpha: number, sweep: number[]): { arm: string; alpha: number }[] {
  const arms = [
    { arm: 'iterative_dpo', alpha: 0 },
    { arm: 'apo', alpha },
  ];
  for (const a of sweep) if (a !== 0 && a !== alpha && !arms.some((x) => x.alpha === a && x.arm !== 'iterative_dpo')) arms.push({ arm: `apo_alpha_${a}`, alpha: a });
  return arms;
}

/**
 * Iterative DPO and APO arms on one seeded problem (spec §1.3). Every arm draws its pairs from a generator
 * with the same seed (common random numbers), so α = 0 reproduces iterative DPO exactly.
 */
export function compareTabularApo(o: TabularComparisonOptions, problemSeed: number, dataSeed: number, onIteration?: (t: number, arm: string, m: TabularIterationLog) => void): { problem: TabularPreferenceProblem; arms: TabularArmSummary[] } {
  const problem = makeTabularPreferenceProblem(new Rng(problemSeed), o.prompts, o.responses);
  const runs = tabularArms(o.alpha, o.sweep).map(({ arm, alpha }) => ({ arm, alpha, r: runTabularApo(problem, { ...o, alpha }, new Rng(dataSeed), (t, m) => onIteration?.(t, arm, m)) }));
  const dpoGap = runs[0].r.gap;
  const target = dpoGap[dpoGap.length - 1];
  const T = o.iterations;
  const arms = runs.map(({ arm, alpha, r }) => {
    let theory = Infinity;
    for (let t = 1; t <= T && theory === Infinity; t++) if (closedFormRewardWeight(t, alpha) >= T - 1e-9) theory = t;
    return { arm, alpha, gap: r.gap, tv: r.tv, iterationsToDpoFinal: iterationsToReach(r.gap, target), iterationsToGap01: iterationsToReach(r.gap, 0.1), theoryIterationsToDpoFinal: theory };
  });
  return { problem, arms };
}
