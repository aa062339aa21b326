// The experiment contract: what every method of the lab declares, and what a run gets.
// Lives in src/core so that solver files in src/core/solvers can declare their experiment
// next to the algorithm; src/lab/runs implements the context and the registry.
import type { z } from 'zod';
import type { Rng } from './rng';

export type ExperimentKind = 'alignment' | 'rl' | 'solver' | 'optimizer';
export type Device = 'cpu' | 'cuda';

/** One metrics row: numbers only (TRL / CleanRL / solver names, see DESIGN.md §7). */
export type Metrics = Record<string, number>;

export interface RunContext<C> {
  /** Validated config with defaults applied. */
  readonly config: C;
  readonly seed: number;
  /** Seeded generator; derive sub-streams with rng.fork(). */
  readonly rng: Rng;
  readonly device: Device;
  readonly threads: number;
  /** The run folder and its artifacts/ folder (absolute paths). */
  readonly runDir: string;
  readonly artifactsDir: string;
  /** Aborted when the user cancels; long loops call throwIfCancelled() each step. */
  readonly signal: AbortSignal;
  throwIfCancelled(): void;
  /** Append one metrics row at `step` (metrics.jsonl). */
  log(step: number, metrics: Metrics): void;
  /** Append one samples row (samples.jsonl). */
  sample(row: Record<string, unknown>): void;
  /** Write an artifact under artifacts/ (Buffer/Uint8Array as is, string as UTF-8, else JSON). Returns its path. */
  artifact(name: string, data: Uint8Array | string | object): string;
  /** Report progress: `step` of `total`, with an optional headline metric. */
  progress(step: number, total: number, info?: { metric?: string; value?: number }): void;
  /** Text for the run's log (stderr of the child; shown by the CLI and the extension). */
  info(message: string): void;
}

export interface ClaimResult {
  pass: boolean;
  /** Figures measured for the claim, e.g. { cbo_final: 0.1, random_search_final: 12.3 }. */
  measured: Record<string, number | string | boolean>;
  /** One line: what was measured against what. */
  summary: string;
}

export interface ClaimCheck {
  /** The paper's qualitative claim, in one sentence. */
  statement: string;
  /** Fast form: runs in `npm test` (a few seconds). Deterministic for a given seed. */
  fast(opts: { seed: number; signal?: AbortSignal }): Promise<ClaimResult>;
  /** Full form: several seeds, larger problems; runs in `npm run bench` and `proxlab claims --full`. */
  full?(opts: { seeds: number[]; signal?: AbortSignal }): Promise<ClaimResult>;
}

export interface Experiment<S extends z.ZodObject<any> = any> {
  /** Id from shared/METHODS.md, e.g. 'cbo'. */
  id: string;
  title: string;
  /** Title of the paper (seed list) this method comes from. */
  paper: string;
  kind: ExperimentKind;
  /** Task names this experiment supports (first = default). */
  tasks: string[];
  /** Config schema: single source of defaults, types, ranges, enums and help (`.describe()`). */
  schema: S;
  /** The metric shown in progress bars and run tables. */
  keyMetric: string;
  /** Whether lower keyMetric is better (for summaries). */
  lowerIsBetter?: boolean;
  /** Runs the method (and its baseline, side by side). Returns a summary stored in run.json. */
  run(ctx: RunContext<z.infer<S>>): Promise<Record<string, unknown> | void>;
  claim?: ClaimCheck;
}

/** Identity helper that keeps the schema's inferred config type for `run`. */
export function defineExperiment<S extends z.ZodObject<any>>(e: Experiment<S>): Experiment<S> {
  return e;
}
