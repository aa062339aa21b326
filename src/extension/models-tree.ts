// The Models tree: bundled models (shipped in the extension), models trained by runs, and local
// folders from the proxlab.modelFolders setting (plus the workspace's models/ folder when the
// workspace is trusted). "Use as Default Model" sets proxlab.defaultModel.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findModelFolders, findTrainedModels, type ModelFolder, type ModelSource } from './models';
import type { Services } from './services';

export type ModelsNode = { kind: 'group'; source: ModelSource; models: ModelFolder[] } | { kind: 'model'; model: ModelFolder };

const GROUP_LABEL: Record<ModelSource, string> = { bundled: 'Bundled', trained: 'Trained by runs', local: 'Local folders' };

export function listModels(services: Services): ModelFolder[] {
  const bundled = findModelFolders(vscode.Uri.joinPath(services.context.extensionUri, 'models').fsPath, 'bundled', 1);
  const trained = findTrainedModels(services.runsDir());
  const folders = vscode.workspace.getConfiguration('proxlab').get<string[]>('modelFolders', []) ?? [];
  const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const local: ModelFolder[] = [];
  for (const f of folders) {
    if (typeof f !== 'string' || !f.trim()) continue;
    const abs = path.isAbsolute(f) ? f : ws && services.trusted ? path.join(ws, f) : undefined;
    if (abs) local.push(...findModelFolders(abs, 'local', 1));
  }
  if (ws && services.trusted) local.push(...findModelFolders(path.join(ws, 'models'), 'local', 1));
  const seen = new Set<string>();
  return [...bundled, ...trained, ...local].filter((m) => (seen.has(m.path) ? false : (seen.add(m.path), true)));
}

export class ModelsTree implements vscode.TreeDataProvider<ModelsNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<ModelsNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly services: Services) {
    this.subs.push(services.onRunsChanged(() => this.refresh()));
    this.subs.push(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('proxlab') && this.refresh()));
  }

  refresh(): void {
    this.emitter.fire(undefined);
  }

  getChildren(node?: ModelsNode): ModelsNode[] {
    if (node?.kind === 'model') return [];
    if (node?.kind === 'group') return node.models.map((model) => ({ kind: 'model', model }));
    const all = listModels(this.services);
    return (['bundled', 'trained', 'local'] as ModelSource[]).map((source) => ({ kind: 'group', source, models: all.filter((m) => m.source === source) }));
  }

  getTreeItem(node: ModelsNode): vscode.TreeItem {
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(GROUP_LABEL[node.source], node.models.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
      item.id = `models:${node.source}`;
      item.description = node.models.length ? String(node.models.length) : 'none';
      return item;
    }
    const m = node.model;
    const item = new vscode.TreeItem(m.name, vscode.TreeItemCollapsibleState.None);
    item.id = `model:${m.path}`;
    const isDefault = this.services.defaultModel() === m.path;
    item.description = [m.modelType, isDefault ? 'default' : ''].filter(Boolean).join(' · ');
    item.tooltip = m.path;
    item.iconPath = new vscode.ThemeIcon(isDefault ? 'star-full' : 'symbol-misc');
    item.contextValue = 'proxlab.model';
    item.resourceUri = vscode.Uri.file(m.path);
    return item;
  }

  dispose(): void {
    this.subs.forEach((s) => s.dispose());
    this.emitter.dispose();
  }
}
