// The LM form of the intransitive preference game (issue 5, spec alignment.md §2.5 "LM variant"):
// a continuation's category is read from its text (the first letter of its first word), and the
// preference between two continuations is a fixed cyclic matrix over categories that no
// Bradley–Terry reward can represent. Shared by PG-Nash-MP (nash-mp.ts) and TRL-style Nash-MD (nash-md.ts).
import { join } from 'node:path';
import { z } from 'zod';
import type { RunContext } from '../../core/experiment';
import type { Weights } from '../lm/llama/config';
import { brownPrompts } from '../tasks/sentiment';
import { lastRoundDir, setupLmRun } from './dpo';
import { type Completion, encodePrompts, evaluatePolicy, lmFields, pickRng, readCheckpointState, readCheckpointWeights, samplerFor } from './policy';

/** The 20 most frequent English words: a continuation that opens with one of them (or with no word) is "dull". */
export const FUNCTION_WORDS = new Set(['the', 'a', 'an', 'of', 'and', 'to', 'in', 'that', 'is', 'was', 'for', 'it', 'with', 'as', 'on', 'be', 'at', 'by', 'he', 'his']);

/**
 * Categories of a continuation, read from its first word: 0 "a–h", 1 "i–r", 2 "s–z" (first letter of a
 * content word), 3 "dull" (a function word, or no word at all: punctuation, digits, empty).
 */
export const CATEGORY_NAMES = ['a-h', 'i-r', 's-z', 'dull'] as const;

export function categoryOf(text: string): number {
  const m = /^\s*([A-Za-z]+)/.exec(text);
  if (!m || FUNCTION_WORDS.has(m[1].toLowerCase())) return 3;
  const ch = m[1][0].toLowerCase();
  return ch <= 'h' ? 0 : ch <= 'r' ? 1 : 2;
}

/**
 * P(category i ≻ category j): rock-paper-scissors cycle 0 ≻ 1 ≻ 2 ≻ 0 with probability `strength`,
 * every content category beats "dull" with the same probability, ties ½. P + Pᵀ = 1.
 */
export function cyclicPreference(strength = 0.9): number[][] {
  const P = Array.from({ length: 4 }, () => new Array<number>(4).fill(0.5));
  const beats = (i: number, j: number) => {
    P[i][j] = strength;
    P[j][i] = 1 - strength;
  };
  beats(0, 1);
  beats(1, 2);
  beats(2, 0);
  for (let i = 0; i < 3; i++) beats(i, 3);
  return P;
}

/** The game has a preference cycle (so no scalar reward orders the categories). */
export function isIntransitive(P: number[][]): boolean {
  return P[0][1] > 0.5 && P[1][2] > 0.5 && P[2][0] > 0.5;
}

export const nashLmFields = {
  ...lmFields,
  prompts: z.number().int().min(2).max(4096).default(16).describe('Prompts per policy-gradient step (Brown train split; lm task)'),
  lr: z.number().positive().max(1).default(3e-3).describe('AdamW learning rate (lm task)'),
  maxNewTokens: z.number().int().min(1).max(128).default(3).describe('Continuation length in tokens (lm task; the category is read from the first word)'),
  strength: z.number().min(0.5).max(1).default(0.9).describe('Cycle strength of the category preference (lm task)'),
  outerIterations: z.number().int().min(1).max(200).default(2).describe('Outer iterations k (lm task)'),
  innerSteps: z.number().int().min(1).max(64).default(3).describe('Policy-gradient steps M per proximal subproblem (lm task)'),
  lmBeta: z.number().min(0).max(10).default(0.05).describe('Regularization β toward π_ref (lm task)'),
  lmEta: z.number().positive().max(100).default(10).describe('Proximal step η: the anchor term weighs 1/η (lm task, Nash-MP; spec §2.4 suggests 1/η ≈ β…10β)'),
  mixture: z.number().min(0).max(1).default(0.5).describe('Nash-MD mixture coefficient m (TRL mixture_coef; lm task)'),
};
export type NashLmConfig = z.infer<z.ZodObject<typeof nashLmFields>>;

export interface NashLmSetup extends Awaited<ReturnType<typeof setupLmRun>> {
  P: number[][];
  /** Category distribution of the reference's held-out samples (the win-rate is averaged over it). */
  refCategories: number[];
  trainPrompts: (round: number) => number[][];
}

export async function setupNashLm(ctx: RunContext<unknown>, c: NashLmConfig): Promise<NashLmSetup> {
  const s = await setupLmRun(ctx, c);
  const P = cyclicPreference(c.strength);
  const counts = [0, 0, 0, 0];
  for (const y of s.refEvalSamples) counts[categoryOf(y.text)]++;
  const refCategories = counts.map((n) => n / s.refEvalSamples.length);
  const tok = s.refLm.tokenizer;
  const trainPrompts = (round: number) => encodePrompts(tok, brownPrompts('train', c.prompts, pickRng(ctx.seed, 3000 + round), { prefixWords: c.promptWords }), c.maxPromptTokens);
  return { ...s, P, refCategories, trainPrompts };
}

/** P(y ≻ y′) for two continuations. */
export function preferenceOf(P: number[][], y: Completion, yOpp: Completion): number {
  return P[categoryOf(y.text)][categoryOf(yOpp.text)];
}

/** Held-out evaluation: win-rate vs the reference = mean over policy samples of Σ_k q̂_ref(k) P(c(y) ≻ k); KL to π_ref. */
export async function evaluateNashLm(ctx: RunContext<unknown>, s: NashLmSetup, c: NashLmConfig, w: Weights, name: string) {
  const lm = await samplerFor(join(ctx.artifactsDir, 'tmp', `${name}-eval`), s.model, w, ctx.threads);
  const winAgainstRef = (y: Completion) => s.refCategories.reduce((a, q, k) => a + q * s.P[categoryOf(y.text)][k], 0);
  const ev = await evaluatePolicy(s.trainer, lm, w, s.model.weights, s.evalPrompts, winAgainstRef, { maxNewTokens: c.maxNewTokens, seed: ctx.seed * 31 + 5, refSamples: s.refEvalSamples });
  await lm.dispose();
  const counts = [0, 0, 0, 0];
  for (const y of ev.samples) counts[categoryOf(y.text)]++;
  // Standard error of the win-rate over the policy samples (the reference's category mix held fixed).
  const wins = ev.samples.map(winAgainstRef);
  const sd = Math.sqrt(wins.reduce((a, x) => a + (x - ev.reward) ** 2, 0) / Math.max(1, wins.length - 1));
  return { winRate: ev.reward, winRateSe: sd / Math.sqrt(wins.length), kl: ev.kl, categories: counts.map((n) => n / ev.samples.length) };
}

/** Per-sequence REINFORCE weights broadcast to tokens. */
export function broadcast(seqWeights: number[], lengths: number[]): number[][] {
  return seqWeights.map((w, i) => new Array<number>(lengths[i]).fill(w));
}

/**
 * Where an arm of an earlier LM Nash run stopped (for resumeFrom): its newest checkpoint
 * artifacts/checkpoints/<arm>/<stem>-N (stem 'iteration' for Nash-MP, 'step' for Nash-MD), with θ at that point.
 * A folder of another method (training_state.json's `method`) is not taken for this arm. Null if the arm left none.
 */
export function nashResumePoint(from: string, arm: 'nash_mp' | 'nash_md', stem: 'iteration' | 'step'): { dir: string; index: number; weights: Weights } | null {
  const last = lastRoundDir(from, arm, stem);
  if (!last) return null;
  const st = readCheckpointState(last.dir);
  if (st.method !== arm) return null;
  const index = Number(st[stem]);
  if (!Number.isInteger(index) || index < 0) throw new Error(`resumeFrom: ${join(last.dir, 'training_state.json')}: field '${stem}' must be a non-negative integer, got ${JSON.stringify(st[stem])}`);
  return { dir: last.dir, index, weights: readCheckpointWeights(last.dir) };
}

/** Optimizer steps one batch of training prompts takes (prompts are split into trainer batches). */
export function stepsPerPromptBatch(c: NashLmConfig, batch: number): number {
  return Math.ceil(c.prompts / batch);
}
