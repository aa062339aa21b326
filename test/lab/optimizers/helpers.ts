// A minimal in-memory RunContext for running one experiment inside a test: metrics and samples
// collected in arrays, artifacts written to a temp folder.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Experiment, Metrics, RunContext } from '../../../src/core/experiment';
import { Rng } from '../../../src/core/rng';

export interface TestRun {
  summary: Record<string, unknown>;
  metrics: { step: number; metrics: Metrics }[];
  artifacts: Map<string, string>;
  dir: string;
  progressCalls: number;
}

export async function runForTest(exp: Experiment, config: Record<string, unknown> = {}, seed = 0, signal?: AbortSignal): Promise<TestRun> {
  const dir = mkdtempSync(join(tmpdir(), `proxlab-test-${exp.id}-`));
  const artifactsDir = join(dir, 'artifacts');
  mkdirSync(artifactsDir, { recursive: true });
  const out: TestRun = { summary: {}, metrics: [], artifacts: new Map(), dir, progressCalls: 0 };
  const sig = signal ?? new AbortController().signal;
  const ctx: RunContext<any> = {
    config: exp.schema.parse(config),
    seed,
    rng: new Rng(seed),
    device: 'cpu',
    threads: 1,
    runDir: dir,
    artifactsDir,
    signal: sig,
    throwIfCancelled() {
      if (sig.aborted) throw new Error('run cancelled');
    },
    log(step, metrics) {
      out.metrics.push({ step, metrics: { ...metrics } });
    },
    sample() {},
    artifact(name, data) {
      const p = join(artifactsDir, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, data instanceof Uint8Array || typeof data === 'string' ? data : JSON.stringify(data));
      out.artifacts.set(name, p);
      return p;
    },
    progress() {
      out.progressCalls++;
    },
    info() {},
  };
  out.summary = ((await exp.run(ctx)) ?? {}) as Record<string, unknown>;
  return out;
}

/** Names of all metrics logged in a run. */
export function metricNames(run: TestRun): Set<string> {
  const s = new Set<string>();
  for (const r of run.metrics) for (const k of Object.keys(r.metrics)) s.add(k);
  return s;
}

/** A fresh temp folder for data files. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'proxlab-data-'));
}

/** Central finite-difference gradient of f at x. */
export function finiteDiffGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) {
    const xp = Float64Array.from(x);
    const xm = Float64Array.from(x);
    xp[j] += h;
    xm[j] -= h;
    g[j] = (f(xp) - f(xm)) / (2 * h);
  }
  return g;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
