// The runner (DESIGN.md §3, §9): starts a run in a child process (the CLI entry with `__child`),
// relays its progress over a JSON IPC channel, cancels it (message → SIGTERM → SIGKILL), and
// records a crash or OOM as a failed run. The parent never crashes because of the child.
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { Device } from '../../core/experiment';
import { resolveTaskAndConfig } from './config';
import type { ProgressEvent } from './context';
import { defaultCliPath, packageVersion } from './package-root';
import { getExperiment } from './registry';
import { RunStore, readRunRecord, writeRunRecord, type RunRecord } from './store';

export interface RunSpec {
  experiment: string;
  task?: string;
  model?: string;
  config?: Record<string, unknown>;
  seed?: number;
  device?: Device;
  threads?: number;
}

export interface RunnerOptions {
  runsDir: string;
  /** Path of the CLI bundle that hosts the child (default: the package's dist/cli.js). */
  cliPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Grace periods of the cancel sequence (ms): message → SIGTERM → SIGKILL. */
  cancelGraceMs?: number;
  killGraceMs?: number;
  /** Heap limit of the child in MiB (an OOM marks the run failed). */
  maxOldSpaceMb?: number;
}

/** Messages the child sends to the parent. */
export type ChildMessage =
  | ({ type: 'progress' } & ProgressEvent)
  | { type: 'info'; message: string }
  | { type: 'done'; status: 'completed' | 'failed' | 'cancelled'; error?: string };

export interface RunHandle {
  id: string;
  dir: string;
  record: RunRecord;
  onProgress(cb: (p: ProgressEvent) => void): void;
  onInfo(cb: (message: string) => void): void;
  /** Resolves with the final run.json once the child has exited. */
  done: Promise<RunRecord>;
  cancel(): Promise<RunRecord>;
}

export function isChildMessage(m: unknown): m is ChildMessage {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  if (t === 'progress') return typeof (m as any).step === 'number' && typeof (m as any).total === 'number';
  if (t === 'info') return typeof (m as any).message === 'string';
  if (t === 'done') return ['completed', 'failed', 'cancelled'].includes((m as any).status);
  return false;
}

/** Validates the spec (throws ConfigError / Error before anything is created), creates the run, forks the child. */
export function startRun(spec: RunSpec, opts: RunnerOptions): RunHandle {
  const exp = getExperiment(spec.experiment);
  if (!exp) throw new Error(`unknown experiment '${spec.experiment}'`);
  const { task, config } = resolveTaskAndConfig(exp, spec.task, spec.config ?? {});
  const store = new RunStore(resolve(opts.runsDir));
  const { record, dir } = store.create({
    experiment: exp.id,
    task,
    model: spec.model,
    config,
    seed: spec.seed ?? 0,
    device: spec.device ?? 'cpu',
    threads: spec.threads ?? 1,
    versions: { proxlab: packageVersion(), node: process.versions.node },
  });

  const progressCbs: ((p: ProgressEvent) => void)[] = [];
  const infoCbs: ((m: string) => void)[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
  const execArgv = opts.maxOldSpaceMb ? [`--max-old-space-size=${opts.maxOldSpaceMb}`] : [];
  let child: ChildProcess;
  try {
    child = fork(opts.cliPath ?? defaultCliPath(), ['__child', dir], { env, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  } catch (e) {
    writeRunRecord(dir, { ...record, status: 'failed', endedAt: new Date().toISOString(), error: `could not start the run process: ${(e as Error).message}` });
    throw e;
  }
  writeRunRecord(dir, { ...record, pid: child.pid });

  let stderrTail = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString('utf8')).slice(-4000);
  });
  child.stdout?.on('data', (d: Buffer) => {
    for (const line of d.toString('utf8').split('\n')) if (line.trim()) infoCbs.forEach((cb) => cb(line));
  });
  child.on('message', (m) => {
    if (!isChildMessage(m)) return; // malformed messages are ignored
    if (m.type === 'progress') progressCbs.forEach((cb) => cb(m));
    else if (m.type === 'info') infoCbs.forEach((cb) => cb(m.message));
  });

  let cancelRequested = false;
  let exited = false;
  const done = new Promise<RunRecord>((resolveDone) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (exited) return;
      exited = true;
      const rec = readRunRecord(dir) ?? record;
      if (rec.status !== 'running') return resolveDone(rec);
      // The child died without recording an outcome: crash, OOM, kill.
      const why = spawnError
        ? `could not start the run process: ${spawnError.message}`
        : `run process exited ${signal ? `with signal ${signal}` : `with code ${code}`}${stderrTail.trim() ? `: ${lastLines(stderrTail, 6)}` : ''}`;
      const final: RunRecord = cancelRequested
        ? { ...rec, status: 'cancelled', endedAt: new Date().toISOString() }
        : { ...rec, status: 'failed', endedAt: new Date().toISOString(), error: why };
      writeRunRecord(dir, final);
      resolveDone(final);
    };
    child.on('exit', (code, signal) => finish(code, signal));
    child.on('error', (err) => {
      if (child.pid === undefined) finish(null, null, err);
    });
  });

  const cancel = async (): Promise<RunRecord> => {
    if (!exited) {
      cancelRequested = true;
      try {
        child.send({ type: 'cancel' });
      } catch {
        // channel already closed
      }
      const term = setTimeout(() => !exited && child.kill('SIGTERM'), opts.cancelGraceMs ?? 5000);
      const kill = setTimeout(() => !exited && child.kill('SIGKILL'), (opts.cancelGraceMs ?? 5000) + (opts.killGraceMs ?? 3000));
      const rec = await done;
      clearTimeout(term);
      clearTimeout(kill);
      return rec;
    }
    return done;
  };

  return {
    id: record.id,
    dir,
    record,
    onProgress: (cb) => void progressCbs.push(cb),
    onInfo: (cb) => void infoCbs.push(cb),
    done,
    cancel,
  };
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join('\n');
}
