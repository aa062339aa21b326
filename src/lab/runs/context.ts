// The RunContext an experiment receives, backed by a run folder: metrics and samples are appended
// as JSON lines (append-only, one write per line so a crash tears at most the last line).
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Device, Experiment, Metrics, RunContext } from '../../core/experiment';
import { Rng } from '../../core/rng';
import { resolveTaskAndConfig } from './config';
import { ARTIFACTS_DIR, METRICS_FILE, RunStore, SAMPLES_FILE, type RunRecord, readRunRecord, writeRunRecord } from './store';

export class CancelledError extends Error {
  constructor() {
    super('run cancelled');
    this.name = 'CancelledError';
  }
}

export interface ProgressEvent {
  step: number;
  total: number;
  metric?: string;
  value?: number;
  etaS?: number;
}

export interface ContextOptions {
  runDir: string;
  config: Record<string, unknown>;
  seed: number;
  device: Device;
  threads: number;
  signal?: AbortSignal;
  onProgress?: (p: ProgressEvent) => void;
  onInfo?: (msg: string) => void;
}

function safeArtifactName(name: string): string {
  if (!name || name.includes('..') || name.startsWith('/') || name.includes('\\')) {
    throw new Error(`artifact name '${name}' must be a relative path inside artifacts/`);
  }
  return name;
}

export function createRunContext<C>(o: ContextOptions): RunContext<C> {
  const started = Date.now();
  const metricsPath = join(o.runDir, METRICS_FILE);
  const samplesPath = join(o.runDir, SAMPLES_FILE);
  const artifactsDir = join(o.runDir, ARTIFACTS_DIR);
  mkdirSync(artifactsDir, { recursive: true });
  const signal = o.signal ?? new AbortController().signal;
  return {
    config: o.config as C,
    seed: o.seed,
    rng: new Rng(o.seed),
    device: o.device,
    threads: o.threads,
    runDir: o.runDir,
    artifactsDir,
    signal,
    throwIfCancelled() {
      if (signal.aborted) throw new CancelledError();
    },
    log(step: number, metrics: Metrics) {
      const row: Record<string, number> = { step, time: (Date.now() - started) / 1000 };
      for (const [k, v] of Object.entries(metrics)) {
        // JSON has no NaN/Infinity: a diverged value is stored as null (read back as a gap in charts).
        row[k] = Number.isFinite(v) ? v : (null as unknown as number);
      }
      appendFileSync(metricsPath, JSON.stringify(row) + '\n');
    },
    sample(row: Record<string, unknown>) {
      appendFileSync(samplesPath, JSON.stringify(row) + '\n');
    },
    artifact(name: string, data: Uint8Array | string | object): string {
      const p = join(artifactsDir, safeArtifactName(name));
      mkdirSync(dirname(p), { recursive: true });
      if (data instanceof Uint8Array || typeof data === 'string') writeFileSync(p, data);
      else writeFileSync(p, JSON.stringify(data, null, 2) + '\n');
      return p;
    },
    progress(step: number, total: number, info?: { metric?: string; value?: number }) {
      const elapsed = (Date.now() - started) / 1000;
      const etaS = step > 0 && total > step ? (elapsed / step) * (total - step) : 0;
      o.onProgress?.({ step, total, metric: info?.metric, value: info?.value, etaS });
    },
    info(message: string) {
      o.onInfo?.(message);
    },
  };
}

/** Runs an experiment in this process with a finished lifecycle in run.json (used by tests and `--inline`). */
export async function runInProcess(
  exp: Experiment,
  opts: { runsDir?: string; config?: Record<string, unknown>; seed?: number; device?: Device; threads?: number; signal?: AbortSignal; task?: string },
): Promise<{ record: RunRecord; dir: string; summary: Record<string, unknown> | void }> {
  const runsDir = resolve(opts.runsDir ?? mkdtempSync(join(tmpdir(), 'proxlab-runs-')));
  const { task, config } = resolveTaskAndConfig(exp, opts.task, opts.config ?? {});
  const store = new RunStore(runsDir);
  const { record, dir } = store.create({
    experiment: exp.id,
    task,
    config,
    seed: opts.seed ?? 0,
    device: opts.device ?? 'cpu',
    threads: opts.threads ?? 1,
    pid: process.pid,
    versions: { proxlab: '0.1.0', node: process.version },
    startedAt: new Date().toISOString(),
  });
  const ctx = createRunContext({ runDir: dir, config, seed: record.seed, device: record.device, threads: record.threads, signal: opts.signal });
  try {
    const summary = await exp.run(ctx as RunContext<any>);
    const done: RunRecord = { ...(readRunRecord(dir) ?? record), status: 'completed', endedAt: new Date().toISOString(), summary: summary ?? undefined };
    writeRunRecord(dir, done);
    return { record: done, dir, summary };
  } catch (e) {
    const cancelled = e instanceof CancelledError;
    writeRunRecord(dir, { ...record, status: cancelled ? 'cancelled' : 'failed', endedAt: new Date().toISOString(), error: cancelled ? undefined : String((e as Error)?.message ?? e) });
    throw e;
  }
}
