// The Runs tree: runs grouped by experiment, newest first, with live status icons. It refreshes
// when a run.json changes under the runs folder (file watcher) and, while a run is live, on a
// short timer (progress in the description).
import * as vscode from 'vscode';
import type { RunRecord } from '../lab/runs/store';
import { headline, shortDate, statusIcon } from './format';
import type { Services } from './services';

export type RunsNode = { kind: 'experiment'; experiment: string; runs: RunRecord[] } | { kind: 'run'; run: RunRecord };

/** Groups runs (newest first) by experiment; groups ordered by their newest run. */
export function groupRuns(runs: RunRecord[]): { experiment: string; runs: RunRecord[] }[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const g = groups.get(r.experiment);
    if (g) g.push(r);
    else groups.set(r.experiment, [r]);
  }
  return [...groups].map(([experiment, rs]) => ({ experiment, runs: rs }));
}

/** contextValue of a run item: menus show Stop only for live runs. */
export function runContext(r: RunRecord): string {
  return r.status === 'running' ? 'proxlab.run.live' : 'proxlab.run.done';
}

export function runDescription(r: RunRecord): string {
  if (r.status === 'running') {
    return r.progress ? `running ${r.progress.step}/${r.progress.total}` : 'running';
  }
  const h = headline(r.summary, undefined);
  return [r.status, h].filter(Boolean).join(' · ');
}

export class RunsTree implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private runs: RunRecord[] = [];
  private watcher: vscode.FileSystemWatcher | undefined;
  private watchedDir = '';
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly services: Services) {
    this.subs.push(services.onRunsChanged(() => this.refreshSoon()));
  }

  refreshSoon(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.emitter.fire(undefined);
    }, 250);
  }

  private ensureWatcher(dir: string): void {
    if (dir === this.watchedDir) return;
    this.watcher?.dispose();
    this.watchedDir = dir;
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), '*/*/run.json'));
    this.watcher.onDidCreate(() => this.refreshSoon());
    this.watcher.onDidChange(() => this.refreshSoon());
    this.watcher.onDidDelete(() => this.refreshSoon());
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (node?.kind === 'run') return [];
    if (node?.kind === 'experiment') return node.runs.map((run) => ({ kind: 'run', run }));
    this.ensureWatcher(this.services.runsDir());
    try {
      this.runs = await this.services.listRuns();
    } catch (e) {
      this.services.log.error(`cannot list runs in ${this.services.runsDir()}: ${(e as Error).message}`);
      this.runs = [];
    }
    // A live run rewrites run.json with its progress; poll while any is live as a backup for the watcher.
    const live = this.runs.some((r) => r.status === 'running');
    if (live && !this.timer) this.timer = setInterval(() => this.emitter.fire(undefined), 2000);
    if (!live && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    return groupRuns(this.runs).map((g) => ({ kind: 'experiment', experiment: g.experiment, runs: g.runs }));
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === 'experiment') {
      const item = new vscode.TreeItem(node.experiment, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `exp:${node.experiment}`;
      item.description = `${node.runs.length} run${node.runs.length === 1 ? '' : 's'}`;
      item.iconPath = new vscode.ThemeIcon('beaker');
      item.contextValue = 'proxlab.experiment';
      return item;
    }
    const r = node.run;
    const item = new vscode.TreeItem(shortDate(r.createdAt), vscode.TreeItemCollapsibleState.None);
    item.id = `run:${r.id}`;
    item.description = runDescription(r);
    const icon = statusIcon(r.status);
    item.iconPath = new vscode.ThemeIcon(icon.icon, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${r.experiment}** · \`${r.id}\`\n\n`);
    md.appendMarkdown(`status: ${r.status} · task: ${r.task} · seed: ${r.seed} · device: ${r.device}\n\n`);
    if (r.error) md.appendCodeblock(r.error.slice(0, 500), 'text');
    item.tooltip = md;
    item.contextValue = runContext(r);
    item.command = { command: 'proxlab.openRun', title: 'Open Run', arguments: [r.id] };
    return item;
  }

  /** Runs as listed by the last refresh (for pickers that want no extra disk scan). */
  lastRuns(): RunRecord[] {
    return this.runs;
  }

  dispose(): void {
    this.watcher?.dispose();
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    this.subs.forEach((s) => s.dispose());
    this.emitter.dispose();
  }
}

/** The run id carried by a command argument: a tree node, a run record or an id string. */
export function runIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object') {
    const a = arg as { kind?: string; run?: { id?: unknown }; id?: unknown };
    if (a.kind === 'run' && typeof a.run?.id === 'string') return a.run.id;
    if (typeof a.id === 'string') return a.id;
  }
  return undefined;
}
