// The Methods tree: the 41 papers of shared/METHODS.md, each with its method ids and their
// status (not yet / runs / claim reproduced / claim failed). Loading it needs the registry, so
// it is built on first expansion, never at activation.
import * as vscode from 'vscode';
import type { ClaimRecord, MethodEntry, MethodStatus } from '../lab/runs/methods';
import { lab } from './lab';
import type { Services } from './services';

export type MethodsNode = { kind: 'paper'; entry: MethodEntry; statuses: MethodStatus[] } | { kind: 'method'; id: string; status: MethodStatus; claim?: ClaimRecord; title?: string };

const ICONS: Record<MethodStatus, { icon: string; color?: string }> = {
  'not yet': { icon: 'circle-outline', color: 'disabledForeground' },
  runs: { icon: 'play-circle', color: 'charts.blue' },
  'claim reproduced': { icon: 'verified-filled', color: 'testing.iconPassed' },
  'claim failed': { icon: 'error', color: 'testing.iconFailed' },
};

/** A paper's overall status: its best method's. */
export function paperStatus(statuses: MethodStatus[]): MethodStatus {
  const order: MethodStatus[] = ['claim reproduced', 'claim failed', 'runs', 'not yet'];
  return order.find((s) => statuses.includes(s)) ?? 'not yet';
}

export class MethodsTree implements vscode.TreeDataProvider<MethodsNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<MethodsNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly services: Services) {}

  refresh(): void {
    this.emitter.fire(undefined);
  }

  async getChildren(node?: MethodsNode): Promise<MethodsNode[]> {
    const [{ METHODS, methodStatus }, { readClaims }, registry] = await Promise.all([lab.methods(), lab.claims(), lab.registry()]);
    const exps = new Map(registry.listExperiments().map((e) => [e.id, e]));
    const registered = new Set(exps.keys());
    const claims = readClaims(this.services.runsDir());
    const methodNodes = (entry: MethodEntry): MethodsNode[] =>
      entry.ids.map((id) => ({ kind: 'method', id, status: methodStatus(id, registered, claims), claim: claims[id], title: exps.get(id)?.title }));
    if (!node) return METHODS.map((entry) => ({ kind: 'paper', entry, statuses: methodNodes(entry).map((m) => (m as { status: MethodStatus }).status) }));
    if (node.kind === 'paper') return methodNodes(node.entry);
    return [];
  }

  getTreeItem(node: MethodsNode): vscode.TreeItem {
    if (node.kind === 'paper') {
      const status = paperStatus(node.statuses);
      const item = new vscode.TreeItem(`${node.entry.n}. ${node.entry.paper}`, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `paper:${node.entry.n}`;
      item.description = status;
      item.tooltip = `${node.entry.paper}\nkind: ${node.entry.kind} · spec: ${node.entry.spec}\nmethods: ${node.entry.ids.join(', ')}`;
      const i = ICONS[status];
      item.iconPath = new vscode.ThemeIcon(i.icon, i.color ? new vscode.ThemeColor(i.color) : undefined);
      return item;
    }
    const item = new vscode.TreeItem(node.id, vscode.TreeItemCollapsibleState.None);
    item.id = `method:${node.id}`;
    item.description = node.claim ? `${node.status} · ${node.claim.summary}` : node.status;
    item.tooltip = [node.title ?? node.id, node.status, node.claim ? `${node.claim.form} claim check, ${node.claim.at}: ${node.claim.summary}` : ''].filter(Boolean).join('\n');
    const i = ICONS[node.status];
    item.iconPath = new vscode.ThemeIcon(i.icon, i.color ? new vscode.ThemeColor(i.color) : undefined);
    item.contextValue = node.status === 'not yet' ? 'proxlab.method.missing' : 'proxlab.method';
    if (node.status !== 'not yet') item.command = { command: 'proxlab.newExperiment', title: 'New Experiment', arguments: [node.id] };
    return item;
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
