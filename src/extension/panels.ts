// Run panels (webviews): one per run, or one compare panel over several runs. The extension is
// the source of truth: on the webview's `ready` it sends a snapshot read from the run folder,
// then tails metrics.jsonl / samples.jsonl incrementally and sends deltas batched every 150 ms.
// Panels survive reloads through a WebviewPanelSerializer (the webview's state holds the run ids).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord } from '../lab/runs/store';
import { makeNonce, panelHtml } from './html';
import { lab } from './lab';
import { parseFromWebview, rowsToBatch, type ArtifactInfo, type PanelState, type RunInfo, type ToWebview } from './protocol';
import type { Services } from './services';

export const PANEL_VIEW_TYPE = 'proxlab.runPanel';
const MAX_INITIAL_SAMPLES = 5000;
const FLUSH_MS = 150;

export function toRunInfo(r: RunRecord, exp?: { title: string; keyMetric: string; lowerIsBetter?: boolean }): RunInfo {
  return {
    id: r.id,
    experiment: r.experiment,
    title: exp?.title,
    task: r.task,
    model: r.model,
    status: r.status,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    seed: r.seed,
    device: r.device,
    threads: r.threads,
    error: r.error,
    config: r.config ?? {},
    summary: r.summary,
    progress: r.progress,
    keyMetric: exp?.keyMetric,
    lowerIsBetter: exp?.lowerIsBetter,
  };
}

/** Files under artifacts/ (relative names), at most `limit`, for the Artifacts tab. */
export function listArtifacts(dir: string, limit = 500): ArtifactInfo[] {
  const root = path.join(dir, 'artifacts');
  const out: ArtifactInfo[] = [];
  const walk = (d: string, depth: number) => {
    let names: string[];
    try {
      names = fs.readdirSync(d).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (out.length >= limit) return;
      const p = path.join(d, n);
      let st: fs.Stats;
      try {
        st = fs.statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (depth < 4) walk(p, depth + 1);
      } else out.push({ name: path.relative(root, p).split(path.sep).join('/'), size: st.size });
    }
  };
  walk(root, 0);
  return out;
}

/** Experiment facts the panel shows (title, key metric), when the registry knows the id. */
async function experimentFacts(id: string): Promise<{ title: string; keyMetric: string; lowerIsBetter?: boolean } | undefined> {
  try {
    const { getExperiment } = await lab.registry();
    const e = getExperiment(id);
    return e ? { title: e.title, keyMetric: e.keyMetric, lowerIsBetter: e.lowerIsBetter } : undefined;
  } catch {
    return undefined;
  }
}

interface Tail {
  close(): void;
}

class RunPanel {
  private tails: Tail[] = [];
  private timers: NodeJS.Timeout[] = [];
  private readonly subs: vscode.Disposable[] = [];
  private disposed = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    public state: PanelState,
    private readonly services: Services,
    private readonly onDispose: (p: RunPanel) => void,
  ) {
    const webview = panel.webview;
    webview.options = { enableScripts: true, localResourceRoots: [services.mediaRoot()] };
    const media = services.mediaRoot();
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'main.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'main.css')).toString(),
      title: panel.title,
    });
    this.subs.push(webview.onDidReceiveMessage((m) => this.onMessage(m)));
    this.subs.push(panel.onDidDispose(() => this.dispose()));
  }

  key(): string {
    return `${this.state.view}:${this.state.runIds.join(',')}`;
  }

  private post(m: ToWebview): void {
    if (!this.disposed) void this.panel.webview.postMessage(m);
  }

  private async onMessage(raw: unknown): Promise<void> {
    const m = parseFromWebview(raw);
    if (typeof m === 'string') {
      this.services.log.warn(`run panel: ignored a malformed message (${m})`);
      return;
    }
    switch (m.type) {
      case 'ready':
        await this.sendSnapshot();
        break;
      case 'log':
        this.services.log[m.level === 'info' ? 'info' : m.level === 'warn' ? 'warn' : 'error'](`run panel: ${m.message}`);
        break;
      case 'openArtifact': {
        if (!this.state.runIds.includes(m.runId)) return;
        const dir = await this.services.runDir(m.runId);
        const root = path.join(dir, 'artifacts');
        const file = path.resolve(root, m.name);
        if (!file.startsWith(root + path.sep)) return;
        await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file));
        break;
      }
      case 'action': {
        const command = { stop: 'proxlab.stopRun', export: 'proxlab.exportRun', reveal: 'proxlab.revealRun', compare: 'proxlab.compareRuns', rerun: 'proxlab.rerun' }[m.action];
        await vscode.commands.executeCommand(command, m.runId);
        break;
      }
    }
  }

  /** (Re)sends everything: called on every `ready` (first load, and after the webview was reloaded). */
  private async sendSnapshot(): Promise<void> {
    this.stopTails();
    const { RunStore, readJsonlFrom, watchJsonl, readRunRecord } = await lab.store();
    const store = new RunStore(this.services.runsDir());
    const runs: { rec: RunRecord; dir: string; info: RunInfo }[] = [];
    for (const id of this.state.runIds) {
      let dir: string;
      try {
        dir = store.dirOf(id);
      } catch {
        continue;
      }
      const rec = readRunRecord(dir);
      if (!rec) continue;
      runs.push({ rec, dir, info: toRunInfo(rec, await experimentFacts(rec.experiment)) });
    }
    if (!runs.length) {
      this.panel.title = 'Run not found';
      void vscode.window.showWarningMessage(`Prox Lab: run ${this.state.runIds.join(', ')} was not found in ${this.services.runsDir()}.`);
      return;
    }
    // Tail each run's metrics: the first (synchronous) read is the snapshot, later reads are deltas.
    const initialMetrics = new Map<string, unknown[]>();
    for (const { rec, dir } of runs) {
      const pending: unknown[] = [];
      let initial = true;
      const buf: unknown[] = [];
      this.tails.push(
        watchJsonl(path.join(dir, 'metrics.jsonl'), (rows) => {
          if (initial) buf.push(...rows);
          else pending.push(...rows);
        }),
      );
      initial = false;
      initialMetrics.set(rec.id, buf);
      this.timers.push(
        setInterval(() => {
          if (pending.length) this.post({ type: 'metrics', runId: rec.id, batch: rowsToBatch(pending.splice(0)) });
        }, FLUSH_MS),
      );
    }
    if (this.state.view === 'run') {
      const { rec, dir, info } = runs[0];
      const samples = readJsonlFrom(path.join(dir, 'samples.jsonl'), 0);
      this.post({
        type: 'init',
        view: 'run',
        run: info,
        metrics: rowsToBatch(initialMetrics.get(rec.id) ?? []),
        samples: (samples.rows.slice(-MAX_INITIAL_SAMPLES) as Record<string, unknown>[]).filter((r) => typeof r === 'object' && r !== null),
        artifacts: listArtifacts(dir),
      });
      let samplesOffset = samples.offset;
      this.timers.push(
        setInterval(() => {
          const more = readJsonlFrom(path.join(dir, 'samples.jsonl'), samplesOffset);
          samplesOffset = more.offset;
          const rows = more.rows.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null && !Array.isArray(r));
          if (rows.length) this.post({ type: 'samples', runId: rec.id, rows });
        }, 1000),
      );
    } else {
      this.post({ type: 'init', view: 'compare', runs: runs.map((r) => ({ run: r.info, metrics: rowsToBatch(initialMetrics.get(r.rec.id) ?? []) })) });
    }
    // Status, progress, summary and artifacts: re-read run.json while any run is live.
    for (const r of runs) {
      let last = JSON.stringify(r.rec);
      let artifactsCount = -1;
      const poll = () => {
        const rec = readRunRecord(r.dir);
        if (!rec) return;
        const now = JSON.stringify(rec);
        if (now !== last) {
          last = now;
          this.post({ type: 'run', run: { ...r.info, ...toRunInfo(rec), title: r.info.title, keyMetric: r.info.keyMetric, lowerIsBetter: r.info.lowerIsBetter } });
          if (this.state.view === 'run') {
            const items = listArtifacts(r.dir);
            if (items.length !== artifactsCount) {
              artifactsCount = items.length;
              this.post({ type: 'artifacts', runId: rec.id, items });
            }
          }
        }
        if (rec.status !== 'running') clearInterval(timer);
      };
      const timer = setInterval(poll, 1000);
      this.timers.push(timer);
    }
    if (this.state.view === 'run') this.panel.title = runTitle(runs[0].rec.id, runs[0].info.title);
  }

  private stopTails(): void {
    this.tails.forEach((t) => t.close());
    this.timers.forEach((t) => clearInterval(t));
    this.tails = [];
    this.timers = [];
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stopTails();
    this.subs.forEach((s) => s.dispose());
    this.onDispose(this);
  }
}

/** Panel title of a run: "cbo · k5eq" (experiment from the id `<date>-<time>-<experiment>-<tail>`), or its title. */
export function runTitle(runId: string, title?: string): string {
  const parts = runId.split('-');
  const tail = parts.at(-1) ?? runId;
  const experiment = parts.length > 3 ? parts.slice(2, -1).join('-') : 'run';
  return `${title ?? experiment} · ${tail}`;
}

export function isPanelState(v: unknown): v is PanelState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as PanelState;
  return (s.view === 'run' || s.view === 'compare') && Array.isArray(s.runIds) && s.runIds.length > 0 && s.runIds.every((id) => typeof id === 'string');
}

export class RunPanels implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly panels = new Set<RunPanel>();

  constructor(private readonly services: Services) {}

  private attach(panel: vscode.WebviewPanel, state: PanelState): RunPanel {
    const p = new RunPanel(panel, state, this.services, (x) => this.panels.delete(x));
    this.panels.add(p);
    return p;
  }

  open(runId: string): void {
    this.show({ view: 'run', runIds: [runId] }, runTitle(runId));
  }

  compare(runIds: string[]): void {
    this.show({ view: 'compare', runIds }, `Compare ${runIds.length} runs`);
  }

  private show(state: PanelState, title: string): void {
    const key = `${state.view}:${state.runIds.join(',')}`;
    for (const p of this.panels) {
      if (p.key() === key) {
        p.panel.reveal();
        return;
      }
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, title, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [this.services.mediaRoot()],
    });
    panel.iconPath = vscode.Uri.joinPath(this.services.context.extensionUri, 'media', 'icon.svg');
    this.attach(panel, state);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    if (!isPanelState(state)) {
      this.services.log.warn('run panel: could not restore a panel without a valid saved state; closing it');
      panel.dispose();
      return;
    }
    this.attach(panel, state);
  }

  /** Closes panels of a deleted run. */
  closeRun(runId: string): void {
    for (const p of [...this.panels]) if (p.state.runIds.includes(runId)) p.panel.dispose();
  }

  dispose(): void {
    for (const p of [...this.panels]) p.dispose();
  }
}
