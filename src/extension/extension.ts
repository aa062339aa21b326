// Prox Lab's VS Code entry: wires commands, the side bar trees, and the run panels. Activation
// is cheap: nothing of the lab (registry, experiments, onnxruntime) is loaded here; handlers
// import it on first use. The activation time of our code is logged and saved for the e2e test.
import { moduleStart } from './clock';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { MethodsTree } from './methods-tree';
import { ModelsTree } from './models-tree';
import { PANEL_VIEW_TYPE, RunPanels } from './panels';
import { RunsTree } from './runs-tree';
import { Services } from './services';

export interface ActivationTiming {
  /** Evaluating our bundle's modules (after V8 has parsed it). */
  moduleMs: number;
  /** Our activate(). */
  activateMs: number;
  /** moduleMs + activateMs: the time our code takes. */
  totalMs: number;
  /** Between module evaluation and activate(): VS Code preparing the ExtensionContext (not ours). */
  hostWaitMs: number;
}

export function activate(context: vscode.ExtensionContext): { timing: ActivationTiming } {
  const activateStart = performance.now();
  const log = vscode.window.createOutputChannel('Prox Lab', { log: true });
  const services = new Services(context, log);
  const panels = new RunPanels(services);
  const runs = new RunsTree(services);
  const models = new ModelsTree(services);
  const methods = new MethodsTree(services);
  const refreshAll = () => {
    services.fireRunsChanged();
    models.refresh();
    methods.refresh();
  };

  context.subscriptions.push(
    log,
    services,
    panels,
    runs,
    models,
    methods,
    vscode.window.createTreeView('proxlab.runs', { treeDataProvider: runs, canSelectMany: true, showCollapseAll: true }),
    vscode.window.createTreeView('proxlab.models', { treeDataProvider: models }),
    vscode.window.createTreeView('proxlab.methods', { treeDataProvider: methods, showCollapseAll: true }),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, panels),
    ...registerCommands(services, panels, refreshAll),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('proxlab.runsDir')) refreshAll();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => refreshAll()),
    vscode.workspace.onDidChangeWorkspaceFolders(() => refreshAll()),
  );

  const end = performance.now();
  const moduleMs = moduleEnd - moduleStart;
  const activateMs = end - activateStart;
  const timing: ActivationTiming = { moduleMs, activateMs, totalMs: moduleMs + activateMs, hostWaitMs: activateStart - moduleEnd };
  log.info(`activated in ${timing.totalMs.toFixed(1)} ms (module evaluation ${moduleMs.toFixed(1)} ms, activate ${activateMs.toFixed(1)} ms)`);
  // Saved beside the extension's log for the e2e test; written after activation, off its path.
  const logDir = context.logUri.fsPath;
  setTimeout(() => {
    fs.promises
      .mkdir(logDir, { recursive: true })
      .then(() => fs.promises.writeFile(path.join(logDir, 'activation.json'), JSON.stringify(timing)))
      .catch(() => undefined);
  }, 0);
  return { timing };
}

// Last top-level statement: every import above has been evaluated by now.
const moduleEnd = performance.now();

export function deactivate(): void {
  // Runs are child processes recorded on disk; they keep going when the window closes and the
  // run store marks them interrupted if they die. Disposables are released by VS Code.
}
