// The run store (DESIGN.md §4): <runsDir>/<experiment>/<runId>/ with an atomically written
// run.json, append-only metrics.jsonl and samples.jsonl, artifacts/, and a heartbeat file the
// live child touches. Readers skip a torn last JSONL line; dead runs are marked interrupted.
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { Device } from '../../core/experiment';

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

export interface RunRecord {
  id: string;
  experiment: string;
  task: string;
  model?: string;
  config: Record<string, unknown>;
  seed: number;
  device: Device;
  threads: number;
  status: RunStatus;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  pid?: number;
  host?: string;
  error?: string;
  summary?: Record<string, unknown>;
  versions: Record<string, string>;
  progress?: { step: number; total: number };
}

export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const SAMPLES_FILE = 'samples.jsonl';
export const HEARTBEAT_FILE = 'heartbeat';
export const ARTIFACTS_DIR = 'artifacts';
/** A running run whose heartbeat is older than this (and whose pid is gone or foreign) is interrupted. */
export const HEARTBEAT_STALE_MS = 30_000;

/** Write a file so that readers see either the old or the new content, never a partial one. */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

export function writeRunRecord(dir: string, rec: RunRecord): void {
  writeFileAtomic(join(dir, RUN_FILE), JSON.stringify(rec, null, 2) + '\n');
}

export function readRunRecord(dir: string): RunRecord | undefined {
  try {
    const rec = JSON.parse(readFileSync(join(dir, RUN_FILE), 'utf8')) as RunRecord;
    if (typeof rec?.id !== 'string' || typeof rec.experiment !== 'string') return undefined;
    return rec;
  } catch {
    return undefined;
  }
}

/** Read complete JSONL lines starting at byte `offset`. A torn (unterminated) last line is left for later. */
export function readJsonlFrom(path: string, offset = 0): { rows: unknown[]; offset: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { rows: [], offset };
  }
  try {
    const size = fstatSync(fd).size;
    if (size <= offset) return { rows: [], offset: size < offset ? 0 : offset };
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    const lastNewline = buf.lastIndexOf(0x0a);
    if (lastNewline < 0) return { rows: [], offset };
    const rows: unknown[] = [];
    for (const line of buf.subarray(0, lastNewline).toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        rows.push(JSON.parse(line));
      } catch {
        // A corrupt line (e.g. a crash mid-write followed by a later append) is skipped, never fatal.
      }
    }
    return { rows, offset: offset + lastNewline + 1 };
  } finally {
    closeSync(fd);
  }
}

/** Read every complete row of a JSONL file. */
export function readJsonl(path: string): unknown[] {
  return readJsonlFrom(path, 0).rows;
}

/** Tail a JSONL file incrementally: calls onRows with the rows appended since the last call. */
export function watchJsonl(path: string, onRows: (rows: unknown[]) => void, opts: { pollMs?: number } = {}): { close(): void } {
  let offset = 0;
  let closed = false;
  const pump = () => {
    if (closed) return;
    const r = readJsonlFrom(path, offset);
    offset = r.offset;
    if (r.rows.length) onRows(r.rows);
  };
  let watcher: FSWatcher | undefined;
  const tryWatch = () => {
    if (watcher || !existsSync(path)) return;
    try {
      watcher = watch(path, pump);
    } catch {
      watcher = undefined;
    }
  };
  pump();
  tryWatch();
  // fs.watch can miss events on some filesystems; a cheap stat-based poll backs it up.
  const timer = setInterval(() => {
    tryWatch();
    pump();
  }, opts.pollMs ?? 500);
  timer.unref?.();
  return {
    close() {
      closed = true;
      clearInterval(timer);
      watcher?.close();
    },
  };
}

export function isProcessAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function heartbeatAgeMs(dir: string): number {
  try {
    return Date.now() - statSync(join(dir, HEARTBEAT_FILE)).mtimeMs;
  } catch {
    try {
      return Date.now() - statSync(join(dir, RUN_FILE)).mtimeMs;
    } catch {
      return Infinity;
    }
  }
}

/** A run recorded as running whose process is gone (same host) or whose heartbeat stopped (other host). */
export function isInterrupted(dir: string, rec: RunRecord): boolean {
  if (rec.status !== 'running') return false;
  const sameHost = !rec.host || rec.host === hostname();
  if (sameHost) return !isProcessAlive(rec.pid) && heartbeatAgeMs(dir) > 2_000;
  return heartbeatAgeMs(dir) > HEARTBEAT_STALE_MS;
}

export function newRunId(experiment: string, now = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  const rand = Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0');
  return `${stamp}-${experiment}-${rand}`;
}

export class RunStore {
  constructor(readonly runsDir: string) {}

  /** Create a run folder with its run.json (status 'running'). */
  create(init: Omit<RunRecord, 'id' | 'createdAt' | 'status' | 'host'>): { record: RunRecord; dir: string } {
    const id = newRunId(init.experiment);
    const dir = join(this.runsDir, init.experiment, id);
    mkdirSync(join(dir, ARTIFACTS_DIR), { recursive: true });
    const record: RunRecord = { id, createdAt: new Date().toISOString(), status: 'running', host: hostname(), ...init };
    writeRunRecord(dir, record);
    writeFileSync(join(dir, METRICS_FILE), '', { flag: 'a' });
    writeFileSync(join(dir, SAMPLES_FILE), '', { flag: 'a' });
    return { record, dir };
  }

  /** Every run, newest first. Dead 'running' runs are marked 'interrupted' on the way. */
  list(): RunRecord[] {
    const out: RunRecord[] = [];
    if (!existsSync(this.runsDir)) return out;
    for (const exp of safeReaddir(this.runsDir)) {
      const expDir = join(this.runsDir, exp);
      for (const id of safeReaddir(expDir)) {
        const dir = join(expDir, id);
        const rec = readRunRecord(dir);
        if (!rec) continue;
        out.push(this.refreshStatus(dir, rec));
      }
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1));
  }

  /** A run by full id or unique prefix (or unique suffix such as the random tail). */
  get(idOrPrefix: string): RunRecord | undefined {
    const runs = this.list();
    const exact = runs.find((r) => r.id === idOrPrefix);
    if (exact) return exact;
    const matches = runs.filter((r) => r.id.startsWith(idOrPrefix) || r.id.endsWith(idOrPrefix));
    if (matches.length > 1) throw new Error(`run id '${idOrPrefix}' is ambiguous: ${matches.slice(0, 5).map((r) => r.id).join(', ')}`);
    return matches[0];
  }

  dirOf(id: string): string {
    const exp = id.split('-').slice(2, -1).join('-');
    const direct = join(this.runsDir, exp, id);
    if (existsSync(join(direct, RUN_FILE))) return direct;
    for (const e of safeReaddir(this.runsDir)) {
      const d = join(this.runsDir, e, id);
      if (existsSync(join(d, RUN_FILE))) return d;
    }
    throw new Error(`no run '${id}' in ${this.runsDir}`);
  }

  update(id: string, patch: Partial<RunRecord>): RunRecord {
    const dir = this.dirOf(id);
    const rec = readRunRecord(dir);
    if (!rec) throw new Error(`run '${id}' has an unreadable run.json`);
    const next = { ...rec, ...patch };
    writeRunRecord(dir, next);
    return next;
  }

  delete(id: string): void {
    const dir = this.dirOf(id);
    const rec = readRunRecord(dir);
    if (rec && rec.status === 'running' && !isInterrupted(dir, rec)) throw new Error(`run '${id}' is still running: stop it first`);
    rmSync(dir, { recursive: true, force: true });
  }

  private refreshStatus(dir: string, rec: RunRecord): RunRecord {
    if (!isInterrupted(dir, rec)) return rec;
    // Re-read right before writing: the child may have just finished.
    const fresh = readRunRecord(dir);
    if (!fresh || fresh.status !== 'running') return fresh ?? rec;
    const next: RunRecord = { ...fresh, status: 'interrupted', endedAt: new Date().toISOString(), error: fresh.error ?? 'the run process ended without reporting (killed or crashed)' };
    try {
      writeRunRecord(dir, next);
    } catch {
      // A read-only store still lists the run as interrupted.
    }
    return next;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
}
