// The message protocol between the extension host and the run-panel webview (media/main.ts).
// Pure TypeScript: imported by both sides, no `vscode` and no Node imports. Every message that
// crosses the boundary is checked by parseToWebview / parseFromWebview; a malformed one is
// rejected with a reason (the receiver logs it and ignores the message).

export const RUN_STATUSES = ['running', 'completed', 'failed', 'cancelled', 'interrupted'] as const;
export type RunStatusName = (typeof RUN_STATUSES)[number];

/** What the panel shows of a run (a projection of the run store's RunRecord). */
export interface RunInfo {
  id: string;
  experiment: string;
  title?: string;
  task?: string;
  model?: string;
  status: RunStatusName;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  seed?: number;
  device?: string;
  threads?: number;
  error?: string;
  config: Record<string, unknown>;
  summary?: Record<string, unknown>;
  progress?: { step: number; total: number };
  keyMetric?: string;
  lowerIsBetter?: boolean;
}

/**
 * Metrics rows in columns: step[i], time[i] and values[name][i] describe row i; a metric absent
 * from a row is null there. Columns are cheaper to send and to append than row objects.
 */
export interface MetricsBatch {
  step: number[];
  time: number[];
  values: Record<string, (number | null)[]>;
}

export interface ArtifactInfo {
  name: string;
  size: number;
}

export type ToWebview =
  | { type: 'init'; view: 'run'; run: RunInfo; metrics: MetricsBatch; samples: Record<string, unknown>[]; artifacts: ArtifactInfo[] }
  | { type: 'init'; view: 'compare'; runs: { run: RunInfo; metrics: MetricsBatch }[] }
  | { type: 'metrics'; runId: string; batch: MetricsBatch }
  | { type: 'samples'; runId: string; rows: Record<string, unknown>[] }
  | { type: 'run'; run: RunInfo }
  | { type: 'artifacts'; runId: string; items: ArtifactInfo[] };

export const PANEL_ACTIONS = ['stop', 'export', 'reveal', 'compare', 'rerun'] as const;
export type PanelAction = (typeof PANEL_ACTIONS)[number];

export type FromWebview =
  | { type: 'ready' }
  | { type: 'openArtifact'; runId: string; name: string }
  | { type: 'action'; action: PanelAction; runId: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

/** State the webview keeps with setState; the serializer reads `runIds` to restore a panel. */
export interface PanelState {
  view: 'run' | 'compare';
  runIds: string[];
  selected?: string[];
  smoothing?: number;
  logScale?: boolean;
  overlay?: boolean;
  tab?: string;
  filter?: string;
}

// ---------------------------------------------------------------------------------------------
// Validation. Each parser returns the typed message, or a string saying what is wrong.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const optStr = (o: Obj, k: string) => o[k] === undefined || isStr(o[k]);
const optNum = (o: Obj, k: string) => o[k] === undefined || isNum(o[k]);

export function checkRunInfo(v: unknown): string | undefined {
  if (!isObj(v)) return 'run: expected an object';
  if (!isStr(v.id) || !v.id) return 'run.id: expected a non-empty string';
  if (!isStr(v.experiment)) return 'run.experiment: expected a string';
  if (!isStr(v.status) || !(RUN_STATUSES as readonly string[]).includes(v.status)) return `run.status: expected one of ${RUN_STATUSES.join(', ')}`;
  if (!isStr(v.createdAt)) return 'run.createdAt: expected an ISO date string';
  if (!isObj(v.config)) return 'run.config: expected an object';
  if (v.summary !== undefined && !isObj(v.summary)) return 'run.summary: expected an object';
  for (const k of ['title', 'task', 'model', 'startedAt', 'endedAt', 'device', 'error', 'keyMetric']) {
    if (!optStr(v, k)) return `run.${k}: expected a string`;
  }
  for (const k of ['seed', 'threads']) if (!optNum(v, k)) return `run.${k}: expected a number`;
  if (v.lowerIsBetter !== undefined && typeof v.lowerIsBetter !== 'boolean') return 'run.lowerIsBetter: expected a boolean';
  if (v.progress !== undefined && !(isObj(v.progress) && isNum(v.progress.step) && isNum(v.progress.total))) {
    return 'run.progress: expected { step: number, total: number }';
  }
  return undefined;
}

export function checkMetricsBatch(v: unknown): string | undefined {
  if (!isObj(v)) return 'batch: expected an object';
  const { step, time, values } = v;
  if (!Array.isArray(step) || !step.every(isNum)) return 'batch.step: expected an array of finite numbers';
  if (!Array.isArray(time) || time.length !== step.length || !time.every(isNum)) return 'batch.time: expected an array of numbers as long as batch.step';
  if (!isObj(values)) return 'batch.values: expected an object of columns';
  for (const [name, col] of Object.entries(values)) {
    if (!Array.isArray(col) || col.length !== step.length) return `batch.values[${JSON.stringify(name)}]: expected an array as long as batch.step`;
    for (const x of col) if (x !== null && !isNum(x)) return `batch.values[${JSON.stringify(name)}]: expected numbers or null`;
  }
  return undefined;
}

function checkArtifacts(v: unknown): string | undefined {
  if (!Array.isArray(v)) return 'artifacts: expected an array';
  for (const a of v) if (!isObj(a) || !isStr(a.name) || !isNum(a.size)) return 'artifacts: expected { name: string, size: number } items';
  return undefined;
}

function checkRows(v: unknown, what: string): string | undefined {
  if (!Array.isArray(v) || !v.every(isObj)) return `${what}: expected an array of objects`;
  return undefined;
}

export function parseToWebview(msg: unknown): ToWebview | string {
  if (!isObj(msg) || !isStr(msg.type)) return 'message: expected an object with a string `type`';
  switch (msg.type) {
    case 'init':
      if (msg.view === 'run') {
        const err = checkRunInfo(msg.run) ?? checkMetricsBatch(msg.metrics) ?? checkRows(msg.samples, 'samples') ?? checkArtifacts(msg.artifacts);
        return err ?? (msg as ToWebview);
      }
      if (msg.view === 'compare') {
        if (!Array.isArray(msg.runs)) return 'runs: expected an array';
        for (const r of msg.runs) {
          if (!isObj(r)) return 'runs: expected { run, metrics } items';
          const err = checkRunInfo(r.run) ?? checkMetricsBatch(r.metrics);
          if (err) return err;
        }
        return msg as ToWebview;
      }
      return "init.view: expected 'run' or 'compare'";
    case 'metrics':
      if (!isStr(msg.runId)) return 'metrics.runId: expected a string';
      return checkMetricsBatch(msg.batch) ?? (msg as ToWebview);
    case 'samples':
      if (!isStr(msg.runId)) return 'samples.runId: expected a string';
      return checkRows(msg.rows, 'samples.rows') ?? (msg as ToWebview);
    case 'run':
      return checkRunInfo(msg.run) ?? (msg as ToWebview);
    case 'artifacts':
      if (!isStr(msg.runId)) return 'artifacts.runId: expected a string';
      return checkArtifacts(msg.items) ?? (msg as ToWebview);
    default:
      return `message.type: unknown type ${JSON.stringify(msg.type)}`;
  }
}

export function parseFromWebview(msg: unknown): FromWebview | string {
  if (!isObj(msg) || !isStr(msg.type)) return 'message: expected an object with a string `type`';
  switch (msg.type) {
    case 'ready':
      return { type: 'ready' };
    case 'openArtifact':
      if (!isStr(msg.runId) || !isStr(msg.name) || !msg.name) return 'openArtifact: expected { runId: string, name: string }';
      if (msg.name.split(/[\\/]/).some((part) => part === '..') || /^([\\/]|[a-zA-Z]:)/.test(msg.name)) return 'openArtifact.name: must be a relative path inside artifacts/';
      return { type: 'openArtifact', runId: msg.runId, name: msg.name };
    case 'action':
      if (!isStr(msg.runId) || !isStr(msg.action) || !(PANEL_ACTIONS as readonly string[]).includes(msg.action)) {
        return `action: expected { action: ${PANEL_ACTIONS.join('|')}, runId: string }`;
      }
      return { type: 'action', action: msg.action as PanelAction, runId: msg.runId };
    case 'log':
      if (!isStr(msg.message) || !['info', 'warn', 'error'].includes(msg.level as string)) return 'log: expected { level: info|warn|error, message: string }';
      return { type: 'log', level: msg.level as 'info' | 'warn' | 'error', message: msg.message.slice(0, 4000) };
    default:
      return `message.type: unknown type ${JSON.stringify(msg.type)}`;
  }
}

/**
 * Turns metrics.jsonl rows ({"step":n,"time":s,"name":value,...}) into a column batch. Rows that
 * are not objects or lack a numeric step are skipped; non-finite values become null.
 */
export function rowsToBatch(rows: unknown[]): MetricsBatch {
  const good = rows.filter((r): r is Obj => isObj(r) && isNum(r.step));
  const n = good.length;
  const batch: MetricsBatch = { step: new Array(n), time: new Array(n), values: {} };
  good.forEach((r, i) => {
    batch.step[i] = r.step as number;
    batch.time[i] = isNum(r.time) ? r.time : 0;
    for (const [k, v] of Object.entries(r)) {
      if (k === 'step' || k === 'time') continue;
      if (typeof v !== 'number') continue;
      let col = batch.values[k];
      if (!col) col = batch.values[k] = new Array(n).fill(null);
      col[i] = Number.isFinite(v) ? v : null;
    }
  });
  return batch;
}
